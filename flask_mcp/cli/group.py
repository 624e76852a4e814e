"""The ``flask mcp`` command group; each module of this package adds its
commands to it."""

from __future__ import annotations

from flask.cli import AppGroup

mcp_cli = AppGroup("mcp", help="Inspect and maintain MCP servers of this app.")
