import pytest
from testing_app import TODOS
from testing_app import create_app
from testing_app import mcp

from flask_mcp.testing import MCPError

EDITOR = {"X-API-Key": "editor-key"}


@pytest.fixture
def app(tmp_path):
    TODOS.clear()
    return create_app(
        {
            "TESTING": True,
            "MCP_STORE_URL": f"file://{tmp_path / 'store'}",
            "API_KEYS": {
                "editor-key": {"sub": "ada", "role": "editor"},
                "reader-key": {"sub": "bob", "role": "reader"},
            },
        }
    )


@pytest.fixture
def client(app):
    with mcp.test_client(app, headers=EDITOR) as client:
        yield client


def test_list_tools(client):
    names = {tool["name"] for tool in client.list_tools()}
    assert names == {"add_todo", "list_todos"}


def test_structured_result(client):
    result = client.call_tool("list_todos")
    assert result["structuredContent"] == {"todos": []}


@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
def test_answering_a_question(app, version):
    def confirm(params):
        assert params["message"] == "Add 'Buy milk'?"
        return {"action": "accept", "content": {"confirm": True}}

    with mcp.test_client(
        app, headers=EDITOR, protocol_version=version, elicitation=confirm
    ) as client:
        result = client.call_tool("add_todo", {"title": "Buy milk"})
    assert result["content"][0]["text"] == "Added 'Buy milk'."
    assert TODOS == ["Buy milk"]


def test_readers_cannot_add(app):
    with mcp.test_client(app, headers={"X-API-Key": "reader-key"}) as client:
        assert {tool["name"] for tool in client.list_tools()} == {"list_todos"}
        with pytest.raises(MCPError) as error:
            client.call_tool("add_todo", {"title": "x"})
    assert error.value.code == -32602


def test_anonymous_is_refused(app):
    with pytest.raises(MCPError) as error:
        with mcp.test_client(app):
            pass
    assert error.value.status == 401


def test_without_the_protocol_checks(app):
    # -- validate=False
    with mcp.test_client(app, headers=EDITOR, validate=False) as client:
        assert client.call_tool("list_todos")["structuredContent"] == {"todos": []}
