"""3. Streamable HTTP under load: 50 concurrent client sessions on loopback, piggy-mcp vs a bare MCPServer echo tool.

Each server runs as its own process(es) from bench/http_worker.py (uvicorn, Piggy replaced by a zero-latency
MockTransport inside the worker). "Two workers" means two server processes on two ports with the 50 sessions spread
evenly across them: simple, and no uvicorn --workers socket sharing to reason about.

Both servers run side by side, each with its 50 official MCP client sessions open in this process. Only one server
is loaded at a time: short measurement windows alternate between them many times, so bursts of background load on
the machine hit both alike. Inside a window every session of the loaded server calls back to back; calls that start
and finish inside it count. Server CPU per call (from /proc) measures what a call costs the server whatever limits
the throughput.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from common import (
    BENCH_DIR,
    ECHO_ARGS,
    ECHO_TOOL,
    READ_ARGS,
    READ_TOOL,
    arg_parser,
    cpu_seconds,
    free_port,
    percentile,
    print_table,
    ratio,
    verdict,
)
from mcp import Client

SESSIONS = 50
TARGET_THROUGHPUT_RATIO = 0.8
READY_DEADLINE = 60.0  # seconds for workers to listen and sessions to open on a loaded 2-core machine
STOP_DEADLINE = 10.0
CALL_DEADLINE = 30.0  # seconds a window's last calls may take after it closes
SATURATED_PERCENT = 80.0  # load generator CPU above which it, not the server, limits throughput
TOOLS = {"piggy": (READ_TOOL, READ_ARGS), "bare": (ECHO_TOOL, ECHO_ARGS)}
KINDS = ("bare", "piggy")
WORKER_COUNTS = (1, 2)


@dataclass(frozen=True)
class Timing:
    rounds: int  # measured windows per server and worker count, alternating which server goes first
    warmup: float  # seconds of one unmeasured window per server: first-call paths, caches, pools
    window: float  # seconds per measured window


@dataclass
class Load:
    """One server's measurements, summed over its measured windows."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    calls_for_cpu: int = 0  # every successful call of a measured window, including the tail after it closes
    errors: int = 0
    first_error: str = ""
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def error(self, text: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or text

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    @property
    def cpu_ms_per_call(self) -> float:
        return 1e3 * self.server_cpu / self.calls_for_cpu if self.calls_for_cpu else float("nan")

    @property
    def client_percent(self) -> float:
        return 100 * self.client_cpu / self.seconds if self.seconds else float("nan")


@dataclass
class Window:
    start: float
    end: float
    measured: bool


@dataclass
class Fleet:
    """The client sessions of one server; they call only while their fleet has a window open."""

    kind: str
    pids: list[int]
    load: Load = field(default_factory=Load)
    window: Window | None = None  # None once the fleet is told to close
    go: anyio.Event = field(default_factory=anyio.Event)
    idle: anyio.Event = field(default_factory=anyio.Event)
    opened: int = 0
    settled: int = 0  # sessions opened or failed to open
    ready: anyio.Event = field(default_factory=anyio.Event)  # set once every session has settled
    busy: int = 0

    def settle(self, opened: bool) -> None:
        self.opened += opened
        self.settled += 1
        if self.settled == SESSIONS:
            self.ready.set()


# Server processes -------------------------------------------------------------------------------------------


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"worker on port {port} not listening after {READY_DEADLINE}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a worker this benchmark started; SIGKILL its own process group if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_DEADLINE)


@contextmanager
def workers(kinds: list[str], logdir: str) -> Iterator[list[tuple[int, int]]]:
    """Start one server process per entry of `kinds`, all at once; yields [(pid, port)] in the same order."""
    started: list[tuple[subprocess.Popen[bytes], int, Path]] = []
    try:
        for index, kind in enumerate(kinds):
            port, log = free_port(), Path(logdir) / f"{kind}-{index}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, str(BENCH_DIR / "http_worker.py"), kind, str(port)],
                    cwd=logdir,  # no developer .env file
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
            started.append((process, port, log))
        deadline = time.monotonic() + READY_DEADLINE
        for process, port, log in started:
            wait_until_listening(process, port, log, deadline)
        yield [(process.pid, port) for process, port, _ in started]
    finally:
        for process, _, _ in started:
            stop(process)


# Load -------------------------------------------------------------------------------------------------------


async def calls_in_window(client: Client, tool: str, args: dict[str, Any], window: Window, load: Load) -> None:
    while (started := time.perf_counter()) < window.end:
        try:
            result = await client.call_tool(tool, args)
        except Exception as exc:  # count and carry on: one failure must not end the session
            load.error(f"{type(exc).__name__}: {exc}")
            continue
        finished = time.perf_counter()
        if result.is_error:
            load.error(str(result.content)[:200])
        elif window.measured:
            load.calls_for_cpu += 1
            if finished <= window.end:
                load.latencies.append(finished - started)


def leave_window(fleet: Fleet) -> None:
    fleet.busy -= 1
    if fleet.busy == 0:
        fleet.idle.set()


async def next_window(fleet: Fleet) -> Window | None:
    await fleet.go.wait()
    return fleet.window


async def session(fleet: Fleet, url: str, mode: str) -> None:
    """One client session: open, list tools, then call through every window its fleet gets."""
    tool, args = TOOLS[fleet.kind]
    opened = False
    try:
        async with Client(url, mode=mode) as client:
            await client.list_tools()
            opened = True
            fleet.settle(opened=True)
            while (window := await next_window(fleet)) is not None:
                try:
                    await calls_in_window(client, tool, args, window, fleet.load)
                finally:
                    leave_window(fleet)
    except Exception as exc:
        fleet.load.error(f"session: {type(exc).__name__}: {exc}")
        if opened:
            fleet.opened -= 1  # later windows must not wait for a session that is gone
        else:
            fleet.settle(opened=False)


async def run_window(fleet: Fleet, seconds: float, measured: bool) -> None:
    """Open a window for `fleet` alone and wait until all its sessions have finished their last call."""
    server0, client0 = sum(map(cpu_seconds, fleet.pids)), sum(os.times()[:2])
    start = time.perf_counter()
    fleet.window = Window(start, start + seconds, measured)
    fleet.busy, fleet.idle = fleet.opened, anyio.Event()
    release, fleet.go = fleet.go, anyio.Event()  # sessions finishing this window wait on the new event
    release.set()
    if fleet.busy:
        with anyio.fail_after(seconds + CALL_DEADLINE):
            await fleet.idle.wait()
    if measured:
        load = fleet.load
        load.seconds += seconds
        load.server_cpu += sum(map(cpu_seconds, fleet.pids)) - server0
        load.client_cpu += sum(os.times()[:2]) - client0


async def wait_for_sessions(fleets: list[Fleet]) -> None:
    with anyio.fail_after(READY_DEADLINE):
        for fleet in fleets:
            await fleet.ready.wait()


async def compare(count: int, mode: str, timing: Timing, logdir: str) -> dict[str, Load]:
    """Bare and piggy-mcp with `count` workers each, measured in alternating windows."""
    with workers([kind for kind in KINDS for _ in range(count)], logdir) as procs:
        fleets = [Fleet(kind, [pid for pid, _ in procs[i * count : (i + 1) * count]]) for i, kind in enumerate(KINDS)]
        async with anyio.create_task_group() as tg:
            for index, fleet in enumerate(fleets):
                ports = [port for _, port in procs[index * count : (index + 1) * count]]
                for number in range(SESSIONS):
                    tg.start_soon(session, fleet, f"http://127.0.0.1:{ports[number % count]}/mcp", mode)
            await wait_for_sessions(fleets)
            for fleet in fleets:
                await run_window(fleet, timing.warmup, measured=False)
            for round_ in range(timing.rounds):
                for fleet in fleets if round_ % 2 == 0 else fleets[::-1]:
                    await run_window(fleet, timing.window, measured=True)
            for fleet in fleets:
                fleet.window = None
                fleet.go.set()
    return {fleet.kind: fleet.load for fleet in fleets}


# Report -----------------------------------------------------------------------------------------------------


def row(label: str, load: Load, reference: Load) -> list[object]:
    return [
        label,
        load.throughput,
        ratio(load.throughput, reference.throughput),
        percentile(load.latencies, 50) * 1e3,
        percentile(load.latencies, 99) * 1e3,
        load.errors,
        load.cpu_ms_per_call,
        ratio(reference.cpu_ms_per_call, load.cpu_ms_per_call),
        load.client_percent,
    ]


def report(results: dict[int, dict[str, Load]]) -> None:
    rows = []
    for count, loads in results.items():
        rows.append(row(f"bare echo, {count} worker(s) (reference)", loads["bare"], loads["bare"]))
        rows.append(row(f"piggy-mcp {READ_TOOL}, {count} worker(s)", loads["piggy"], loads["bare"]))
    headers = [
        "server",
        "calls/s",
        "ratio",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU ms/call",
        "capacity",
        "loadgen CPU%",
    ]
    print_table(headers, rows)
    print(
        "capacity = reference server CPU per call / this server's: the throughput ratio a server-bound run would show"
    )
    busiest = max(load.client_percent for loads in results.values() for load in loads.values())
    if busiest > SATURATED_PERCENT:
        print(
            f"The load generator used up to {busiest:.0f}% of a core: calls/s is bounded by the client here, so the "
            "capacity column is the better comparison of the servers."
        )
    for count, loads in results.items():
        for kind, load in loads.items():
            if load.first_error:
                print(f"first error, {kind} x{count}: {load.first_error}")


async def main_async(mode: str, timing: Timing) -> None:
    print(
        f"Streamable HTTP, {SESSIONS} concurrent sessions per server on loopback, client mode={mode!r}; "
        f"{timing.rounds} alternating windows of {timing.window:.1f}s per server after {timing.warmup:.1f}s warm-up; "
        f"load avg {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as logdir:
        results = {count: await compare(count, mode, timing, logdir) for count in WORKER_COUNTS}
    report(results)
    measured = {count: ratio(loads["piggy"].throughput, loads["bare"].throughput) for count, loads in results.items()}
    capacity = {
        count: ratio(loads["bare"].cpu_ms_per_call, loads["piggy"].cpu_ms_per_call) for count, loads in results.items()
    }
    errors = sum(load.errors for loads in results.values() for load in loads.values())
    # Both must hold: measured throughput, and what the servers' CPU cost per call allows when the server is the limit.
    worst = min(*measured.values(), *capacity.values())
    verdict(
        "http_load",
        worst >= TARGET_THROUGHPUT_RATIO and errors == 0,
        f"throughput vs bare SDK, measured {measured[1]:.2f}x / {measured[2]:.2f}x, by server CPU per call "
        f"{capacity[1]:.2f}x / {capacity[2]:.2f}x (1 / 2 workers; target >= {TARGET_THROUGHPUT_RATIO}x); "
        f"errors {errors}",
    )


def main() -> None:
    parser = arg_parser(__doc__ or "")
    parser.add_argument("--mode", default="auto", help="client mode: auto (2026-07-28, sessionless) or legacy")
    args = parser.parse_args()
    quick = Timing(rounds=2, warmup=1.0, window=1.5)
    full = Timing(rounds=8, warmup=2.0, window=2.5)
    anyio.run(main_async, args.mode, quick if args.quick else full)


if __name__ == "__main__":
    main()
