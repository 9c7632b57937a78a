"""Settings from the environment (config.py): the selection and hosting variables, empty ones, and an API key
that never shows when settings are printed or dumped."""

from __future__ import annotations

from pathlib import Path

import pytest

from piggy_mcp.config import Settings
from piggy_mcp.selection import select_tools
from piggy_mcp.server import settings_tools
from tests.conftest import API_KEY, make_settings
from tests.helpers import DEFAULT_TOOLS, READ_TOOLS, in_order, tools_of


def test_selection_and_hosting_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGGY_READ_ONLY", "true")
    monkeypatch.setenv("PIGGY_TOOLSETS", "contacts, loyalty")
    monkeypatch.setenv("PIGGY_TOOLS", "create_vouchers_batch,find_voucher_by_code")
    monkeypatch.setenv("PIGGY_EXCLUDE_TOOLS", " get_contact_auth_token , ,")
    monkeypatch.setenv("PIGGY_AUDIT_LOG", "/var/log/piggy/audit.jsonl")
    monkeypatch.setenv("PIGGY_MAX_CONCURRENT_REQUESTS", "3")
    monkeypatch.setenv("PIGGY_QUEUE_TIMEOUT", "1.5")
    monkeypatch.setenv("PIGGY_MCP_AUTH_TOKENS", "tok-one, sha256:" + "ab" * 32)
    monkeypatch.setenv("PIGGY_MCP_ALLOWED_HOSTS", "mcp.example.com,mcp.example.com:*")
    monkeypatch.setenv("PIGGY_MCP_ALLOWED_ORIGINS", "https://app.example.com")
    monkeypatch.setenv("PIGGY_MCP_PUBLIC_URL", "https://mcp.example.com")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.read_only is True
    assert settings.toolsets == ["contacts", "loyalty"]
    assert settings.tools == ["create_vouchers_batch", "find_voucher_by_code"]
    assert settings.exclude_tools == ["get_contact_auth_token"]
    assert settings.audit_log == Path("/var/log/piggy/audit.jsonl")
    assert settings.max_concurrent_requests == 3
    assert settings.queue_timeout == 1.5
    assert [token.get_secret_value() for token in settings.mcp_auth_tokens] == ["tok-one", "sha256:" + "ab" * 32]
    assert "tok-one" not in repr(settings)
    assert settings.mcp_allowed_hosts == ["mcp.example.com", "mcp.example.com:*"]
    assert settings.mcp_allowed_origins == ["https://app.example.com"]
    assert settings.mcp_public_url == "https://mcp.example.com"

    expected = [
        name
        for name in in_order({*tools_of("contacts", "loyalty"), "create_vouchers_batch", "find_voucher_by_code"})
        if name in READ_TOOLS and name != "get_contact_auth_token"
    ]
    assert [spec.name for spec in settings_tools(settings)] == expected


def test_empty_selection_variables_mean_the_default_toolsets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIGGY_TOOLSETS", "PIGGY_TOOLS", "PIGGY_EXCLUDE_TOOLS"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("PIGGY_READ_ONLY", "false")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.toolsets, settings.tools, settings.exclude_tools) == ([], [], [])
    assert [spec.name for spec in select_tools(toolsets=settings.toolsets)] == DEFAULT_TOOLS


def test_settings_do_not_show_the_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == API_KEY
    assert API_KEY not in repr(settings)
    assert API_KEY not in str(settings)
    assert API_KEY not in settings.model_dump_json()
    assert API_KEY not in repr(settings.model_dump())
    print(settings, repr(settings))
    assert API_KEY not in capsys.readouterr().out


def test_settings_from_environment_do_not_show_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGGY_API_KEY", API_KEY)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_key is not None and settings.api_key.get_secret_value() == API_KEY
    assert API_KEY not in repr(settings)
    assert API_KEY not in str(settings)
