from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp import ToolError

app = Flask(__name__)
mcp = FlaskMCP(app, name="Demo")  # fastmcp: FastMCP("Demo")


@mcp.tool
def greet(name: str) -> str:
    """Greet someone by name."""
    if not name.strip():
        raise ToolError("name must not be empty")
    return f"Hello, {name}!"


@mcp.tool
async def summarize(text: str, ctx: Context) -> str:  # async def works too
    """Summarize a text with the client's model."""
    ctx.log("info", f"summarizing {len(text)} characters")  # await ctx.info(...)
    result = ctx.sample(f"Summarize in one sentence:\n{text}")  # await ctx.sample
    return result["content"]["text"]  # fastmcp: result.text


@mcp.resource("config://version")
def version() -> str:
    """The server's version."""
    return "1.2.0"


@mcp.prompt
def explain(topic: str) -> str:
    """Ask for an explanation."""
    return f"Explain {topic} to a new colleague."


@mcp.route("/health", public=True)  # fastmcp: @mcp.custom_route("/health", ...)
def health():
    return {"status": "ok"}
