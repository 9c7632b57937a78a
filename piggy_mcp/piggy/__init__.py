"""Everything Piggy-specific: HTTP mechanics, endpoints, error codes."""

from piggy_mcp.piggy.api import PiggyAPI
from piggy_mcp.piggy.client import PiggyClient
from piggy_mcp.piggy.errors import PiggyError

__all__ = ["PiggyAPI", "PiggyClient", "PiggyError"]
