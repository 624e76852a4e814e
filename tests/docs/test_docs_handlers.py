"""The examples of the quickstart and of the tools, resources and prompts guide."""

from __future__ import annotations

import pytest
from docs_helpers import EXAMPLES

from flask_mcp.components.component import RegistrationError
from flask_mcp.testing import MCPError


def test_quickstart(load_example):
    example = load_example("quickstart", alias="app")
    with example.mcp.test_client(example.app) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["add"]
        assert client.call_tool("add", {"a": 2, "b": 3})["content"] == [
            {"type": "text", "text": "5"}
        ]
        assert client.read_resource("notes://2")["contents"][0]["text"] == (
            "Call the bank"
        )
        messages = client.get_prompt("review", {"code": "x = 1"})["messages"]
        assert "x = 1" in messages[0]["content"]["text"]


def test_quickstart_tests_pass(load_example):
    """The test module the quickstart shows passes against the quickstart app."""
    load_example("quickstart", alias="app")
    tests = load_example("test_quickstart")
    tests.test_add()
    tests.test_note()


def test_tools_from_hints(load_example):
    example = load_example("tools")
    with example.mcp.test_client(example.app) as client:
        tools = {tool["name"]: tool for tool in client.list_tools()}
        convert = tools["convert"]
        assert convert["annotations"] == {"readOnlyHint": True, "idempotentHint": True}
        schema = convert["inputSchema"]
        assert schema["required"] == ["value"]
        assert schema["properties"]["to"]["enum"] == ["celsius", "fahrenheit"]
        assert schema["properties"]["value"]["description"] == (
            "the temperature to convert."
        )
        assert convert["outputSchema"]["properties"]["unit"]["type"] == "string"
        result = client.call_tool("convert", {"value": 212})
        assert result["structuredContent"] == {"value": 100.0, "unit": "celsius"}

        search = tools["search-books"]["inputSchema"]["properties"]
        assert search["query"]["description"] == "words to look for in titles"
        found = client.call_tool("search-books", {"query": "flask"})
        # A list of strings is a list of text blocks, not structured output.
        assert found == {"content": [{"type": "text", "text": "Flask Web Development"}]}

        bad = client.call_tool("convert", {"value": "hot"})
        assert bad["isError"] is True
        assert "value" in bad["content"][0]["text"]


def test_tools_from_schemas(load_example):
    example = load_example("tools")
    with example.mcp.test_client(example.app) as client:
        tools = {tool["name"]: tool for tool in client.list_tools()}
        ticket = tools["open_ticket"]["inputSchema"]
        assert ticket["required"] == ["title"]
        assert tools["explain"]["inputSchema"]["properties"]["sql"]["maxLength"] == 2000
        opened = client.call_tool("open_ticket", {"title": "Printer on fire"})
        assert opened["structuredContent"]["priority"] == 3
        refused = client.call_tool("open_ticket", {"title": "x", "priority": 9})
        assert refused["isError"] is True


def test_tool_errors_and_results(load_example):
    example = load_example("tools")
    with example.mcp.test_client(example.app) as client:
        failed = client.call_tool("divide", {"a": 1, "b": 0})
        assert failed == {
            "content": [{"type": "text", "text": "b must not be zero"}],
            "isError": True,
        }
        image = client.call_tool("logo")["content"][0]
        assert image["type"] == "image" and image["mimeType"] == "image/png"
        linted = client.call_tool("lint", {"code": "x = 1"})
        assert linted["isError"] is True
        assert linted["structuredContent"] == {
            "problems": ["line 1: missing docstring"]
        }
        assert [block["text"] for block in linted["content"]] == [
            "1 problem(s)",
            "line 1: missing docstring",
        ]
        status = client.call_tool("fetch_status", {"service": "db"})
        assert status["content"][0]["text"] == "db: ok"


