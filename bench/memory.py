"""4. Memory: resident size after start and after 10,000 calls, piggy-mcp vs a bare MCPServer echo tool.

Growth is measured in process (MockTransport for Piggy): each server in its own fresh interpreter together with
the official client, RSS and the count of live Python objects read after a full GC every 1,000 calls. Growth is
counted from the 1,000th call on, when caches and allocator pools have filled. The size after start of the real
server process is measured too: `python -m piggy_mcp` over stdio, after its first tools/list, from /proc.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
from typing import Any

import anyio
from bare_server import build_bare_server
from common import (
    BENCH_DIR,
    ECHO_ARGS,
    ECHO_TOOL,
    READ_ARGS,
    READ_TOOL,
    arg_parser,
    child_pids,
    median,
    mock_transport,
    piggy_server,
    print_table,
    quiet_logging,
    ratio,
    rss_mib,
    server_env,
    stub_piggy,
    verdict,
)
from mcp import Client, StdioServerParameters

NOISE_MIB = 1.0  # growth allowed beyond the bare server's: allocator and RSS granularity
CHECKPOINT = 1000
STDIO_ARGS = {"piggy": ["-m", "piggy_mcp"], "bare": [str(BENCH_DIR / "bare_server.py")]}


# Child: one server, in process ------------------------------------------------------------------------------


def snapshot() -> tuple[float, int]:
    gc.collect()
    return rss_mib(), len(gc.get_objects())


async def child(kind: str, calls: int) -> dict[str, Any]:
    """RSS and live objects after start and every CHECKPOINT calls, for one server kind."""
    if kind == "piggy":
        server, tool, args = piggy_server(transport=mock_transport()), READ_TOOL, READ_ARGS
    else:
        server, tool, args = build_bare_server(), ECHO_TOOL, ECHO_ARGS
    checkpoints: list[tuple[int, float, int]] = []
    errors = 0
    async with Client(server) as client:
        await client.list_tools()
        checkpoints.append((0, *snapshot()))
        for done in range(1, calls + 1):
            errors += (await client.call_tool(tool, args)).is_error
            if done % CHECKPOINT == 0:
                checkpoints.append((done, *snapshot()))
    return {"checkpoints": checkpoints, "errors": errors}


def run_child(kind: str, calls: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--calls", str(calls)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


# Parent -----------------------------------------------------------------------------------------------------


async def stdio_start_rss(kind: str, env: dict[str, str], cwd: str) -> float:
    """RSS (MiB) of a stdio server process once it has answered its first tools/list."""
    params = StdioServerParameters(command=sys.executable, args=STDIO_ARGS[kind], env=env, cwd=cwd)
    async with Client(params, mode="legacy") as client:
        await client.list_tools(cache_mode="bypass")
        pids = child_pids()
        if len(pids) != 1:
            raise RuntimeError(f"expected one server process, found {pids}")
        return rss_mib(pids[0])


def growth(checkpoints: list[list[float]]) -> tuple[float, int]:
    """(RSS MiB, objects) gained from the first post-warm-up checkpoint to the last."""
    warm = next(point for point in checkpoints if point[0] >= CHECKPOINT)
    last = checkpoints[-1]
    return last[1] - warm[1], int(last[2] - warm[2])


async def main_async(calls: int, stdio_runs: int) -> None:
    with stub_piggy() as (base_url, _), tempfile.TemporaryDirectory() as cwd:
        env = server_env(base_url)
        start = {
            kind: median([await stdio_start_rss(kind, env, cwd) for _ in range(stdio_runs)]) for kind in STDIO_ARGS
        }
    print(f"Resident size of the stdio server process after its first tools/list (median of {stdio_runs})")
    print_table(
        ["server", "RSS MiB", "ratio"],
        [
            ["bare MCPServer (reference)", start["bare"], 1.0],
            ["python -m piggy_mcp", start["piggy"], ratio(start["piggy"], start["bare"])],
        ],
    )

    results = {kind: run_child(kind, calls) for kind in ("bare", "piggy")}
    print(f"\nIn process (server + client, MockTransport), RSS MiB / live objects every {CHECKPOINT} calls")
    rows = []
    for kind, label in (("bare", "bare echo (reference)"), ("piggy", f"piggy-mcp {READ_TOOL}")):
        points = results[kind]["checkpoints"]
        rss_growth, object_growth = growth(points)
        rows.append([label, points[0][1], points[-1][1], rss_growth, object_growth, results[kind]["errors"]])
    print_table(
        ["server", "RSS start", f"RSS @{calls}", f"growth {CHECKPOINT}->{calls}", "objects growth", "errors"], rows
    )
    for kind in ("bare", "piggy"):
        trend = ", ".join(f"{int(p[0])}: {p[1]:.1f}" for p in results[kind]["checkpoints"])
        print(f"trend, {kind} (calls: RSS MiB): {trend}")

    bare_growth, piggy_growth = rows[0][3], rows[1][3]
    passed = piggy_growth <= bare_growth + NOISE_MIB and rows[1][5] == 0
    verdict(
        "memory",
        passed,
        f"RSS growth over {calls} calls {piggy_growth:+.2f} MiB vs bare {bare_growth:+.2f} MiB "
        f"(target: within {NOISE_MIB} MiB of bare); start RSS {start['piggy']:.1f} vs {start['bare']:.1f} MiB "
        f"= {ratio(start['piggy'], start['bare']):.2f}x",
    )


def main() -> None:
    parser = arg_parser(__doc__ or "")
    parser.add_argument("--calls", type=int, default=None, help="calls per server (default 10000, --quick 2000)")
    parser.add_argument("--child", choices=("piggy", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls = args.calls or (2000 if args.quick else 10_000)
    quiet_logging()
    if args.child:
        print(json.dumps(anyio.run(child, args.child, calls)))
    else:
        anyio.run(main_async, calls, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
