import enum
from dataclasses import dataclass
from typing import Annotated

from flask import Flask
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from flask_mcp import FlaskMCP
from flask_mcp import Image
from flask_mcp import ToolError
from flask_mcp import ToolResult

app = Flask(__name__)
mcp = FlaskMCP(app, name="Tools")


# -- arguments from type hints ----------------------------------------------


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@dataclass
class Temperature:
    value: float
    unit: str


@mcp.tool(read_only=True, idempotent=True)
def convert(value: float, to: Unit = Unit.CELSIUS) -> Temperature:
    """Convert a temperature between Celsius and Fahrenheit.

    :param value: the temperature to convert.
    :param to: the unit to convert to.
    """
    if to is Unit.CELSIUS:
        return Temperature(round((value - 32) * 5 / 9, 2), to.value)
    return Temperature(round(value * 9 / 5 + 32, 2), to.value)


@mcp.tool(name="search-books")
def search(
    query: Annotated[str, "words to look for in titles"],
    limit: int = 10,
    tags: list[str] | None = None,
) -> list[str]:
    """Find books by title."""
    titles = ["Flask Web Development", "Fluent Python", "Two Scoops of Django"]
    found = [t for t in titles if query.lower() in t.lower()]
    return found[:limit]


# -- arguments from a marshmallow schema ------------------------------------


class TicketSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=80))
    priority = fields.Integer(load_default=3, validate=validate.Range(min=1, max=5))


@mcp.tool(schema=TicketSchema, destructive=False)
def open_ticket(title: str, priority: int) -> dict:
    """Open a support ticket."""
    return {"id": 101, "title": title, "priority": priority}


# -- arguments from a JSON Schema, published as given ------------------------


@mcp.tool(
    input_schema={
        "type": "object",
        "properties": {"sql": {"type": "string", "maxLength": 2000}},
        "required": ["sql"],
        "additionalProperties": False,
    },
    read_only=True,
)
def explain(sql: str) -> str:
    """Explain a SQL query."""
    return f"EXPLAIN {sql}"


# -- errors and other results -----------------------------------------------


@mcp.tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    if b == 0:
        raise ToolError("b must not be zero")
    return a / b


PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010100005f1ad5e3"
    "0000000049454e44ae426082"
)


@mcp.tool(read_only=True)
def logo() -> Image:
    """The company logo."""
    return Image(PIXEL, mime_type="image/png")


@mcp.tool
def lint(code: str) -> ToolResult:
    """Lint Python code."""
    problems = ["line 1: missing docstring"] if '"""' not in code else []
    return ToolResult(
        content=[f"{len(problems)} problem(s)", *problems],
        structured={"problems": problems},
        is_error=bool(problems),
    )


@mcp.tool
async def fetch_status(service: str) -> str:
    """Check a service (async def works too)."""
    return f"{service}: ok"
