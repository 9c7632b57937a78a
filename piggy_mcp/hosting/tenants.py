"""Tenants: the shops one deployment serves, each with its own Piggy account, selection and callers.

PIGGY_MCP_TENANTS_FILE names a TOML or JSON file:

    [tenants.bonte-boon]
    api_key_env = "PIGGY_KEY_BONTE_BOON"     # or api_key = "..."
    base_url = "https://api.piggy.eu"
    shop_uuid = "..."                        # optional default shop
    read_only = false
    toolsets = ["contacts", "loyalty"]
    tokens = ["sha256:..."]                  # bearer tokens acting for it, plain or sha256:
    oauth_subjects = ["org_42"]              # values of PIGGY_MCP_OAUTH_TENANT_CLAIM acting for it

Everything else (timeouts, Redis, the signing key, exclusions) comes from the environment and applies to all.
Without the file, the environment's one account is the only tenant, `default`, exactly as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from piggy_mcp.config import DEFAULT_TENANT, ConfigurationError, Settings
from piggy_mcp.hosting.auth import token_digest
from piggy_mcp.selection import select_tools

__all__ = ["DEFAULT_TENANT", "Tenant", "TenantEntry", "load_tenants", "single_tenant", "tenants_for"]
_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # it goes into URLs, metric labels and Redis keys


class TenantEntry(BaseModel):
    """One tenant as the file describes it."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    api_key_env: str | None = None
    base_url: str = "https://api.piggy.eu"
    shop_uuid: str | None = None
    read_only: bool = False
    toolsets: list[str] = Field(default_factory=list)
    tokens: list[SecretStr] = Field(default_factory=list)
    oauth_subjects: list[str] = Field(default_factory=list)
    webhook_secret_env: str | None = None
    audit_log: Path | None = None

    @model_validator(mode="after")
    def _one_key(self) -> TenantEntry:
        if (self.api_key is None) == (self.api_key_env is None):
            raise ValueError("give exactly one of api_key and api_key_env")
        if not (self.tokens or self.oauth_subjects):
            raise ValueError("name the tokens or oauth_subjects that act for it, or nobody can reach it")
        if not all(subject.strip() for subject in self.oauth_subjects):
            raise ValueError("an oauth subject must not be empty")
        return self


class TenantsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: dict[str, TenantEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Tenant:
    """A tenant ready to serve: its own settings (account, selection, keys) and who acts for it."""

    name: str
    settings: Settings
    token_digests: frozenset[bytes] = frozenset()
    oauth_subjects: frozenset[str] = frozenset()


def single_tenant(settings: Settings) -> dict[str, Tenant]:
    """The environment's one account as the only tenant: PIGGY_MCP_AUTH_TOKENS act for it."""
    digests = frozenset(token_digest(token) for token in settings.mcp_auth_tokens)
    return {DEFAULT_TENANT: Tenant(DEFAULT_TENANT, settings, digests)}


def load_tenants(path: Path, base: Settings) -> dict[str, Tenant]:
    """The tenants `path` describes, on top of `base`; ConfigurationError (one sentence) if anything is off."""
    where = f"PIGGY_MCP_TENANTS_FILE {path}"
    try:
        raw = _read(path)
        described = TenantsFile.model_validate(raw)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{where}: {_reason(exc)}") from None
    tenants: dict[str, Tenant] = {}
    owners: dict[bytes | str, str] = {}
    for name, entry in described.tenants.items():
        if not _valid_name(name):
            raise ConfigurationError(f"{where}: tenant name {name!r} must be lowercase letters, digits, - or _")
        tenant = _tenant(name, entry, base, where)
        for credential in _credentials(tenant):
            if credential in owners:
                shared = "a token, subject or webhook secret"
                raise ConfigurationError(f"{where}: tenants {owners[credential]} and {name} share {shared}")
            owners[credential] = name
        tenants[name] = tenant
    return tenants


def _credentials(tenant: Tenant) -> list[bytes | str]:
    """What must belong to one tenant only: its tokens' digests, its subjects, its webhook secret's digest."""
    secret = tenant.settings.webhook_secret
    hooks = [b"webhook:" + hashlib.sha256(secret.get_secret_value().encode()).digest()] if secret else []
    return [*tenant.token_digests, *tenant.oauth_subjects, *hooks]


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)


def _valid_name(name: str) -> bool:
    return re.fullmatch(_NAME, name) is not None


def _tenant(name: str, entry: TenantEntry, base: Settings, where: str) -> Tenant:
    if not entry.tokens and base.mcp_oauth_issuer is None:
        unreachable = f"tenant {name} has only oauth_subjects, but PIGGY_MCP_OAUTH_ISSUER is not set"
        raise ConfigurationError(f"{where}: {unreachable}")
    api_key = entry.api_key or _from_environment(entry.api_key_env, f"{where}: tenant {name}")
    changes: dict[str, Any] = {
        "api_key": api_key,
        "base_url": entry.base_url,
        "shop_uuid": entry.shop_uuid,
        "read_only": entry.read_only or base.read_only,  # the environment's read-only mode holds for every tenant
        "toolsets": entry.toolsets,
        "tools": [],
        "mcp_auth_tokens": entry.tokens,
        "audit_log": entry.audit_log or _own_file(base.audit_log, name),
        # Never the environment's secret: a delivery signed for one tenant must verify at no other's endpoint.
        "webhook_secret": (
            _from_environment(entry.webhook_secret_env, f"{where}: tenant {name}") if entry.webhook_secret_env else None
        ),
    }
    try:
        settings = base.for_tenant(name, **changes)
        select_tools(read_only=settings.read_only, toolsets=settings.toolsets, exclude_tools=settings.exclude_tools)
        digests = frozenset(token_digest(token) for token in entry.tokens)
    except (ValidationError, ConfigurationError) as exc:
        raise ConfigurationError(f"{where}: tenant {name}: {_reason(exc)}") from None
    return Tenant(name, settings, digests, frozenset(entry.oauth_subjects))


def _own_file(trail: Path | None, tenant: str) -> Path | None:
    """PIGGY_AUDIT_LOG made the tenant's own (audit.jsonl: audit.<tenant>.jsonl), so that no trail mixes tenants."""
    return None if trail is None else trail.with_name(f"{trail.stem}.{tenant}{trail.suffix}")


def _from_environment(variable: str | None, where: str) -> SecretStr:
    value = os.environ.get(variable or "", "")
    if not value:
        raise ConfigurationError(f"{where}: the environment variable {variable} is not set")
    return SecretStr(value)


def _reason(exc: Exception) -> str:
    """One sentence, never a value from the file: a misplaced secret must not reach the log."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        place = ".".join(str(part) for part in error["loc"])
        return f"{place}: {error['msg']}" if place else str(error["msg"])
    if isinstance(exc, tomllib.TOMLDecodeError | json.JSONDecodeError):
        return f"not valid {'JSON' if isinstance(exc, json.JSONDecodeError) else 'TOML'} ({exc.args[0]})"
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror})"
    return str(exc)


def tenants_for(settings: Settings) -> Mapping[str, Tenant]:
    """The tenants this configuration serves: from PIGGY_MCP_TENANTS_FILE, else the environment's account."""
    if settings.mcp_tenants_file is None:
        return single_tenant(settings)
    return load_tenants(settings.mcp_tenants_file, settings)
