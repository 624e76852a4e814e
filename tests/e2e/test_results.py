"""Tool results as the official Python client takes them, in both eras.

A dict with a string ``"type"`` key used to go out as a raw content block;
every real client rejected the whole result. Each tool of
``apps/results_app.py`` is called through ``mcp.Client`` on gunicorn, in the
2026-07-28 era and in the 2025-11-25 era, and through ``mcp.test_client()``,
which must agree with the real client.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from e2e.apps import results_app
from flask import Flask
from mcp import Client

from support import GunicornServer
from support import run_node

APPS = Path(__file__).parent / "apps"
TS_CLIENT = Path(__file__).parent / "ts_results_client.mjs"
TOOLS = ["invoice", "text_block", "near_block", "typed_invoice"]

#: Era -> (the client's ``mode``, the version the test client speaks).
ERAS = {"modern": ("auto", "2026-07-28"), "legacy": ("legacy", "2025-11-25")}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[str]:
    instance = tmp_path_factory.mktemp("results-instance")
    with GunicornServer(
        app="results_app:create_app()",
        env={"RESULTS_APP_INSTANCE": str(instance), "MCP_STORE_URL": None},
        workers=1,
        args=("--chdir", str(APPS)),
        clean_log=True,
    ) as server:
        yield server.url + "/mcp"


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    return t.cast(str, request.param)


def call(url: str, era: str, name: str) -> types.CallToolResult:
    async def main() -> types.CallToolResult:
        async with Client(url, mode=ERAS[era][0], read_timeout_seconds=30) as client:
            await client.list_tools()  # as a host does: it learns the schemas
            return await client.call_tool(name, {})

    return anyio.run(main)


def test_a_dict_with_a_type_key_is_structured_output(url: str, era: str) -> None:
    result = call(url, era, "invoice")
    assert not result.is_error
    assert result.structured_content == {"type": "invoice", "total": 3}
    assert [c.type for c in result.content] == ["text"]


def test_an_exact_content_block_is_content(url: str, era: str) -> None:
    result = call(url, era, "text_block")
    assert result.structured_content is None
    assert result.content == [types.TextContent(type="text", text="hello")]


def test_a_block_with_an_unknown_key_is_data(url: str, era: str) -> None:
    result = call(url, era, "near_block")
    assert result.structured_content == {"type": "text", "text": "hello", "total": 3}


def test_a_declared_output_schema_makes_a_block_shaped_dict_data(
    url: str, era: str
) -> None:
    # The client validates structuredContent against the outputSchema and
    # refuses a result without it: the dict must not go out as a block.
    result = call(url, era, "typed_invoice")
    assert result.structured_content == {"type": "text", "text": "an invoice"}


@pytest.mark.parametrize(
    "name", ["invoice", "text_block", "near_block", "typed_invoice"]
)
def test_the_test_client_agrees_with_the_real_client(
    url: str, era: str, name: str, tmp_path: Path
) -> None:
    """``mcp.test_client()`` gets what the real client gets, and passes its
    own checks (the MCP schema of the era, the tool's output schema)."""
    app = Flask("results", instance_path=str(tmp_path))
    results_app.mcp.init_app(app)
    real = call(url, era, name).model_dump(by_alias=True, exclude_none=True)
    with results_app.mcp.test_client(
        app, protocol_version=ERAS[era][1], validate=True
    ) as client:
        ours = client.call_tool(name)
    for key in ("content", "structuredContent"):
        assert ours.get(key) == real.get(key), key
    assert not ours.get("isError") and not real["isError"]


def test_the_typescript_sdk_client_takes_every_result(url: str) -> None:
    """The TypeScript SDK 1.32 client, which validates results with its own
    schema and structured content against the output schema, takes them all."""
    ran = run_node([TS_CLIENT, url, *TOOLS], timeout=120)
    assert ran.returncode == 0, ran.stdout
    got = json.loads(ran.stdout.strip().splitlines()[-1])
    assert {name: "error" in answer for name, answer in got.items()} == dict.fromkeys(
        TOOLS, False
    ), got
    results = {name: answer["result"] for name, answer in got.items()}
    assert results["invoice"]["structuredContent"] == {"type": "invoice", "total": 3}
    assert results["text_block"]["content"] == [{"type": "text", "text": "hello"}]
    assert "structuredContent" not in results["text_block"]
    assert results["typed_invoice"]["structuredContent"]["text"] == "an invoice"
