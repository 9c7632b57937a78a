"""1. Cold start over stdio: spawn -> first tools/list answered, piggy-mcp vs a bare MCPServer with one tool.

Both servers are spawned by the official MCP client exactly as a desktop client spawns them, alternately so drift
hits both alike, each from an empty working directory, with Piggy a stub on 127.0.0.1. The same run measures the
size of piggy-mcp's default tools/list (compact JSON per tool, as a client receives it). For a missed target, a
`-X importtime` pass shows what piggy-mcp loads beyond the bare server, and in-process phases split its start-up.
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
from typing import Any, TextIO

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

TARGET_RATIO = 1.3
TARGET_BYTES_PER_TOOL = 1_000
MAX_PAGES = 50  # tools/list pages followed before giving up on a server that never stops paginating
PIGGY_ARGS = ["-m", "piggy_mcp"]
BARE_ARGS = [str(BENCH_DIR / "bare_server.py")]
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def stdio_client_for(args: list[str], env: dict[str, str], cwd: str, mode: str, errlog: TextIO) -> Client:
    params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=cwd)
    return Client(stdio_client(params, errlog=errlog), mode=mode)


async def time_to_tools(args: list[str], env: dict[str, str], cwd: str, mode: str, errlog: TextIO) -> tuple[float, int]:
    """(Seconds from spawning the server to its first tools/list answer, tools listed); shutdown not included."""
    started = time.perf_counter()
    async with stdio_client_for(args, env, cwd, mode, errlog) as client:
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


async def served_tools(env: dict[str, str], cwd: str, mode: str, errlog: TextIO) -> list[dict[str, Any]]:
    """piggy-mcp's whole tools/list as JSON on the wire (camelCase, unset fields left out), across pages."""
    tools: list[dict[str, Any]] = []
    async with stdio_client_for(PIGGY_ARGS, env, cwd, mode, errlog) as client:
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            tools.extend(tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return tools
    raise RuntimeError(f"tools/list still paginating after {MAX_PAGES} pages")


def compact_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def report_listing_size(tools: list[dict[str, Any]]) -> float:
    """Print the listing's size and its largest tools; return the average bytes per tool."""
    total = compact_size(tools)
    per_tool = total / len(tools) if tools else float("nan")
    print(f"\ntools/list, default configuration: {len(tools)} tools, {total:,} bytes, {per_tool:,.0f} bytes per tool")
    largest = sorted(((compact_size(tool), tool["name"]) for tool in tools), reverse=True)[:5]
    print_table(["largest tools", "bytes"], [[name, size] for size, name in largest])
    return per_tool


# Where the time goes ----------------------------------------------------------------------------------------


async def imported_modules(args: list[str], env: dict[str, str], cwd: str, mode: str) -> dict[str, int]:
    """Module -> self import time (us) of one real stdio start, from `python -X importtime`."""
    with tempfile.TemporaryFile("w+") as log:
        await time_to_tools(["-X", "importtime", *args], env, cwd, mode, log)
        log.seek(0)
        return {m.group(2): int(m.group(1)) for line in log if (m := IMPORT_LINE.match(line))}


def report_imports(piggy: dict[str, int], bare: dict[str, int]) -> None:
    """Print what piggy-mcp imports beyond the bare server, by top-level package."""
    extra = {module: us for module, us in piggy.items() if module not in bare}
    by_package = Counter[str]()
    for module, us in extra.items():
        by_package[module.split(".", 1)[0]] += us
    # -X importtime inflates every figure: compare within the column, not with the timed starts.
    print(f"\nModules piggy-mcp loads beyond the bare server: {len(extra)}, {sum(extra.values()) / 1000:.1f} ms")
    print_table(["package", "import ms"], [[pkg, us / 1000] for pkg, us in by_package.most_common(10)])


# Run in a fresh interpreter so that every import is paid, as in a real start.
PHASES_CODE = """
import json, time, anyio
t = [time.perf_counter()]
import mcp.server; from mcp import Client; t.append(time.perf_counter())
from piggy_mcp.server import build_server; from piggy_mcp.config import Settings; t.append(time.perf_counter())
settings = Settings(api_key="bench-key", base_url="http://127.0.0.1:9", _env_file=None); t.append(time.perf_counter())
server = build_server(settings); t.append(time.perf_counter())
from bare_server import build_bare_server; bare = build_bare_server(); t.append(time.perf_counter())
async def first_listing(server):
    async with Client(server, mode="legacy") as c:
        started = time.perf_counter(); await c.list_tools(cache_mode="bypass"); return time.perf_counter() - started
piggy_list = anyio.run(first_listing, server); bare_list = anyio.run(first_listing, bare)
d = [b - a for a, b in zip(t, t[1:])]
print(json.dumps({"import mcp SDK (shared)": d[0], "import piggy_mcp.server, .config": d[1], "Settings()": d[2],
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
    with stub_piggy() as (base_url, _), tempfile.TemporaryDirectory() as cwd:
        env = server_env(base_url)
        times, tools = await measure(runs, mode, env, cwd, devnull)
        listing = await served_tools(env, cwd, mode, devnull)
        piggy_modules = await imported_modules(PIGGY_ARGS, env, cwd, mode)
        bare_modules = await imported_modules(BARE_ARGS, env, cwd, mode)
        phase_times = phases(3 if runs >= 10 else 1, cwd)
    floor, ours = median(times["bare"]), median(times["piggy"])
    print(f"Cold start over stdio, spawn -> first tools/list answered ({runs} runs each, client mode={mode!r})")
    print_table(
        ["server", "median s", "min s", "max s", "ratio"],
        [
            [f"bare MCPServer, {tools['bare']} tool (reference)", floor, min(times["bare"]), max(times["bare"]), 1.0],
            [
                f"python -m piggy_mcp, {tools['piggy']} tools",
                ours,
                min(times["piggy"]),
                max(times["piggy"]),
                ratio(ours, floor),
            ],
        ],
    )
    per_tool = report_listing_size(listing)
    report_imports(piggy_modules, bare_modules)
    print("\nStart-up phases inside one process (median, ms):")
    print_table(["phase", "ms"], [[name, 1000 * seconds] for name, seconds in phase_times.items()])
    verdict(
        "cold_start",
        ratio(ours, floor) <= TARGET_RATIO,
        f"median {ours:.3f}s vs bare {floor:.3f}s = {ratio(ours, floor):.2f}x (target <= {TARGET_RATIO}x)",
    )
    verdict(
        "tools_list_size",
        per_tool <= TARGET_BYTES_PER_TOOL,
        f"default listing {per_tool:,.0f} bytes per tool over {len(listing)} tools "
        f"(target <= {TARGET_BYTES_PER_TOOL:,})",
    )


def main() -> None:
    parser = arg_parser(__doc__ or "")
    parser.add_argument("--runs", type=int, default=None, help="runs per server (default 30, --quick 3)")
    parser.add_argument("--mode", default="legacy", help="client mode: legacy (what desktop clients speak) or auto")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 30)
    with open(os.devnull, "w") as devnull:  # the servers' stderr
        anyio.run(main_async, runs, args.mode, devnull)


if __name__ == "__main__":
    main()
