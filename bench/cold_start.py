"""1. Cold start over stdio: spawn -> first tools/list answered, piggy-mcp vs a bare MCPServer (the floor).

Both servers are spawned by the official MCP client exactly as a desktop client spawns them, alternately so drift
hits both alike, each from an empty working directory. Piggy is a stub on 127.0.0.1 that must see no request:
start-up may not touch the network. A second pass with `-X importtime` shows which modules piggy-mcp loads beyond
the floor, and a third splits piggy-mcp's own start-up into phases inside one process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import TextIO

import anyio
from common import (
    BENCH_DIR,
    arg_parser,
    median,
    print_table,
    ratio,
    server_env,
    stub_piggy,
    verdict,
)
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

TARGET_RATIO = 1.15
PIGGY_ARGS = ["-m", "piggy_mcp"]
BARE_ARGS = [str(BENCH_DIR / "bare_server.py")]
# Only the HTTP transport may need these; the sandbox never belongs in a stdio server.
FORBIDDEN_PREFIXES = ("uvicorn", "starlette", "sse_starlette")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


async def time_to_tools(args: list[str], env: dict[str, str], cwd: str, mode: str, errlog: TextIO) -> tuple[float, int]:
    """(Seconds from spawning the server to its first tools/list answer, tools listed); shutdown not included."""
    params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=cwd)
    started = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
        listing = await client.list_tools(cache_mode="bypass")
        elapsed = time.perf_counter() - started
    if not listing.tools:
        raise RuntimeError(f"{args} listed no tools")
    return elapsed, len(listing.tools)


async def measure(
    runs: int, mode: str, env: dict[str, str], cwd: str, devnull: TextIO
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Start-up seconds per server, alternating servers; and how many tools each listed."""
    times: dict[str, list[float]] = {"bare": [], "piggy": []}
    tools: dict[str, int] = {}
    # One discarded run each: writes .pyc files and warms the page cache for both alike.
    for _ in range(runs + 1):
        for name, args in (("piggy", PIGGY_ARGS), ("bare", BARE_ARGS)):
            seconds, tools[name] = await time_to_tools(args, env, cwd, mode, devnull)
            times[name].append(seconds)
    return {name: samples[1:] for name, samples in times.items()}, tools


# Where the time goes ----------------------------------------------------------------------------------------


async def imported_modules(args: list[str], env: dict[str, str], cwd: str, mode: str) -> dict[str, int]:
    """Module -> self import time (us) of one real stdio start, from `python -X importtime`."""
    with tempfile.TemporaryFile("w+") as log:
        await time_to_tools(["-X", "importtime", *args], env, cwd, mode, log)
        log.seek(0)
        return {m.group(2): int(m.group(1)) for line in log if (m := IMPORT_LINE.match(line))}


def top_level_package(module: str) -> str:
    return module.split(".", 1)[0]


def report_imports(piggy: dict[str, int], bare: dict[str, int]) -> bool:
    """Print what piggy-mcp imports beyond the floor; True if nothing forbidden is among it."""
    extra = {module: us for module, us in piggy.items() if module not in bare}
    by_package = Counter[str]()
    for module, us in extra.items():
        by_package[top_level_package(module)] += us
    forbidden = sorted(m for m in extra if m.startswith(FORBIDDEN_PREFIXES) or "sandbox" in m)
    sdk_loads_uvicorn = any(top_level_package(m) == "uvicorn" for m in bare)
    print("\nImports (self time, one -X importtime run each; importtime inflates times, compare within the column):")
    print_table(
        ["server", "modules", "import ms"],
        [["bare floor", len(bare), sum(bare.values()) / 1000], ["piggy-mcp", len(piggy), sum(piggy.values()) / 1000]],
    )
    print(f"\nModules piggy-mcp loads beyond the floor: {len(extra)}, {sum(extra.values()) / 1000:.1f} ms self time")
    print_table(["package", "ms"], [[pkg, us / 1000] for pkg, us in by_package.most_common(10)])
    print(
        f"uvicorn already loaded by the bare SDK floor (via mcp.server.streamable_http -> sse_starlette): "
        f"{'yes' if sdk_loads_uvicorn else 'no'}"
    )
    print(f"forbidden modules (uvicorn/starlette/sandbox) beyond the floor: {forbidden or 'none'}")
    return not forbidden


