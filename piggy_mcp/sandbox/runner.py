"""Serving the sandbox over real HTTP with uvicorn (imported only when used)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.applications import Starlette

from piggy_mcp.sandbox.app import create_app


def serve(host: str = "127.0.0.1", port: int = 8765, *, api_key: str = "sandbox", portal_enabled: bool = True) -> None:
    """Run a sandboxed Piggy until interrupted; point piggy-mcp at http://<host>:<port> with api key `api_key`."""
    import uvicorn

    uvicorn.run(create_app(api_key=api_key, portal_enabled=portal_enabled), host=host, port=port, log_level="info")


@contextmanager
def serve_in_background(app: Starlette, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on a free port in a background thread; yields its base URL and always shuts it down."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # binding here, not in uvicorn, leaves no race for the port
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="piggy-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
