"""The HTTP front's reloads, in process: a request in flight keeps the servers it started on until it is done."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, cast

import anyio
import httpx
import pytest
from mcp.server import MCPServer
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from piggy_mcp.hosting.callers import Caller, Callers
from piggy_mcp.hosting.front import Front, Generation, Served
from piggy_mcp.hosting.tenants import Tenant, single_tenant
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


class SlowCallers(Callers):
    """Callers whose identification takes a while, as a JWKS fetch may."""

    async def identify(self, token: str) -> Caller | None:
        await anyio.sleep(0.3)
        return await super().identify(token)


class Servers:
    """Stand-ins for tenants' servers: each answers 200 while its generation runs, 500 once it has closed."""

    def __init__(self) -> None:
        self.started = 0

    async def start(self, tenant: Tenant, callers: Callers, stack: AsyncExitStack) -> Served:
        self.started += 1
        running = {"yes": True}
        stack.callback(running.update, yes=False)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            answer = PlainTextResponse("served", status_code=200 if running["yes"] else 500)
            await answer(scope, receive, send)

        return Served(cast(MCPServer[Any], None), app, {})


async def test_a_reload_waits_for_the_request_being_identified() -> None:
    settings = make_settings(mcp_auth_tokens="caller-token")
    servers = Servers()
    tenants = single_tenant(settings)
    front = Front(
        lambda: Generation(SlowCallers(tenants, single=True), tenants, servers.start),
        resource_url="http://127.0.0.1:8000/mcp",
        max_request_bytes=1024,
        reloadable=True,
    )
    transport = httpx.ASGITransport(app=front)
    async with front.app.router.lifespan_context(front.app), anyio.create_task_group() as tasks:
        responses: list[httpx.Response] = []

        async def request() -> None:
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
                headers = {"Authorization": "Bearer caller-token"}
                responses.append(await http.get("/mcp", headers=headers))

        tasks.start_soon(request)
        await anyio.sleep(0.1)  # the request is being identified
        front.reload()
        with anyio.fail_after(5):
            while servers.started < 2:  # noqa: ASYNC110 - the new generation starts in the front's own task group
                await anyio.sleep(0.01)
    assert [response.status_code for response in responses] == [200]
