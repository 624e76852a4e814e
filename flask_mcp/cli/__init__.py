"""``flask mcp ...`` commands: one module per family of commands, all on
:data:`mcp_cli`, which ``init_app`` registers with ``app.cli``."""

from __future__ import annotations

from . import components as components
from . import gateway as gateway
from . import keys as keys
from . import oauth_commands as oauth_commands
from . import session_commands as session_commands
from . import worker as worker
from .group import mcp_cli

__all__ = ["mcp_cli"]
