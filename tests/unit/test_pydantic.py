"""pydantic models and ``Field`` in tool signatures, when the app uses pydantic.

pydantic is an optional extra: models are described and validated by
pydantic itself, and an app that does not use pydantic never imports it.
"""

from __future__ import annotations

import subprocess
import sys
import typing as t

import pydantic
import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.testing import MCPError

VERSIONS = ["2025-11-25", "2026-07-28"]


class Address(pydantic.BaseModel):
    street: str
    city: str = pydantic.Field(description="The city.")


class Order(pydantic.BaseModel):
    """An order to place."""

    item: str = pydantic.Field(min_length=1)
    quantity: int = pydantic.Field(ge=1, le=10)
    ship_to: Address


class Receipt(pydantic.BaseModel):
    order_id: int
    total: float


@pytest.fixture
def app(tmp_path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path))
    mcp = FlaskMCP(app, name="pydantic")

    @mcp.tool
    def place(
        order: Order, note: t.Annotated[str, pydantic.Field(max_length=5)] = ""
    ) -> Receipt:
        """Place an order."""
        assert isinstance(order.ship_to, Address)  # converted by pydantic
        return Receipt(order_id=7, total=order.quantity * 2.5)

    app.extensions["test_mcp"] = mcp
    return app


@pytest.mark.parametrize("version", VERSIONS)
def test_models_describe_validate_and_return(app: Flask, version: str) -> None:
    mcp = app.extensions["test_mcp"]
    with mcp.test_client(app, protocol_version=version) as client:
        (tool,) = client.list_tools()
        schema = tool["inputSchema"]
        assert schema["properties"]["order"] == {"$ref": "#/$defs/Order"}
        order = schema["$defs"]["Order"]
        assert order["properties"]["quantity"]["maximum"] == 10
        assert order["properties"]["ship_to"] == {"$ref": "#/$defs/Address"}
        assert (
            schema["$defs"]["Address"]["properties"]["city"]["description"]
            == "The city."
        )
        assert schema["properties"]["note"]["maxLength"] == 5
        assert tool["outputSchema"]["properties"]["total"]["type"] == "number"

        order_args = {
            "item": "tea",
            "quantity": 2,
            "ship_to": {"street": "1 Main", "city": "Oslo"},
        }
        result = client.call_tool("place", {"order": order_args})
        assert result["structuredContent"] == {"order_id": 7, "total": 5.0}
        assert result.get("isError") is None

        bad = {"order": {**order_args, "quantity": 11}, "note": "too long"}
        refused = client.call_tool("place", bad)  # 2025-11-25+: a tool error
        assert refused["isError"] is True
        text = refused["content"][0]["text"]
        assert "quantity" in text and "note" in text


def test_models_are_invalid_params_before_2025_11_25(app: Flask) -> None:
    mcp = app.extensions["test_mcp"]
    with mcp.test_client(app, protocol_version="2025-06-18") as client:
        with pytest.raises(MCPError) as refused:
            client.call_tool("place", {"order": {"item": "", "quantity": 1}})
    assert refused.value.code == -32602


def test_without_pydantic_nothing_imports_it() -> None:
    """With pydantic unavailable the package works and never tries it."""
    code = """
import sys, tempfile
sys.modules["pydantic"] = None  # as if not installed: importing it fails
from flask import Flask
from flask_mcp import FlaskMCP
app = Flask("x", instance_path=tempfile.mkdtemp())
mcp = FlaskMCP(app)

@mcp.tool
def add(a: int, b: int = 1) -> dict[str, int]:
    return {"sum": a + b}

with mcp.test_client(app) as client:
    print(client.call_tool("add", {"a": 2})["structuredContent"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{'sum': 3}"
