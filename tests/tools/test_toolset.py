"""The toolsets (tools/__init__.py, tools/toolset.py): every tool in exactly one toolset, grouped by domain, in
the order tools/list shows them."""

from __future__ import annotations

from piggy_mcp.tools import TOOLSETS
from tests.helpers import (
    ALL_SPECS,
    ALL_TOOLS,
    EXPECTED_TOOLS,
    OPT_IN_TOOLS,
    READ_TOOLS,
    TOOLSET_NAMES,
    TOOLSETS_BY_DOMAIN,
    WRITE_TOOLS,
)


def test_every_toolset_is_non_empty_and_every_tool_is_in_exactly_one() -> None:
    assert len(TOOLSET_NAMES) == len(set(TOOLSET_NAMES))
    assert len(ALL_TOOLS) == len(set(ALL_TOOLS))
    assert all(toolset.tools for toolset in TOOLSETS)
    assert all(spec.toolset in TOOLSET_NAMES for spec in ALL_SPECS)
    # Both kinds exist, so the read-only tests of tests/test_selection.py test something.
    assert READ_TOOLS and WRITE_TOOLS


def test_toolsets_group_the_tools_by_domain() -> None:
    assert {toolset.name: [spec.name for spec in toolset.tools] for toolset in TOOLSETS} == TOOLSETS_BY_DOMAIN
    assert [toolset.name for toolset in TOOLSETS] == list(TOOLSETS_BY_DOMAIN)


def test_the_opt_in_toolsets_hold_exactly_the_opt_in_tools() -> None:
    assert {spec.name for toolset in TOOLSETS if not toolset.default for spec in toolset.tools} == OPT_IN_TOOLS
    assert {spec.name for toolset in TOOLSETS if toolset.default for spec in toolset.tools} == EXPECTED_TOOLS
    assert [t.name for t in TOOLSETS if not t.default] == [
        "giftcards",
        "prepaid",
        "orders",
        "identifiers",
        "automations",
        "webhooks",
    ]
