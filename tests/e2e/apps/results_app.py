"""Tools whose results real clients have rejected: dicts that look like blocks.

Served by gunicorn for ``tests/e2e/test_results.py``, which calls them with
the official Python client in both eras.
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask

from flask_mcp import FlaskMCP


class Invoice(t.TypedDict):
    type: str
    text: str


mcp = FlaskMCP(name="results", version="1")


@mcp.tool()
def invoice() -> dict[str, t.Any]:
    """Data with a string "type" key: structured output, not a content block."""
    return {"type": "invoice", "total": 3}


@mcp.tool()
def text_block() -> t.Any:
    """Exactly a text content block: sent as one. (A ``-> dict`` annotation
    would publish an output schema, and make it data.)"""
    return {"type": "text", "text": "hello"}


@mcp.tool()
def near_block() -> dict[str, t.Any]:
    """A text block with a key the schema does not define: data."""
    return {"type": "text", "text": "hello", "total": 3}


@mcp.tool()
def typed_invoice() -> Invoice:
    """Shaped like a text block, but the tool declares an output schema."""
    return {"type": "text", "text": "an invoice"}


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["RESULTS_APP_INSTANCE"])
    mcp.init_app(app)
    return app
