"""The root of every exception flask_mcp raises.

Catch :class:`FlaskMCPError` to catch anything the library raises, as
Authlib's ``AuthlibBaseError`` and the SDK's ``MCPServerError`` allow. Each
package keeps its own ``errors`` module or classes for the specific failures;
those also keep the built-in base a user would catch (``ValueError`` for a
bad argument, ``AssertionError`` for a failed test check).
"""

from __future__ import annotations


class FlaskMCPError(Exception):
    """Base class of every exception of flask_mcp."""
