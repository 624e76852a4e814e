"""The examples of the context guide, on both protocol eras."""

from __future__ import annotations

import pytest

from flask_mcp.testing import MCPError
from flask_mcp.testing import MCPTestClient

ERAS = ["2025-11-25", "2026-07-28"]


def _accept(content):
    return lambda params: {"action": "accept", "content": content}


def _model(text):
    return lambda params: {
        "role": "assistant",
        "content": {"type": "text", "text": text},
        "model": "test-model",
    }


@pytest.mark.parametrize("era", ERAS)
def test_logging_and_progress(load_example, era):
    example = load_example("context")
    with example.mcp.test_client(example.app, protocol_version=era) as client:
        params = {"name": "import_rows", "arguments": {"rows": ["a", "b"]}}
        params["_meta"] = {"progressToken": "t1"}
        if era == ERAS[1]:
            params["_meta"]["io.modelcontextprotocol/logLevel"] = "info"
        result = client.request("tools/call", params)
    assert result["content"][0]["text"] == "2"
    methods = [note["method"] for note in client.notifications]
    assert methods.count("notifications/progress") == 2
    if era == ERAS[0]:
        assert "notifications/message" in methods


@pytest.mark.parametrize("era", ERAS)
def test_book_table_runs_its_side_effect_once(load_example, era):
    example = load_example("context")
    answer = _accept({"people": 2, "time": "19:30"})
    with example.mcp.test_client(
        example.app, protocol_version=era, elicitation=answer
    ) as client:
        result = client.call_tool("book_table", {"restaurant": "Chez Flask"})
    assert result["content"][0]["text"] == "Booked table 1 for 2 at 19:30."
    assert example.BOOKINGS == {
        1: {"restaurant": "Chez Flask", "people": 2, "time": "19:30"}
    }


@pytest.mark.parametrize("era", ERAS)
def test_book_table_declined(load_example, era):
    example = load_example("context")
    decline = lambda params: {"action": "decline"}  # noqa: E731
    with example.mcp.test_client(
        example.app, protocol_version=era, elicitation=decline
    ) as client:
        result = client.call_tool("book_table", {"restaurant": "Chez Flask"})
    assert result["content"][0]["text"] == "Nothing was booked."
    assert example.BOOKINGS == {}


@pytest.mark.parametrize("era", ERAS)
def test_release_notes_keeps_state_across_rounds(load_example, era):
    example = load_example("context")
    with example.mcp.test_client(
        example.app, protocol_version=era, sampling=_model("Faster and quieter.")
    ) as client:
        result = client.call_tool("release_notes", {"version": "2.0"})
    assert result["content"][0]["text"] == "Faster and quieter."
    assert example.SLOW_LOOKUPS == ["2.0"]  # once, though it ran twice on 2026


def test_release_notes_without_sampling(load_example):
    example = load_example("context")
    with example.mcp.test_client(example.app) as client:
        result = client.call_tool("release_notes", {"version": "2.0"})
    assert result["content"][0]["text"] == "2.0: faster startup, fewer warnings"


@pytest.mark.parametrize("era", ERAS)
def test_plan_trip_asks_two_questions(load_example, era):
    example = load_example("context")
    with example.mcp.test_client(
        example.app,
        protocol_version=era,
        elicitation=_accept({"dates": "May 3-7"}),
        sampling=_model("Walk the harbour."),
    ) as client:
        result = client.call_tool("plan_trip", {"city": "Oslo"})
    assert result["content"][0]["text"] == "Oslo, May 3-7: Walk the harbour."


@pytest.mark.parametrize("era", ERAS)
def test_roots_and_url_elicitation(load_example, era):
    example = load_example("context")
    roots = [{"uri": "file:///home/ada/project", "name": "project"}]
    with example.mcp.test_client(
        example.app, protocol_version=era, roots=roots
    ) as client:
        result = client.call_tool("workspace")
    assert result["content"][0]["text"] == "file:///home/ada/project"


class URLModeClient(MCPTestClient):
    """A client that also declares URL-mode elicitation."""

    @property
    def capabilities(self):
        return {**super().capabilities, "elicitation": {"form": {}, "url": {}}}


@pytest.mark.parametrize("era", ERAS)
def test_url_elicitation(load_example, era):
    example = load_example("context")
    asked = []

    def answer(params):
        asked.append(params)
        return {"action": "accept"}

    client = URLModeClient(
        example.mcp, example.app, protocol_version=era, elicitation=answer
    )
    with client:
        result = client.call_tool("connect_calendar")
    assert result["content"][0]["text"] == "Opened."
    assert asked[0]["mode"] == "url"
    assert asked[0]["url"] == "https://calendar.example.com/connect"


def test_a_question_needs_the_client_capability(load_example):
    example = load_example("context")
    with example.mcp.test_client(example.app, elicitation=_accept({})) as client:
        with pytest.raises(MCPError) as refused:
            client.call_tool("connect_calendar")
    assert refused.value.code == -32021
