"""MCP and JSON-RPC without any web framework, for every transport to share."""

__all__: list[str] = []