def test_resources(load_example):
    example = load_example("resources")
    with example.mcp.test_client(example.app) as client:
        listed = {item["uri"]: item for item in client.list_resources()}
        assert listed["config://app"]["annotations"] == {
            "audience": ["assistant"],
            "priority": 0.8,
        }
        assert listed["reports://latest"]["annotations"] == {
            "lastModified": "2025-06-01"
        }
        templates = {item["uriTemplate"] for item in client.list_resource_templates()}
        assert templates == {"users://{user_id}/profile", "logs://{day}"}
        profile = client.read_resource("users://2/profile")["contents"][0]
        assert profile["mimeType"] == "application/json"
        assert profile["text"] == '{"id": 2, "name": "Grace"}'
        logs = client.read_resource("logs://2025-06-01")["contents"]
        assert [item["uri"] for item in logs] == [
            "logs://2025-06-01/app.log",
            "logs://2025-06-01/error.log",
        ]
        pdf = client.read_resource("reports://latest")["contents"][0]
        assert pdf["blob"] == "JVBERi0xLjcK"
        with pytest.raises(MCPError) as refused:
            client.read_resource("users://ada/profile")
        assert "user_id" in refused.value.message


def test_prompts_and_completion(load_example):
    example = load_example("prompts")
    with example.mcp.test_client(example.app) as client:
        prompts = {prompt["name"]: prompt for prompt in client.list_prompts()}
        arguments = {arg["name"]: arg for arg in prompts["summarize"]["arguments"]}
        assert arguments["text"]["required"] is True
        assert arguments["words"]["required"] is False
        assert arguments["words"]["description"].endswith("Expected: a number (int).")
        messages = client.get_prompt(
            "summarize", {"text": "Long text", "words": "20", "tone": "formal"}
        )["messages"]
        assert messages[0]["content"]["text"].startswith("Summarize in 20 words")
        assert messages[1]["role"] == "assistant"
        with pytest.raises(MCPError):
            client.get_prompt("summarize", {"text": "t", "words": "many"})
        languages = client.complete(
            {"type": "ref/prompt", "name": "translate"}, "language", "r"
        )
        assert languages["values"] == ["rust"]
        tones = client.complete({"type": "ref/prompt", "name": "summarize"}, "tone")
        assert tones["values"] == ["friendly", "formal"]


def test_one_function_on_two_servers(load_example):
    example = load_example("runtime")
    app = example.create_app()
    public, partners = (state.mcp for state in app.extensions["mcp"].values())
    with public.test_client(app) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["weather"]
    with partners.test_client(app) as client:
        assert sorted(tool["name"] for tool in client.list_tools()) == [
            "forecast",
            "weather",
        ]
        days = client.call_tool("forecast", {"city": "Oslo", "days": 2})
        assert len(days["content"]) == 2


def test_hello(load_example):
    example = load_example("hello")
    with example.mcp.test_client(example.app) as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["content"][0]["text"] == "3"


def test_flask_mcp_list_prints_what_the_quickstart_shows(load_example):
    example = load_example("quickstart")
    shown = (EXAMPLES / "quickstart_mcp_list.txt").read_text().splitlines()
    result = example.app.test_cli_runner().invoke(args=["mcp", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines() == shown[1:]  # after the command line


def test_factory(load_example, tmp_path):
    example = load_example("factory")
    for number in (1, 2):  # one extension, several apps
        app = example.create_app({"MCP_STORE_URL": f"file://{tmp_path / str(number)}"})
        with example.mcp.test_client(app) as client:
            assert client.call_tool("add", {"a": number, "b": 1})["content"][0][
                "text"
            ] == str(number + 1)


def test_registration_mistakes_fail_early(load_example):
    example = load_example("registration")
    with example.mcp.test_client(example.app) as client:
        result = client.call_tool("search", {"query": "gunicorn"})
    assert result["content"][0]["text"] == "wiki and issue results for gunicorn"
    with pytest.raises(RegistrationError, match="pass replace=True"):
        example.mcp.tool(name="search")(example.search)


def test_pydantic_models(load_example):
    example = load_example("pydantic_models")
    with example.mcp.test_client(example.app) as client:
        (tool,) = client.list_tools()
        assert (
            tool["inputSchema"]["$defs"]["Order"]["properties"]["quantity"]["maximum"]
            == 10
        )
        assert tool["outputSchema"]["properties"]["order_id"]["type"] == "integer"
        order = {
            "item": "tea",
            "quantity": 2,
            "ship_to": {"street": "1 Main", "city": "Oslo"},
        }
        result = client.call_tool("place_order", {"order": order})
        assert result["structuredContent"] == {"order_id": 42, "total": 19.0}
        refused = client.call_tool("place_order", {"order": {**order, "quantity": 0}})
        assert (
            refused["isError"] is True and "quantity" in refused["content"][0]["text"]
        )
