"""Piggy's failures as tool errors the model can read."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

from piggy_mcp.audit import note_piggy_error
from piggy_mcp.piggy import PiggyError


def tool_error(exc: PiggyError) -> ToolError:
    """`exc` as a tool error (a plain exception would reach the model as a bare "Error executing tool"),
    noted for the audit trail."""
    note_piggy_error(type(exc).__name__, exc.code)
    return ToolError(str(exc))
