"""Held streams at a GRIP gateway (Pushpin, Fastly Fanout).

A listen stream (2026-07-28) or a 2025 GET stream costs a sync worker for as
long as it is open. With a gateway in front, the worker answers such a
request in milliseconds with the stream's first events and GRIP instructions
(``Grip-Hold``, ``Grip-Channel``); the gateway keeps the client's connection,
and every worker of every host publishes notifications to it.

Nothing here is imported unless ``MCP_GRIP_URL`` is set (see
:mod:`flask_mcp.gateway.wiring`); ``pip install flask-mcp[gateway]`` brings
the publishing client (``gripcontrol``).
"""

__all__: list[str] = []
