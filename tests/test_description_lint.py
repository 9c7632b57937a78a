"""The served tool definitions pass `tdqs lint`, the deterministic part of the Tool Definition Quality Score.

It runs offline, without a model: every tool has a description that is more than its name, annotations and an
output schema; every argument has a description; no tool looks like one an agent would skip for a cheaper
sibling. Any finding fails, infos included (stricter than `tdqs lint --fail-on warning`), except a reviewed
shadow candidate below.
"""

from __future__ import annotations

from mcp import Client
from tdqs import lint_server, parse_tool_definitions

from tests.helpers import wire_tools

# tdqs picks shadow candidates by invocation cost alone (how much an agent must fill in); only its model-scored
# coherence evaluation can tell whether two purposes overlap. Pairs a person checked do not overlap:
# (the dearer tool, its cheaper sibling) -> why.
REVIEWED_SHADOW_CANDIDATES = {
    ("find_or_create_products", "find_contact"): (
        "catalog products, not contacts; its cost is the list of products Piggy needs, each named and identified"
    ),
    ("find_or_create_products", "create_contact"): (
        "catalog products, not contacts: create_contact registers one member by email"
    ),
    ("update_contact", "create_contact_attribute"): (
        "values of one contact's fields, not a new field for every contact; the latter's description says so"
    ),
}


async def test_tool_definitions_pass_tdqs_lint(client: Client) -> None:
    report = lint_server(server_name="piggy-mcp", tools=parse_tool_definitions(await wire_tools(client)).tools)
    # tdqs names at most one cheaper sibling per tool, so a reviewed pair's finding is the one of its dearer tool.
    accepted = {c.tool for c in report.shadow_candidates if (c.tool, c.cheaper_sibling) in REVIEWED_SHADOW_CANDIDATES}
    findings = [f for f in report.findings if not (f.rule == "shadow-candidate" and f.tool in accepted)]
    assert not findings, "tdqs lint flags the tool definitions:\n" + "\n".join(
        f"  {finding.severity} {finding.rule}: {finding.message}" for finding in findings
    )
