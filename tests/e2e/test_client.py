"""The example app under gunicorn (2 sync workers), driven by the official MCP client.

Every test opens its own ``mcp.Client`` in the default ``mode="auto"``: it
probes ``server/discover`` first and falls back to ``initialize``, so each
test also checks that the probe is answered the way the SDK expects.

The module runs twice: once on the default file store (the app's instance
folder) and once on Redis (``MCP_STORE_URL``). With two workers, a client's
answer to a sampling or elicitation request is a separate POST that may land
on the other worker, so those only work if replies go through the store.
"""

from __future__ import annotations

import base64
import contextlib
import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

import anyio
import httpx2
import mcp_types as types
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from support import GunicornServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The client's own deprecation warnings for 2025-era features (logging,
#: subscriptions), which are exactly what these tests exercise.
IGNORE_DEPRECATED = pytest.mark.filterwarnings(
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)

FIXTURE_TOOLS = {
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_error_handling",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "json_schema_2020_12_tool",
    "test_reconnection",
}
EVERYDAY_TOOLS = {"add", "convert_temperature", "create_ticket"}


# ---------------------------------------------------------------------------
# server and client plumbing


@pytest.fixture(scope="module", params=["file", "redis"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The example app on 2 workers, with the file store or the Redis store."""
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    env: dict[str, str | None] = {
        "EXAMPLE_INSTANCE_PATH": str(instance),
        "MCP_STORE_URL": None,
    }
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_server").url
        env["MCP_STORE_URL"] = redis_url.rsplit("/", 1)[0] + "/1"  # own database
    with GunicornServer(
        app="example_app:create_app()", env=env, workers=2, clean_log=True
    ) as srv:
        yield srv
    # The state really went where this variant says.
    files = [p for p in instance.rglob("*") if p.is_file()]
    assert bool(files) == (request.param == "file"), files


@pytest.fixture
def url(server: GunicornServer) -> str:
    return server.url + "/mcp"


async def answer_sampling(
    context: t.Any, params: types.CreateMessageRequestParams
) -> types.CreateMessageResult:
    """A fake model: echoes the prompt back, upper-cased."""
    prompt = params.messages[0].content
    assert isinstance(prompt, types.TextContent)
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=prompt.text.upper()),
        model="echo-model",
        stop_reason="endTurn",
    )


async def answer_elicitation(context: t.Any, params: t.Any) -> types.ElicitResult:
    """A fake user who fills in the form."""
    return types.ElicitResult(
        action="accept", content={"username": "alice", "email": "alice@example.com"}
    )


@dataclass
class Inbox:
    """What the server sent the client besides results."""

    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    notifications: list[t.Any] = field(default_factory=list)
    sampling: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitation: list[t.Any] = field(default_factory=list)

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def on_message(self, message: t.Any) -> None:
        self.notifications.append(message)

    async def on_sampling(
        self, context: t.Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        self.sampling.append(params)
        return await answer_sampling(context, params)

    async def on_elicitation(self, context: t.Any, params: t.Any) -> types.ElicitResult:
        self.elicitation.append(params)
        return await answer_elicitation(context, params)


def run(
    url: str,
    scenario: t.Callable[[Client], t.Awaitable[t.Any]],
    inbox: Inbox | None = None,
):
    """Open a client on ``url``, run ``scenario(client)``, close the client."""
    inbox = inbox or Inbox()

    async def main() -> t.Any:
        async with Client(
            url,
            sampling_callback=inbox.on_sampling,
            elicitation_callback=inbox.on_elicitation,
            logging_callback=inbox.on_log,
            message_handler=inbox.on_message,
            read_timeout_seconds=30,
        ) as client:
            return await scenario(client)

    return anyio.run(main)


@dataclass
class Exchange:
    method: str
    rpc_method: str | None
    status: int
    request_session: str | None
    response_session: str | None


class Recorder:
    """Records every HTTP exchange the client's transport makes."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        rpc_method = None
        if request.method == "POST":
            with contextlib.suppress(ValueError, AttributeError):
                rpc_method = json.loads(request.content).get("method")
        self.exchanges.append(
            Exchange(
                request.method,
                rpc_method,
                response.status_code,
                request.headers.get("mcp-session-id"),
                response.headers.get("mcp-session-id"),
            )
        )


def text_of(result: types.CallToolResult | types.GetPromptResult) -> str:
    if isinstance(result, types.GetPromptResult):
        contents = [m.content for m in result.messages]
    else:
        contents = list(result.content)
    return "\n".join(c.text for c in contents if isinstance(c, types.TextContent))


# ---------------------------------------------------------------------------
# lifecycle


def test_initialize_negotiates_latest_handshake_version(url: str) -> None:
    async def scenario(client: Client):
        return (
            client.protocol_version,
            client.server_info,
            client.server_capabilities,
            (client.instructions),
        )

    version, info, caps, instructions = run(url, scenario)
    assert version == "2025-11-25"
    assert info is not None
    assert (info.name, info.version) == ("flask-mcp-example", "0.1.0")
    assert instructions == "Conformance fixtures and a few small everyday tools."
    assert caps.tools is not None
    assert caps.resources is not None and caps.resources.subscribe is True
    assert caps.prompts is not None
    assert caps.logging is not None
    assert caps.completions is not None


def test_auto_mode_probe_falls_back_and_session_is_deleted_on_exit(url: str) -> None:
    recorder = Recorder()

    async def main() -> None:
        async with httpx2.AsyncClient(
            timeout=httpx2.Timeout(30, read=60),
            event_hooks={"response": [recorder.on_response]},
        ) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                assert client.protocol_version == "2025-11-25"
                tools = await client.list_tools()
                assert tools.tools

    anyio.run(main)

    posts = [e for e in recorder.exchanges if e.method == "POST"]
    # The probe is answered (not refused at the HTTP level), then initialize.
    assert [(e.rpc_method, e.status) for e in posts[:2]] == [
        ("server/discover", 200),
        ("initialize", 200),
    ]
    assert posts[0].response_session is None
    session_id = posts[1].response_session
    assert session_id and session_id.isascii() and session_id.isprintable()
    # Only the initialize response carries the session id; later requests send it.
    assert all(
        e.response_session is None for e in recorder.exchanges if e is not posts[1]
    )
    assert all(e.request_session == session_id for e in posts[2:])
    deletes = [e for e in recorder.exchanges if e.method == "DELETE"]
    assert [(d.status, d.request_session) for d in deletes] == [(204, session_id)]

    # The session is gone for every worker.
    for _ in range(4):
        response = requests.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={
                "Accept": "application/json, text/event-stream",
                "Mcp-Session-Id": session_id,
                "MCP-Protocol-Version": "2025-11-25",
            },
            timeout=10,
        )
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == -32001


# ---------------------------------------------------------------------------
# lists


def test_list_tools(url: str) -> None:
    async def scenario(client: Client):
        return await client.list_tools()

    tools = {tool.name: tool for tool in run(url, scenario).tools}
    assert FIXTURE_TOOLS | EVERYDAY_TOOLS <= set(tools)
    for tool in tools.values():
        assert tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name

    assert tools["test_sampling"].input_schema["required"] == ["prompt"]
    assert tools["test_elicitation"].input_schema["required"] == ["message"]
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"
    assert tools["add"].annotations is not None
    assert tools["add"].annotations.read_only_hint is True
    assert tools["add"].annotations.idempotent_hint is True
    # Verbatim JSON Schema 2020-12.
    schema = tools["json_schema_2020_12_tool"].input_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$defs"]["address"]["type"] == "object"
    assert schema["additionalProperties"] is False
    # Structured output is announced.
    output = tools["convert_temperature"].output_schema
    assert output is not None
    assert set(output["properties"]) == {"value", "unit"}
    # The marshmallow schema became the input schema.
    ticket = tools["create_ticket"].input_schema
    assert ticket["required"] == ["title"]
    assert set(ticket["properties"]) == {"title", "priority", "tags"}


def test_list_resources_and_templates(url: str) -> None:
    async def scenario(client: Client):
        return await client.list_resources(), await client.list_resource_templates()

    resources, templates = run(url, scenario)
    by_uri = {str(r.uri): r for r in resources.resources}
    assert {
        "test://static-text",
        "test://static-binary",
        "test://watched-resource",
    } <= set(by_uri)
    assert by_uri["test://static-text"].mime_type == "text/plain"
    assert by_uri["test://static-binary"].mime_type == "image/png"
    for resource in by_uri.values():
        assert resource.name
        assert resource.description
    (template,) = [
        t
        for t in templates.resource_templates
        if t.uri_template == "test://template/{id}/data"
    ]
    assert template.name == "template-data"
    assert template.mime_type == "application/json"


def test_list_prompts(url: str) -> None:
    async def scenario(client: Client):
        return await client.list_prompts()

    prompts = {p.name: p for p in run(url, scenario).prompts}
    assert {
        "test_simple_prompt",
        "test_prompt_with_arguments",
        "test_prompt_with_embedded_resource",
        "test_prompt_with_image",
    } <= set(prompts)
    for prompt in prompts.values():
        assert prompt.description
    arguments = {
        a.name: a.required for a in prompts["test_prompt_with_arguments"].arguments
    }
    assert arguments == {"arg1": True, "arg2": True}
    assert not prompts["test_simple_prompt"].arguments


# ---------------------------------------------------------------------------
# tools


def test_call_content_tools(url: str) -> None:
    async def scenario(client: Client):
        names = [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
        ]
        return {name: await client.call_tool(name) for name in names}

    results = run(url, scenario)
    for result in results.values():
        assert not result.is_error

    (text,) = results["test_simple_text"].content
    assert isinstance(text, types.TextContent)
    assert text.text == "This is a simple text response for testing."

    (image,) = results["test_image_content"].content
    assert isinstance(image, types.ImageContent)
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(PNG_SIGNATURE)

    (audio,) = results["test_audio_content"].content
    assert isinstance(audio, types.AudioContent)
    assert audio.mime_type == "audio/wav"
    wav = base64.b64decode(audio.data)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"

    (embedded,) = results["test_embedded_resource"].content
    assert isinstance(embedded, types.EmbeddedResource)
    assert isinstance(embedded.resource, types.TextResourceContents)
    assert str(embedded.resource.uri) == "test://embedded-resource"
    assert embedded.resource.mime_type == "text/plain"
    assert embedded.resource.text == "This is an embedded resource content."

    mixed = results["test_multiple_content_types"].content
    assert [c.type for c in mixed] == ["text", "image", "resource"]
    assert isinstance(mixed[0], types.TextContent)
    assert mixed[0].text == "Multiple content types test:"
    assert isinstance(mixed[1], types.ImageContent)
    assert base64.b64decode(mixed[1].data).startswith(PNG_SIGNATURE)
    assert isinstance(mixed[2], types.EmbeddedResource)
    resource = mixed[2].resource
    assert isinstance(resource, types.TextResourceContents)
    assert str(resource.uri) == "test://mixed-content-resource"
    assert resource.mime_type == "application/json"
    assert json.loads(resource.text) == {"test": "data", "value": 123}


def test_call_typed_tool_with_structured_output(url: str) -> None:
    async def scenario(client: Client):
        return (
            await client.call_tool(
                "convert_temperature", {"value": 212, "to": "celsius"}
            ),
            await client.call_tool(
                "convert_temperature", {"value": 100, "to": "fahrenheit"}
            ),
            await client.call_tool("add", {"a": 2, "b": 40}),
        )

    to_celsius, to_fahrenheit, added = run(url, scenario)
    assert not to_celsius.is_error
    assert to_celsius.structured_content == {"value": 100.0, "unit": "celsius"}
    # The structured content is also sent as text, for older clients.
    assert json.loads(text_of(to_celsius)) == to_celsius.structured_content
    assert to_fahrenheit.structured_content == {"value": 212.0, "unit": "fahrenheit"}
    assert json.loads(text_of(to_fahrenheit)) == to_fahrenheit.structured_content
    assert not added.is_error
    assert text_of(added) == "42"


def test_call_marshmallow_tool(url: str) -> None:
    async def scenario(client: Client):
        return (
            await client.call_tool(
                "create_ticket", {"title": "Printer on fire", "tags": ["hw"]}
            ),
            await client.call_tool("create_ticket", {"title": "no"}),
            await client.call_tool(
                "create_ticket", {"title": "Valid title", "priority": 9}
            ),
        )

    valid, too_short, bad_priority = run(url, scenario)
    assert not valid.is_error
    ticket = json.loads(text_of(valid))
    assert ticket["title"] == "Printer on fire"
    assert ticket["priority"] == 3  # marshmallow's load_default
    assert ticket["tags"] == ["hw"]
    assert isinstance(ticket["id"], int)
    # 2025-11-25: invalid arguments are a tool error the model can read.
    assert too_short.is_error is True
    assert "title" in text_of(too_short)
    assert bad_priority.is_error is True
    assert "priority" in text_of(bad_priority)


def test_error_handling_tool_returns_is_error(url: str) -> None:
    async def scenario(client: Client):
        return await client.call_tool("test_error_handling")

    result = run(url, scenario)
    assert result.is_error is True
    assert text_of(result) == "This tool intentionally returns an error for testing"


def test_unknown_tool_is_invalid_params(url: str) -> None:
    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.call_tool("no_such_tool", {})
        # The session survives the error.
        return info.value, await client.call_tool("test_simple_text")

    error, after = run(url, scenario)
    assert error.code == -32602
    assert "no_such_tool" in str(error)
    assert not after.is_error


# ---------------------------------------------------------------------------
# resources, prompts, completion


def test_read_resources(url: str) -> None:
    async def scenario(client: Client):
        return (
            await client.read_resource("test://static-text"),
            await client.read_resource("test://static-binary"),
            await client.read_resource("test://template/123/data"),
            await client.read_resource("test://watched-resource"),
        )

    text, binary, template, watched = run(url, scenario)

    (content,) = text.contents
    assert isinstance(content, types.TextResourceContents)
    assert str(content.uri) == "test://static-text"
    assert content.mime_type == "text/plain"
    assert content.text == "This is the content of the static text resource."

    (content,) = binary.contents
    assert isinstance(content, types.BlobResourceContents)
    assert str(content.uri) == "test://static-binary"
    assert content.mime_type == "image/png"
    assert base64.b64decode(content.blob).startswith(PNG_SIGNATURE)

    (content,) = template.contents
    assert isinstance(content, types.TextResourceContents)
    assert str(content.uri) == "test://template/123/data"
    assert content.mime_type == "application/json"
    assert json.loads(content.text) == {
        "id": "123",
        "templateTest": True,
        "data": "Data for ID: 123",
    }

    (content,) = watched.contents
    assert isinstance(content, types.TextResourceContents)
    assert content.text == "Watched resource content"


def test_read_unknown_resource_is_resource_not_found(url: str) -> None:
    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.read_resource("test://no-such-resource")
        return info.value

    assert run(url, scenario).code == -32002


def test_get_prompts(url: str) -> None:
    async def scenario(client: Client):
        return (
            await client.get_prompt("test_simple_prompt"),
            await client.get_prompt(
                "test_prompt_with_arguments",
                {"arg1": "testValue1", "arg2": "testValue2"},
            ),
            await client.get_prompt(
                "test_prompt_with_embedded_resource",
                {"resourceUri": "test://example-resource"},
            ),
            await client.get_prompt("test_prompt_with_image"),
        )

    simple, with_args, embedded, image = run(url, scenario)

    assert [m.role for m in simple.messages] == ["user"]
    assert text_of(simple) == "This is a simple prompt for testing."

    assert (
        text_of(with_args)
        == "Prompt with arguments: arg1='testValue1', arg2='testValue2'"
    )

    resource_message, text_message = embedded.messages
    assert isinstance(resource_message.content, types.EmbeddedResource)
    resource = resource_message.content.resource
    assert isinstance(resource, types.TextResourceContents)
    assert str(resource.uri) == "test://example-resource"
    assert resource.mime_type == "text/plain"
    assert resource.text == "Embedded resource content for testing."
    assert isinstance(text_message.content, types.TextContent)

    image_message, text_message = image.messages
    assert isinstance(image_message.content, types.ImageContent)
    assert image_message.content.mime_type == "image/png"
    assert base64.b64decode(image_message.content.data).startswith(PNG_SIGNATURE)
    assert isinstance(text_message.content, types.TextContent)


def test_get_prompt_missing_argument_is_invalid_params(url: str) -> None:
    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only one"})
        return info.value

    error = run(url, scenario)
    assert error.code == -32602
    assert "arg2" in str(error)


def test_completion(url: str) -> None:
    async def scenario(client: Client):
        ref = types.PromptReference(
            type="ref/prompt", name="test_prompt_with_arguments"
        )
        return (
            await client.complete(ref, {"name": "arg1", "value": "test"}),
            await client.complete(ref, {"name": "arg1", "value": "testi"}),
            await client.complete(ref, {"name": "arg2", "value": "x"}),
        )

    all_three, one, none = run(url, scenario)
    assert all_three.completion.values == ["test1", "test2", "testing"]
    assert one.completion.values == ["testing"]
    assert none.completion.values == []


# ---------------------------------------------------------------------------
# server-to-client traffic while a tool runs


def test_sampling(url: str) -> None:
    """Each answer is a separate POST that either worker may get: try several."""
    inbox = Inbox()
    prompts = [f"question number {i}" for i in range(5)]

    async def scenario(client: Client):
        return [await client.call_tool("test_sampling", {"prompt": p}) for p in prompts]

    results = run(url, scenario, inbox)
    assert [text_of(r) for r in results] == [
        f"LLM response: {p.upper()}" for p in prompts
    ]
    assert all(not r.is_error for r in results)
    assert len(inbox.sampling) == 5
    for params, prompt in zip(inbox.sampling, prompts, strict=True):
        assert params.max_tokens == 100
        (message,) = params.messages
        assert message.role == "user"
        assert isinstance(message.content, types.TextContent)
        assert message.content.text == prompt


def test_elicitation(url: str) -> None:
    inbox = Inbox()

    async def scenario(client: Client):
        return [
            await client.call_tool(
                "test_elicitation", {"message": f"Who are you? ({i})"}
            )
            for i in range(3)
        ]

    results = run(url, scenario, inbox)
    for result in results:
        assert not result.is_error
        text = text_of(result)
        assert text.startswith("User response: action=accept")
        assert "alice@example.com" in text
    assert [p.message for p in inbox.elicitation] == [
        f"Who are you? ({i})" for i in range(3)
    ]
    schema = inbox.elicitation[0].requested_schema
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"username", "email"}


