"""The examples of the access checks and step-up guide."""

from __future__ import annotations

import pytest

from flask_mcp.testing import MCPError


def _names(items, key="name"):
    return sorted(item[key] for item in items)


@pytest.mark.parametrize(
    ("key", "tools"),
    [
        (
            "key-ada",
            [
                "admin_only",
                "admin_tool",
                "delete_data",
                "moderate",
                "scoped_tool",
                "user_tool",
            ],
        ),
        ("key-bob", ["delete_data", "moderate", "user_tool"]),
        ("key-eve", ["delete_data", "user_tool"]),
    ],
)
def test_refused_tools_are_invisible(load_example, key, tools):
    example = load_example("access_checks")
    with example.mcp.test_client(example.app, headers={"X-API-Key": key}) as client:
        assert _names(client.list_tools()) == tools


def test_a_hidden_tool_cannot_be_called(load_example):
    example = load_example("access_checks")
    with example.mcp.test_client(example.app, headers={"X-API-Key": "key-bob"}) as c:
        with pytest.raises(MCPError) as refused:
            c.call_tool("admin_tool")
        assert refused.value.code == -32602
        assert refused.value.message == "Unknown tool: admin_tool"
        assert c.call_tool("moderate")["content"][0]["text"] == "Moderated."


def test_resource_and_prompt_checks(load_example):
    example = load_example("access_checks")
    with example.mcp.test_client(example.app, headers={"X-API-Key": "key-bob"}) as c:
        assert _names(c.list_resources(), "uri") == ["billing://invoices"]
        assert _names(c.list_prompts()) == ["warn_user"]
    with example.mcp.test_client(example.app, headers={"X-API-Key": "key-eve"}) as c:
        assert c.list_resources() == []
        assert c.list_prompts() == []


def test_step_up(load_example):
    example = load_example("access_checks")
    with example.mcp.test_client(example.app, headers={"X-API-Key": "key-bob"}) as c:
        with pytest.raises(MCPError) as refused:
            c.call_tool("delete_data")
    assert refused.value.status == 403
    with example.mcp.test_client(example.app, headers={"X-API-Key": "key-ada"}) as c:
        assert c.call_tool("delete_data")["content"][0]["text"] == "Deleted, ada."


def test_step_up_challenge(load_example):
    example = load_example("access_checks")
    client = example.mcp.test_client(example.app, headers={"X-API-Key": "key-bob"})
    with client:
        response = client._post(
            client._message("tools/call", {"name": "delete_data", "arguments": {}})
        )
    assert response.status_code == 403
    # An API-key server challenges with its own scheme (no OAuth to step up
    # through), still naming the scopes the tool needs.
    assert response.headers["WWW-Authenticate"] == (
        'ApiKey header="X-API-Key", error="insufficient_scope",'
        ' scope="write:data", error_description="tool delete_data needs more scopes"'
    )
