"""flask_mcp: Model Context Protocol servers in Flask."""

from .components.content import Audio
from .components.content import EmbeddedResource
from .components.content import Image
from .components.content import ResourceLink
from .components.content import ToolResult
from .components.prompts import Message
from .extension import FlaskMCP
from .protocol.context import Context
from .protocol.server import ToolError
from .store import Store
from .store import create_store

__all__ = [
    "Audio",
    "Context",
    "EmbeddedResource",
    "FlaskMCP",
    "Image",
    "Message",
    "ResourceLink",
    "Store",
    "ToolError",
    "ToolResult",
    "create_store",
]
