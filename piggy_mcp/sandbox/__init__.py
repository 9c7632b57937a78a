"""A stateful, deterministic simulation of the part of Piggy's OAuth client API that piggy-mcp uses.

Piggy has no test environment: run piggy-mcp against this sandbox to try it (`serve()`), and test it
end to end in process (`httpx.ASGITransport(create_app())`).

- `create_app(api_key="sandbox", portal_enabled=True, processing_delay=0.5)` builds a fresh account, seeded
  with Bonte Boon, a coffee roaster (see `seed.py`; `SEED` names its objects, e.g. `SEED.contacts.sanne_store`).
  Requests need `Authorization: Bearer <api_key>`. `sandbox_of(app)` returns its `Sandbox` controller: the
  store, the request log and the test-only faults.
- The verification email "contains" the login code `LOGIN_CODE` = "123456": verify accepts it for an email
  once, after a send (Piggy's passcodes exist only once sent).
- Credit receptions given `unit_value` (a purchase amount in euros) award 1 credit per whole euro, rounded down
  (`credits_for`), unless `credits` is given; exactly one of the two is required.
- Merges and voucher batches are accepted at once and applied `processing_delay` seconds later, lazily, at the
  start of the next request (or at once with `Sandbox.run_pending()`).
- Time starts at `seed.EPOCH` (2025-06-02 09:00 UTC) on every start and runs at real speed from there.
"""

from piggy_mcp.sandbox.app import PREFIX, create_app, sandbox_of
from piggy_mcp.sandbox.control import Sandbox
from piggy_mcp.sandbox.faults import Fault, RecordedRequest
from piggy_mcp.sandbox.runner import serve, serve_in_background
from piggy_mcp.sandbox.seed import EPOCH, SEED
from piggy_mcp.sandbox.state import LOGIN_CODE, credits_for

__all__ = [
    "EPOCH",
    "LOGIN_CODE",
    "PREFIX",
    "SEED",
    "Fault",
    "RecordedRequest",
    "Sandbox",
    "create_app",
    "credits_for",
    "sandbox_of",
    "serve",
    "serve_in_background",
]
