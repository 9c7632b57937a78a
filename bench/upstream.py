"""5. Upstream efficiency: one Piggy request per simple tool call, one reused connection for a run of calls.

`python -m piggy_mcp` runs over stdio exactly as a desktop client starts it, with PIGGY_BASE_URL pointing at a stub
Piggy on 127.0.0.1 that counts requests and the distinct TCP connections (client address and port) they came on.
"""

from __future__ import annotations

import sys
import tempfile

import anyio
from common import CONTACT_UUID, READ_TOOL, StubStats, arg_parser, print_table, server_env, stub_piggy, verdict
from mcp import Client, StdioServerParameters

# Simple reads: one Piggy GET each. Only those the server lists are called (toolsets may leave some out).
SIMPLE_READS = {READ_TOOL: {"contact_uuid": CONTACT_UUID}, "list_perks": {}, "list_forms": {}}


async def run_calls(client: Client, stub: StubStats, tool: str, calls: int) -> tuple[int, int]:
    """Call `tool` `calls` times; (Piggy requests it caused, tool errors)."""
    before, errors = stub.requests, 0
    for _ in range(calls):
        result = await client.call_tool(tool, SIMPLE_READS[tool])
        errors += result.is_error
    return stub.requests - before, errors


async def main_async(calls: int) -> None:
    with stub_piggy() as (base_url, stub), tempfile.TemporaryDirectory() as cwd:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "piggy_mcp"], env=server_env(base_url), cwd=cwd
        )
        async with Client(params, mode="legacy") as client:
            listed = {tool.name for tool in (await client.list_tools(cache_mode="bypass")).tools}
            at_start = stub.requests
            tools = [tool for tool in SIMPLE_READS if tool in listed]
            counts = {tool: await run_calls(client, stub, tool, calls) for tool in tools}
        connections = len(stub.connections)

    print(f"Piggy requests per tool call over stdio ({calls} calls per tool, back to back)")
    rows = [[tool, calls, requests, requests / calls, 1.0, errors] for tool, (requests, errors) in counts.items()]
    print_table(["tool", "calls", "Piggy requests", "per call", "reference", "tool errors"], rows)
    total_calls = calls * len(tools)
    print(f"requests before the first tool call: {at_start} (reference 0)")
    print(f"distinct TCP connections for {total_calls} calls: {connections} (reference 1)")
    one_each = all(requests == calls and errors == 0 for requests, errors in counts.values())
    verdict(
        "upstream",
        one_each and connections == 1 and at_start == 0 and bool(tools),
        f"{sum(r for r, _ in counts.values())} requests for {total_calls} calls, {connections} connection(s), "
        f"{at_start} before the first call (target: 1 per call, 1 connection, 0 before)",
    )


def main() -> None:
    args = arg_parser(__doc__ or "").parse_args()
    anyio.run(main_async, 5 if args.quick else 30)


if __name__ == "__main__":
    main()
