"""Tool results that real clients take, and a test client that checks as they do.

A dict is structured output unless it is one of the library's content types
or exactly an MCP content block; the test client checks every result against
the MCP schema of its era (``mcp-types``, what the official client validates
with) and the tool's ``outputSchema``.
"""

from __future__ import annotations

import inspect
import pkgutil
import typing as t
import warnings

import pytest
from flask import Flask

import flask_mcp
from flask_mcp import FlaskMCP
from flask_mcp import FlaskMCPError
from flask_mcp import Image
from flask_mcp import ToolResult
from flask_mcp import testing
from flask_mcp.components.content import is_block
from flask_mcp.wire_check import SchemaNotChecked
from flask_mcp.wire_check import WireViolation

VERSIONS = ["2025-11-25", "2026-07-28"]


@pytest.mark.parametrize(
    "value",
    [
        {"type": "text", "text": "hi"},
        {"type": "text", "text": "hi", "annotations": {"priority": 1}, "_meta": {}},
        {"type": "image", "data": "aGk=", "mimeType": "image/png"},
        {"type": "audio", "data": "aGk=", "mimeType": "audio/wav"},
        {"type": "resource_link", "uri": "file:///a", "name": "a", "size": 3},
        {"type": "resource", "resource": {"uri": "file:///a", "text": "x"}},
        {"type": "resource", "resource": {"uri": "file:///a", "blob": "aGk="}},
    ],
)
def test_exact_blocks_are_blocks(value: dict[str, t.Any]) -> None:
    assert is_block(value)


@pytest.mark.parametrize(
    "value",
    [
        {"type": "invoice", "total": 3},
        {"type": "text", "text": "hi", "total": 3},  # a key blocks do not have
        {"type": "text", "text": 5},  # text that is not a string
        {"type": "text"},  # a required key missing
        {"type": "image", "data": "aGk="},
        {"type": "resource_link", "uri": "u", "name": "n", "size": True},
        {"type": "resource", "resource": {"uri": "u"}},
        {"type": "resource", "resource": {"uri": "u", "text": "x", "blob": "y"}},
        {"type": "resource", "resource": "file:///a"},
        {"type": 3, "text": "hi"},
        {"kind": "text", "text": "hi"},
    ],
)
def test_data_that_looks_like_a_block_is_not_one(value: dict[str, t.Any]) -> None:
    assert not is_block(value)


def _app(mcp: FlaskMCP, tmp_path: t.Any) -> Flask:
    app = Flask("wire", instance_path=str(tmp_path))
    app.config["TESTING"] = True
    mcp.init_app(app)
    return app


@pytest.fixture
def server(tmp_path: t.Any) -> tuple[FlaskMCP, Flask]:
    mcp = FlaskMCP(name="wire", version="1")

    @mcp.tool
    def invoice():  # type: ignore[no-untyped-def]
        return {"type": "invoice", "total": 3}

    @mcp.tool
    def block():  # type: ignore[no-untyped-def]
        return {"type": "text", "text": "hi"}

    @mcp.tool
    def picture():  # type: ignore[no-untyped-def]
        return Image(b"\x89PNG\r\n\x1a\nxx")

    @mcp.tool(output_schema={"type": "object", "required": ["total"]})
    def declared():  # type: ignore[no-untyped-def]
        return {"type": "text", "text": "hi"}

    @mcp.tool(
        output_schema={
            "type": "object",
            "properties": {"total": {"type": "integer"}},
            "required": ["total"],
        }
    )
    def wrong_type():  # type: ignore[no-untyped-def]
        return {"total": "three"}

    @mcp.tool(output_schema={"type": "object"})
    def text_only():  # type: ignore[no-untyped-def]
        return "no structure here"

    @mcp.tool
    def listed_structure():  # type: ignore[no-untyped-def]
        return ToolResult(content=["x"], structured=t.cast(t.Any, ["a", "list"]))

    return mcp, _app(mcp, tmp_path)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_dict_with_a_type_key_is_structured(server, version: str) -> None:
    mcp, app = server
    with mcp.test_client(app, protocol_version=version) as client:
        result = client.call_tool("invoice")
        assert result["structuredContent"] == {"type": "invoice", "total": 3}
        assert [block["type"] for block in result["content"]] == ["text"]
        assert client.call_tool("block")["content"] == [{"type": "text", "text": "hi"}]
        assert "structuredContent" not in client.call_tool("block")
        assert client.call_tool("picture")["content"][0]["type"] == "image"


@pytest.mark.parametrize("version", VERSIONS)
def test_an_output_schema_makes_a_block_shaped_dict_data(server, version: str) -> None:
    mcp, app = server
    with mcp.test_client(app, protocol_version=version) as client:
        with pytest.raises(WireViolation, match="outputSchema rejects"):
            client.call_tool("declared")  # data, so checked: no "total"


@pytest.mark.parametrize("version", VERSIONS)
def test_structured_content_the_output_schema_rejects_fails(
    server, version: str
) -> None:
    mcp, app = server
    with mcp.test_client(app, protocol_version=version) as client:
        with pytest.raises(WireViolation, match="'three' is not of type 'integer'"):
            client.call_tool("wrong_type")
        with pytest.raises(WireViolation, match="has no structuredContent"):
            client.call_tool("text_only")
    with mcp.test_client(app, protocol_version=version, validate=False) as client:
        assert client.call_tool("wrong_type")["structuredContent"] == {"total": "three"}


def test_without_mcp_types_the_client_says_it_does_not_check(
    server, monkeypatch: pytest.MonkeyPatch
) -> None:
    mcp, app = server
    monkeypatch.setattr(testing, "can_check", lambda: False)
    with pytest.warns(SchemaNotChecked, match="flask-mcp\\[testing\\]"):
        with mcp.test_client(app) as client:
            # The era's schema goes unchecked: 2025 refuses a list here.
            assert client.call_tool("listed_structure")["structuredContent"]
            # Output schemas need only jsonschema: still checked.
            with pytest.raises(WireViolation, match="outputSchema rejects"):
                client.call_tool("wrong_type")
    with pytest.raises(RuntimeError, match="flask-mcp\\[testing\\]"):
        mcp.test_client(app, validate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with mcp.test_client(app, validate=False) as client:
            client.list_tools()


def _library_modules() -> t.Iterator[t.Any]:
    import importlib

    for info in pkgutil.walk_packages(flask_mcp.__path__, "flask_mcp."):
        yield importlib.import_module(info.name)


def test_every_library_exception_derives_from_the_root() -> None:
    found = {
        f"{obj.__module__}.{obj.__qualname__}": obj
        for module in _library_modules()
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__.startswith("flask_mcp")
        and not obj.__name__.startswith("_")
        and not issubclass(obj, Warning)
    }
    assert len(found) > 20
    assert [n for n, cls in found.items() if not issubclass(cls, FlaskMCPError)] == []


def test_the_root_keeps_the_bases_users_catch() -> None:
    from flask_mcp.components.component import RegistrationError
    from flask_mcp.store import StoreUnavailable

    assert issubclass(RegistrationError, ValueError)
    assert issubclass(WireViolation, AssertionError)
    assert issubclass(StoreUnavailable, FlaskMCPError)
    assert flask_mcp.FlaskMCPError is FlaskMCPError
