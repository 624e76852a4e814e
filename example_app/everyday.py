"""Tools a real user would write: typed arguments, marshmallow, structured output."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from flask_mcp import FlaskMCP


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@dataclass
class Conversion:
    value: float
    unit: str


class TicketSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=80))
    priority = fields.Integer(load_default=3, validate=validate.Range(min=1, max=5))
    tags = fields.List(fields.String(), load_default=list)


def register(mcp: FlaskMCP) -> None:
    """Add the everyday tools to ``mcp``."""

    @mcp.tool(read_only=True, idempotent=True)
    def add(a: int, b: int) -> int:
        """Add two integers.

        :param a: the first addend.
        :param b: the second addend.
        """
        return a + b

    @mcp.tool(read_only=True)
    def convert_temperature(value: float, to: Unit = Unit.CELSIUS) -> Conversion:
        """Convert a temperature between Celsius and Fahrenheit."""
        if to is Unit.CELSIUS:
            return Conversion(round((value - 32) * 5 / 9, 2), to.value)
        return Conversion(round(value * 9 / 5 + 32, 2), to.value)

    @mcp.tool(schema=TicketSchema, destructive=False)
    def create_ticket(title: str, priority: int, tags: list[str]) -> dict:
        """Open a support ticket (arguments validated by a marshmallow schema)."""
        return {
            "id": abs(hash(title)) % 10_000,
            "title": title,
            "priority": priority,
            "tags": tags,
        }
