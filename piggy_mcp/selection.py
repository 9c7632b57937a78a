"""Which tools a server offers: the operator decides, not the model.

Toolsets (`all` for every one) and single tools add to the selection, exclusions take away, and read-only mode
wins over everything. With nothing named, the default toolsets are served; opt-in ones only when named or with
`all`. Unknown names stop the start with the list of valid ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from piggy_mcp.config import ConfigurationError
from piggy_mcp.tools import TOOLSETS, Toolset, ToolSpec

log = logging.getLogger(__name__)

ALL = "all"

# Toolset names that no longer exist, and the tools each one served. An alias selects exactly those tools, so
# an operator's configuration serves what it served before, and nothing more.
DEPRECATED_TOOLSETS: Mapping[str, tuple[str, ...]] = {
    "members": (
        "find_contact",
        "get_contact",
        "list_contact_attributes",
        "update_contact",
        "list_loyalty_transactions",
    ),
}


class SelectionError(ConfigurationError, ValueError):
    """An operator named a toolset or tool that does not exist."""


def select_tools(
    *,
    read_only: bool = False,
    toolsets: Sequence[str] = (),
    tools: Sequence[str] = (),
    exclude_tools: Sequence[str] = (),
    available: Sequence[Toolset] = TOOLSETS,
) -> list[ToolSpec]:
    """The tools to serve, in the fixed order of `available`. With no toolsets and no tools named: the default
    toolsets."""
    by_toolset = {toolset.name: toolset for toolset in available}
    every_tool = [spec for toolset in available for spec in toolset.tools]
    names = {spec.name for spec in every_tool}
    aliases = {alias: tools for alias, tools in DEPRECATED_TOOLSETS.items() if alias not in by_toolset}
    _check("toolset", [name for name in toolsets if name not in aliases], [ALL, *by_toolset])
    _check("tool", [*tools, *exclude_tools], names)

    wanted_tools = set(tools)
    for alias in (name for name in toolsets if name in aliases):
        log.warning(
            "the toolset %r is deprecated: it now serves the tools %s; name them or their new toolsets instead",
            alias,
            ", ".join(aliases[alias]),
        )
        wanted_tools.update(aliases[alias])
    if ALL in toolsets:
        wanted_sets = set(by_toolset)
    elif not (toolsets or tools):
        wanted_sets = {toolset.name for toolset in available if toolset.default}
    else:
        wanted_sets = {name for name in toolsets if name in by_toolset}
    return [
        spec
        for spec in every_tool
        if (spec.toolset in wanted_sets or spec.name in wanted_tools)
        and spec.name not in exclude_tools
        and (spec.read_only or not read_only)
    ]


def _check(kind: str, given: Sequence[str], valid: Iterable[str]) -> None:
    known = sorted(valid)
    unknown = [name for name in given if name not in known]
    if unknown:
        raise SelectionError(f"unknown {kind} {', '.join(map(repr, unknown))}; valid: {', '.join(known)}")
