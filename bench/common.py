"""Shared pieces of the benchmarks: a zero-latency Piggy, statistics, tables, /proc readings.

Every benchmark compares piggy-mcp with a bare MCPServer on the same SDK, in the same run, and prints the ratio.
Benchmarks report; they never fail the process for a missed target.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from mcp.server import MCPServer

    from piggy_mcp.config import Settings

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/x.py` puts bench/, not the repo, on the path
    sys.path.insert(0, str(REPO_ROOT))

API_KEY = "bench-key"
CONTACT_UUID = "11111111-1111-4111-8111-111111111111"
READ_TOOL = "get_contact_credit_balance"
READ_ARGS: dict[str, Any] = {"contact_uuid": CONTACT_UUID}
ECHO_TOOL = "echo"
ECHO_ARGS: dict[str, Any] = {"text": CONTACT_UUID}  # same payload size as the read tool's argument
UNUSED_BASE_URL = "http://127.0.0.1:9"  # never contacted: the in-process benchmarks replace the network

# Piggy's answers (encoded once: the stub should cost next to nothing), by the end of the request path.
_ROUTES: dict[str, bytes] = {
    "/credit-balance": json.dumps({"data": {"balance": 7}, "meta": []}).encode(),
    "/forms": json.dumps({"data": [], "meta": []}).encode(),
    "/perks": json.dumps({"data": [], "meta": []}).encode(),
}


def piggy_body(path: str) -> bytes | None:
    """Piggy's JSON answer for `path` (relative to /api/v3/oauth/clients), or None for a path the stub does not know."""
    path = path.split("?", 1)[0]
    for suffix, body in _ROUTES.items():
        if path.endswith(suffix):
            return body
    return None


# Piggy, faked -----------------------------------------------------------------------------------------------


def mock_transport() -> httpx.MockTransport:
    """An httpx transport that answers every request at once, as Piggy would with zero latency."""
    import httpx  # here, not at the top: scripts that only spawn servers need neither httpx nor piggy_mcp

    def handle(request: httpx.Request) -> httpx.Response:
        body = piggy_body(request.url.path)
        if body is None:
            return httpx.Response(404, json={"message": "unknown path"})
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def piggy_settings(base_url: str = UNUSED_BASE_URL) -> Settings:
    """piggy-mcp's default settings with a fake key: no .env file, and no PIGGY_* variable of the developer's
    (a toolset or read-only choice there would change what is measured)."""
    from piggy_mcp.config import Settings

    for name in [name for name in os.environ if name.startswith("PIGGY_")]:
        del os.environ[name]
    return Settings(api_key=API_KEY, base_url=base_url, _env_file=None)


def piggy_server(settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> MCPServer:
    """piggy-mcp as production builds it; `transport` replaces the network."""
    from piggy_mcp.server import build_server

    server: MCPServer = build_server(settings if settings is not None else piggy_settings(), transport=transport)
    return server


@dataclass
class StubStats:
    """What the stub Piggy saw: requests and the distinct TCP connections they came on."""

    requests: int = 0
    connections: set[tuple[str, int]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: tuple[str, int]) -> None:
        with self.lock:
            self.requests += 1
            self.connections.add(client)


class _StubHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open: with 1.0 the stub itself would close every connection after one request.
    protocol_version = "HTTP/1.1"
    stats: StubStats  # set on a per-server subclass

    def do_GET(self) -> None:
        self.stats.record(self.client_address)
        body = piggy_body(self.path)
        status = 200 if body is not None else 404
        payload = body if body is not None else b'{"message": "unknown path"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # silence: one line per request would swamp the benchmark's output


@contextmanager
def stub_piggy() -> Iterator[tuple[str, StubStats]]:
    """A Piggy on 127.0.0.1 answering instantly in a background thread; yields (base_url, stats)."""
    stats = StubStats()
    handler = type("Handler", (_StubHandler,), {"stats": stats})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", stats
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def quiet_logging() -> None:
    """Log at WARNING to stderr, as `python -m piggy_mcp` does; must run before any MCPServer is built
    (the SDK configures the root logger at INFO by default, and per-request INFO lines would dominate)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)


def server_env(base_url: str) -> dict[str, str]:
    """Environment of a server subprocess: a fake key and the stub's URL, nothing of the developer's."""
    return {"PATH": os.environ.get("PATH", ""), "PIGGY_API_KEY": API_KEY, "PIGGY_BASE_URL": base_url}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Statistics and reporting -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; `samples` need not be sorted."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    n = len(ordered)
    if n == 0:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print(
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _fmt(cell: object) -> str:
    if isinstance(cell, float):
        return f"{cell:.3f}" if abs(cell) < 100 else f"{cell:.0f}"
    return str(cell)


def verdict(name: str, passed: bool, detail: str) -> None:
    """The line run_all.py collects: `RESULT <name>: PASS|FAIL - <detail>`."""
    print(f"RESULT {name}: {'PASS' if passed else 'FAIL'} - {detail}")


def arg_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run with few samples")
    return parser


# /proc (Linux) ----------------------------------------------------------------------------------------------


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size in MiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5), counted after the name
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def child_pids() -> list[int]:
    """Live children of this process (e.g. a stdio server the MCP client spawned)."""
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.extend(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            continue
    return pids
