"""HTTP hosting: the front that routes callers to their tenant's server, authentication (static tokens, OAuth),
the tenants file, and the guards in front of /mcp."""
