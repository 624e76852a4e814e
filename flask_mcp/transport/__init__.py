"""Streamable HTTP on Flask: the endpoint, sessions and event streams."""

__all__: list[str] = []