PHASES_CODE = """
import json, time, anyio
t = [time.perf_counter()]
import mcp.server; from mcp import Client; t.append(time.perf_counter())
from piggy_mcp import cli, server as s; from piggy_mcp.config import Settings; t.append(time.perf_counter())
settings = Settings(api_key="bench-key", base_url="http://127.0.0.1:9", _env_file=None); t.append(time.perf_counter())
srv = s.build_server(settings); t.append(time.perf_counter())
from bare_server import build_bare_server; bare = build_bare_server(); t.append(time.perf_counter())
async def first_listing(server):
    async with Client(server, mode="legacy") as c:
        started = time.perf_counter(); await c.list_tools(cache_mode="bypass"); return time.perf_counter() - started
piggy_list = anyio.run(first_listing, srv); bare_list = anyio.run(first_listing, bare)
d = [b - a for a, b in zip(t, t[1:])]
print(json.dumps({"import mcp SDK (shared)": d[0], "import piggy_mcp": d[1], "Settings()": d[2],
                  "build_server()": d[3], "bare server build (1 tool)": d[4],
                  "first tools/list, piggy (in process)": piggy_list,
                  "first tools/list, bare (in process)": bare_list}))
"""


def phases(runs: int, cwd: str) -> dict[str, float]:
    """Median seconds of each start-up phase, each run in a fresh interpreter."""
    env = {**server_env("http://127.0.0.1:9"), "PYTHONPATH": str(BENCH_DIR)}
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PHASES_CODE],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for name, seconds in json.loads(out).items():
            samples.setdefault(name, []).append(seconds)
    return {name: median(values) for name, values in samples.items()}


# Main -------------------------------------------------------------------------------------------------------


async def main_async(runs: int, mode: str, devnull: TextIO) -> None:
    with stub_piggy() as (base_url, stub), tempfile.TemporaryDirectory() as cwd:
        env = server_env(base_url)
        times, tools = await measure(runs, mode, env, cwd, devnull)
        piggy_modules = await imported_modules(PIGGY_ARGS, env, cwd, mode)
        bare_modules = await imported_modules(BARE_ARGS, env, cwd, mode)
        phase_times = phases(3 if runs >= 10 else 1, cwd)
    floor, ours = median(times["bare"]), median(times["piggy"])
    print(f"Cold start over stdio, spawn -> first tools/list answered ({runs} runs each, client mode={mode!r})")
    print_table(
        ["server", "median s", "min s", "max s", "ratio"],
        [
            [f"bare MCPServer, {tools['bare']} tool (floor)", floor, min(times["bare"]), max(times["bare"]), 1.0],
            [
                f"python -m piggy_mcp, {tools['piggy']} tools",
                ours,
                min(times["piggy"]),
                max(times["piggy"]),
                ratio(ours, floor),
            ],
        ],
    )
    print(f"piggy-mcp takes {1000 * (ours - floor):.0f} ms longer than the floor")
    clean_imports = report_imports(piggy_modules, bare_modules)
    print("\nStart-up phases inside one process (median, ms):")
    print_table(["phase", "ms"], [[name, 1000 * seconds] for name, seconds in phase_times.items()])
    print(f"\nrequests to Piggy during all starts and listings: {stub.requests} (must be 0)")
    passed = ratio(ours, floor) <= TARGET_RATIO
    verdict(
        "cold_start",
        passed,
        f"median {ours:.3f}s vs floor {floor:.3f}s = {ratio(ours, floor):.3f}x (target <= {TARGET_RATIO}x)",
    )
    verdict(
        "startup_imports",
        clean_imports and stub.requests == 0,
        f"no uvicorn/starlette/sandbox beyond the SDK, {stub.requests} upstream requests before the first tool call",
    )


def main() -> None:
    parser = arg_parser(__doc__ or "")
    parser.add_argument("--runs", type=int, default=None, help="runs per server (default 30, --quick 3)")
    parser.add_argument("--mode", default="legacy", help="client mode: legacy (what desktop clients speak) or auto")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 30)
    with open(os.devnull, "w") as devnull:  # the servers' stderr during timed runs
        anyio.run(main_async, runs, args.mode, devnull)


if __name__ == "__main__":
    main()
