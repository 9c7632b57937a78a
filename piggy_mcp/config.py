"""Settings read from the environment (and an optional `.env` file)."""

from __future__ import annotations

import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything piggy-mcp reads from its environment.

    The API key may be missing: desktop clients start servers before anyone configured
    them, so the server starts and lists its tools, and a tool call explains what to set.
    """

    model_config = SettingsConfigDict(env_prefix="PIGGY_", env_file=".env", extra="ignore")

    api_key: SecretStr | None = Field(default=None, description="Personal Access Token for Piggy's OAuth client API.")
    base_url: str = Field(default="https://api.piggy.eu", description="Piggy API host.")

    # An agent waits for these in a chat: a call must fail well within 30 seconds.
    timeout: float = Field(default=8.0, gt=0, le=30, description="Seconds one request to Piggy may take.")
    max_attempts: int = Field(default=3, ge=1, le=5, description="Attempts for a request that is safe to repeat.")
    retry_budget: float = Field(default=12.0, gt=0, le=25, description="Seconds all attempts of one call may take.")
    max_retry_after: float = Field(
        default=3.0, ge=0, le=20, description="Longest Retry-After (s) waited out before the model is told instead."
    )

    mcp_signing_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Key that signs confirmation tokens; share it between replicas.",
    )
    confirmation_ttl: int = Field(default=600, ge=30, le=3600, description="Seconds a confirmation token is valid.")
