"""2. Per-call latency in process: piggy-mcp's read tool vs an echo tool on a bare MCPServer.

Piggy answers instantly through an httpx MockTransport, so what remains is the SDK plus our code. Two more SDK
tools split piggy-mcp's overhead: one returning the same kind of model (structured output), one that also makes the
same httpx request; the rest is our own code (middleware, tool wrapper, API layer, Piggy client). Servers take
turns in blocks so drift and GC pauses hit all alike. Both client modes are measured: "auto" (dispatched directly
in process) and "legacy" (initialize handshake, JSON-RPC messages over in-memory streams).
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from bare_server import build_bare_server
from common import (
    CONTACT_UUID,
    ECHO_ARGS,
    ECHO_TOOL,
    READ_ARGS,
    READ_TOOL,
    arg_parser,
    mock_transport,
    percentile,
    piggy_server,
    print_table,
    quiet_logging,
    ratio,
    verdict,
)
from mcp import Client
from mcp.server import MCPServer
from pydantic import BaseModel

TARGET_OVERHEAD_MS = 1.0
MODES = ("auto", "legacy")


class Balance(BaseModel):
    contact_uuid: str
    balance: int


def build_model_server() -> MCPServer:
    """Decomposition, step 1: an SDK tool returning the same kind of model as ours, with no upstream at all."""
    server = MCPServer(name="bare-model", log_level="WARNING")

    @server.tool()
    async def balance(contact_uuid: str) -> Balance:
        """Read a balance."""
        return Balance(contact_uuid=contact_uuid, balance=7)

    return server


def build_httpx_server() -> MCPServer:
    """Decomposition, step 2: the same plus the httpx GET through the same MockTransport, still no piggy-mcp code."""
    server = MCPServer(name="bare-httpx", log_level="WARNING")
    http = httpx.AsyncClient(base_url="http://piggy.invalid/api/v3/oauth/clients", transport=mock_transport())

    @server.tool()
    async def balance(contact_uuid: str) -> Balance:
        """Read a balance."""
        response = await http.get(f"/contacts/{contact_uuid}/credit-balance")
        return Balance(contact_uuid=contact_uuid, balance=response.json()["data"]["balance"])

    return server


@dataclass
class Subject:
    label: str
    server: Any
    tool: str
    args: dict[str, Any]
    samples: list[float] = field(default_factory=list)
    errors: int = 0


def subjects() -> list[Subject]:
    return [
        Subject("bare MCPServer echo (reference)", build_bare_server(), ECHO_TOOL, ECHO_ARGS),
        Subject("SDK tool returning a model (decomposition)", build_model_server(), "balance", READ_ARGS),
        Subject("  + httpx GET via MockTransport (decomposition)", build_httpx_server(), "balance", READ_ARGS),
        Subject(f"piggy-mcp {READ_TOOL}", piggy_server(transport=mock_transport()), READ_TOOL, READ_ARGS),
    ]


async def timed_calls(client: Client, subject: Subject, count: int, record: bool) -> None:
    for _ in range(count):
        started = time.perf_counter()
        result = await client.call_tool(subject.tool, subject.args)
        elapsed = time.perf_counter() - started
        if result.is_error:
            subject.errors += 1
        if record:
            subject.samples.append(elapsed)


async def run_mode(mode: str, calls: int, block: int, warmup: int) -> list[Subject]:
    items = subjects()
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(item.server, mode=mode)) for item in items]
        for client, item in zip(clients, items, strict=True):
            await timed_calls(client, item, warmup, record=False)
        for _ in range(calls // block):
            for client, item in zip(clients, items, strict=True):
                await timed_calls(client, item, block, record=True)
    return items


def report(mode: str, items: list[Subject]) -> float:
    """Print the mode's table; return piggy-mcp's p50 overhead over the reference in ms."""
    ref_p50, ref_p99 = percentile(items[0].samples, 50), percentile(items[0].samples, 99)
    rows = []
    for item in items:
        p50, p99 = percentile(item.samples, 50), percentile(item.samples, 99)
        rows.append(
            [
                item.label,
                len(item.samples),
                item.errors,
                p50 * 1e3,
                p99 * 1e3,
                (p50 - ref_p50) * 1e3,
                ratio(p50, ref_p50),
                ratio(p99, ref_p99),
            ]
        )
    print(f"\nclient mode={mode!r}")
    print_table(["server", "calls", "errors", "p50 ms", "p99 ms", "p50 +ms", "p50 ratio", "p99 ratio"], rows)
    return (percentile(items[-1].samples, 50) - ref_p50) * 1e3


async def main_async(calls: int, block: int, warmup: int) -> None:
    print(f"Per-call latency in process, {calls} timed calls per server and mode (contact {CONTACT_UUID})")
    overheads: dict[str, float] = {}
    errors = 0
    for mode in MODES:
        items = await run_mode(mode, calls, block, warmup)
        overheads[mode] = report(mode, items)
        errors += sum(item.errors for item in items)
    worst = max(overheads.values())
    detail = ", ".join(f"{mode} +{ms:.3f} ms" for mode, ms in overheads.items())
    verdict(
        "call_latency",
        worst < TARGET_OVERHEAD_MS and errors == 0,
        f"p50 overhead {detail} (target < {TARGET_OVERHEAD_MS} ms); errors {errors}",
    )


def main() -> None:
    parser = arg_parser(__doc__ or "")
    parser.add_argument("--calls", type=int, default=None, help="timed calls per server and mode (default 6000)")
    args = parser.parse_args()
    quiet_logging()
    calls = args.calls or (600 if args.quick else 6000)
    block = min(200, calls)
    anyio.run(main_async, calls, block, 50 if args.quick else 300)


if __name__ == "__main__":
    main()
