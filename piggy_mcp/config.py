"""Settings read from the environment (and an optional `.env` file)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConfigurationError(Exception):
    """The server must not start as configured."""


_PROCESS_KEY = secrets.token_bytes(32)
# A uuid in the form Piggy gives them out (the settings come before, and know nothing of, the Piggy layer).
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Whom a deployment serves when no tenants file names anyone: the environment's one account.
DEFAULT_TENANT = "default"

# Comma-separated in the environment: PIGGY_TOOLSETS=contacts,loyalty
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Everything piggy-mcp reads from its environment.

    The API key may be missing: desktop clients start servers before anyone configured
    them, so the server starts and lists its tools, and a tool call explains what to set.
    """

    model_config = SettingsConfigDict(env_prefix="PIGGY_", env_file=".env", extra="ignore")

    # Piggy
    api_key: SecretStr | None = Field(default=None, description="Personal Access Token for Piggy's OAuth client API.")
    # Not the legacy host the PHP SDK still defaults to (decision D18).
    base_url: str = Field(default="https://api.piggy.eu", description="Piggy API host.")

    # An agent waits for these in a chat: a call must fail well within 30 seconds.
    timeout: float = Field(default=8.0, gt=0, le=30, description="Seconds one request to Piggy may take.")
    max_attempts: int = Field(default=3, ge=1, le=5, description="Attempts for a request that is safe to repeat.")
    retry_budget: float = Field(default=12.0, gt=0, le=25, description="Seconds all attempts of one request may take.")
    call_timeout: float = Field(
        default=30.0, ge=1, le=30, description="Seconds one tool call may spend on Piggy, all its requests together."
    )
    max_retry_after: float = Field(
        default=3.0, ge=0, le=20, description="Longest Retry-After (s) waited out before the model is told instead."
    )
    max_concurrent_requests: int = Field(default=8, ge=1, le=100, description="Requests to Piggy in flight at once.")
    queue_timeout: float = Field(default=5.0, gt=0, le=20, description="Seconds a request may wait for a free slot.")

    shop_uuid: str | None = Field(default=None, description="The shop a call means when it names none.")
    sandbox: bool = Field(default=False, description="Serve against the built-in simulated Piggy account.")

    # What an agent may do
    read_only: bool = False
    toolsets: CommaList = Field(default_factory=list)
    tools: CommaList = Field(default_factory=list)
    exclude_tools: CommaList = Field(default_factory=list)
    audit_log: Path | None = None

    # Confirmation
    confirmation: Literal["auto", "elicitation"] = Field(
        default="auto",
        description="auto: ask the user where the client can, else hand out a token; elicitation: only ask.",
    )
    confirmation_ttl: int = Field(default=600, ge=30, le=3600, description="Seconds a confirmation token is valid.")
    mcp_signing_key: SecretStr | None = Field(
        default=None,
        description="Key that signs confirmation tokens and request state; default: derived from the API key.",
    )
    mcp_state_dir: Path | None = Field(default=None, description="Where single use is recorded; default per user.")
    mcp_redis_url: SecretStr | None = Field(default=None, description="Redis that replicas share for single use.")

    # Hosting
    mcp_auth_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    mcp_public_url: str | None = Field(default=None, description="URL clients reach the server at, if proxied.")
    mcp_max_connections: int = Field(default=256, ge=8, le=100_000, description="HTTP connections served at once.")
    mcp_max_request_bytes: int = Field(
        default=2 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024, description="Largest HTTP request body accepted."
    )
    mcp_header_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds a client has to send a request's headers before it is dropped."
    )
    mcp_allowed_hosts: CommaList = Field(default_factory=list)
    mcp_allowed_origins: CommaList = Field(default_factory=list)
    mcp_metrics_open: bool = Field(
        default=False, description="Serve /metrics without authentication, even with PIGGY_MCP_AUTH_TOKENS set."
    )
    mcp_tenants_file: Path | None = Field(
        default=None, description="TOML or JSON file of tenants, each with its own Piggy account and callers."
    )
    mcp_http_sessions: bool = Field(
        default=False, description="Keep sessions for older HTTP clients, so they can receive resource updates."
    )

    # Standard MCP authorization: the server as an OAuth 2.1 resource server
    mcp_oauth_issuer: str | None = Field(default=None, description="Issuer whose signed JWTs are accepted.")
    mcp_oauth_jwks_url: str | None = Field(default=None, description="The issuer's JWKS; default: from its metadata.")
    mcp_oauth_tenant_claim: str = Field(default="sub", description="The claim that names who a token acts for.")

    # Piggy's webhooks
    webhook_secret: SecretStr | None = Field(
        default=None, description="Secret of this deployment's webhook subscriptions; /webhooks/piggy needs it."
    )
    webhook_repeat_window: int = Field(
        default=600, ge=10, le=86_400, description="Seconds within which an identical delivery counts once."
    )
    recent_events: int = Field(default=50, ge=1, le=1000, description="Verified events piggy://events/recent keeps.")

    @field_validator("toolsets", "tools", "exclude_tools", "mcp_allowed_hosts", "mcp_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("shop_uuid")
    @classmethod
    def _a_uuid(cls, value: str | None) -> str | None:
        if value is not None and not _UUID.fullmatch(value):
            raise ValueError("PIGGY_SHOP_UUID must be a shop's uuid, as list_shops gives it")
        return value

    @field_validator("mcp_auth_tokens", mode="before")
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return _split_commas(value)

    def for_tenant(self, name: str, **changes: Any) -> Settings:
        """These settings for tenant `name` with `changes` (its account, selection, ...), validated again.

        Its keys are its own: derived from the shared signing key (or, without one, from its API key) and its
        name, so that nothing one tenant signs is accepted for another, even on the same Piggy account.
        """
        values = {field: getattr(self, field) for field in type(self).model_fields} | changes
        tenant = type(self)(_env_file=None, **values)  # type: ignore[call-arg]
        key = hmac.new(tenant._signing_key(), f"tenant:{name}".encode(), hashlib.sha256).hexdigest()
        return tenant.model_copy(update={"mcp_signing_key": SecretStr(key)})

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for `purpose`, derived from the one signing key operators share between replicas."""
        return hmac.new(self._signing_key(), purpose.encode(), hashlib.sha256).digest()

    def _signing_key(self) -> bytes:
        # Without a configured key, one derived from the API key is the same in every process serving this account:
        # a client that starts a process per call, a restart, replicas. Without either, nothing can be confirmed
        # anyway (no call reaches Piggy), and a key of this process's own will do.
        if self.mcp_signing_key is not None and self.mcp_signing_key.get_secret_value():
            return self.mcp_signing_key.get_secret_value().encode()
        if self.api_key is not None and self.api_key.get_secret_value():
            return hmac.new(self.api_key.get_secret_value().encode(), b"piggy-mcp signing key", hashlib.sha256).digest()
        return _PROCESS_KEY

    @property
    def state_dir(self) -> Path:
        """PIGGY_MCP_STATE_DIR, else the user's state directory (XDG_STATE_HOME, ~/.local/state)."""
        if self.mcp_state_dir is not None:
            return self.mcp_state_dir
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "piggy-mcp"


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
