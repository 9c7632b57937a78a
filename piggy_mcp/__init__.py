"""piggy-mcp: an MCP server that lets LLM agents run a Piggy (Leat) loyalty program."""

__version__ = "0.1.0"
