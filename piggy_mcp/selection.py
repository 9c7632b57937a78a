"""Which tools a server offers: the operator decides, not the model.

Toolsets and single tools add to the selection, exclusions take away, and read-only mode wins over
everything. Unknown names stop the start with the list of valid ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from piggy_mcp.config import SelectionError
from piggy_mcp.tools import TOOLSETS, Toolset, ToolSpec

__all__ = ["SelectionError", "select_tools"]


def select_tools(
    *,
    read_only: bool = False,
    toolsets: Sequence[str] = (),
    tools: Sequence[str] = (),
    exclude_tools: Sequence[str] = (),
    available: Sequence[Toolset] = TOOLSETS,
) -> list[ToolSpec]:
    """The tools to serve, in the fixed order of `available`. With no toolsets and no tools named: all."""
    by_toolset = {toolset.name: toolset for toolset in available}
    every_tool = [spec for toolset in available for spec in toolset.tools]
    names = {spec.name for spec in every_tool}
    _check("toolset", toolsets, by_toolset.keys())
    _check("tool", [*tools, *exclude_tools], names)

    wanted_sets = set(toolsets) if toolsets or tools else set(by_toolset)
    return [
        spec
        for spec in every_tool
        if (spec.toolset in wanted_sets or spec.name in tools)
        and spec.name not in exclude_tools
        and (spec.read_only or not read_only)
    ]


def _check(kind: str, given: Sequence[str], valid: Iterable[str]) -> None:
    known = sorted(valid)
    unknown = [name for name in given if name not in known]
    if unknown:
        raise SelectionError(f"unknown {kind} {', '.join(map(repr, unknown))}; valid: {', '.join(known)}")