def test_progress_notifications(url: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(
        progress: float, total: float | None, message: str | None
    ) -> None:
        updates.append((progress, total, message))

    async def scenario(client: Client):
        return await client.call_tool(
            "test_tool_with_progress", progress_callback=on_progress
        )

    result = run(url, scenario)
    assert not result.is_error
    assert text_of(result).startswith("Progress tool completed")
    assert len(updates) >= 3
    progress = [p for p, _, _ in updates]
    assert progress == sorted(progress)
    assert progress[0] == 0 and progress[-1] == 100
    assert all(total == 100 for _, total, _ in updates)


@IGNORE_DEPRECATED
def test_log_notifications(url: str) -> None:
    inbox = Inbox()

    async def scenario(client: Client):
        await client.set_logging_level("debug")
        return await client.call_tool("test_tool_with_logging")

    result = run(url, scenario, inbox)
    assert not result.is_error
    assert text_of(result) == "Tool with logging executed successfully"
    assert len(inbox.logs) >= 3
    assert [log.data for log in inbox.logs] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    assert {log.level for log in inbox.logs} == {"info"}
    assert any(
        isinstance(m, types.LoggingMessageNotification) for m in inbox.notifications
    )


@IGNORE_DEPRECATED
def test_log_level_filters_notifications(url: str) -> None:
    """The level is session state: set by one request, applied by the next."""
    inbox = Inbox()

    async def scenario(client: Client):
        await client.set_logging_level("warning")
        return await client.call_tool("test_tool_with_logging")

    result = run(url, scenario, inbox)
    assert not result.is_error
    assert inbox.logs == []


@IGNORE_DEPRECATED
def test_subscribe_and_unsubscribe(url: str) -> None:
    async def scenario(client: Client):
        subscribed = await client.subscribe_resource("test://watched-resource")
        unsubscribed = await client.unsubscribe_resource("test://watched-resource")
        with pytest.raises(MCPError) as info:
            await client.subscribe_resource("test://no-such-resource")
        return subscribed, unsubscribed, info.value

    subscribed, unsubscribed, error = run(url, scenario)
    assert isinstance(subscribed, types.EmptyResult)
    assert isinstance(unsubscribed, types.EmptyResult)
    assert error.code == -32002


def test_reconnection_after_server_closes_stream(url: str) -> None:
    """The server ends the POST stream mid-call; the client resumes with GET."""

    async def scenario(client: Client):
        return await client.call_tool("test_reconnection")

    result = run(url, scenario)
    assert not result.is_error
    assert text_of(result) == "Reconnection test completed successfully"
