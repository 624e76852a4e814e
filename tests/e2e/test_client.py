"""The example app under gunicorn (2 sync workers), driven by the official MCP client.

Every test runs in one protocol era, chosen explicitly:

* ``modern``: ``Client(url)`` in its default ``mode="auto"`` probes
  ``server/discover``, which this server answers, and so agrees on
  2026-07-28: no session, every request carries its ``_meta``, and
  sampling, elicitation and roots come back as ``input_required`` results
  that the client answers by calling again (MRTR);
* ``legacy``: ``Client(url, mode="legacy")`` runs the ``initialize``
  handshake and agrees on 2025-11-25: a session, and sampling, elicitation
  and roots as live server-to-client requests whose answers are separate
  POSTs.

What both eras have (lists, calls, resources, prompts, completion, the
question-asking fixtures through the client's callbacks) runs in both; what
only one has (sessions, DELETE, the GET stream, ``resources/subscribe``,
``logging/setLevel`` and stream resumption; ``subscriptions/listen`` and
per-request log levels) runs in that one.

The module runs twice: once on the default file store (the app's instance
folder) and once on Redis (``MCP_STORE_URL``). With two workers, a client's
answer to a legacy sampling or elicitation request is a separate POST that
may land on the other worker, and a modern listen stream holds one worker
while the change it waits for is made on the other, so those only work if
replies and changes go through the store.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
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
from mcp.client.subscriptions import PromptsListChanged
from mcp.client.subscriptions import ResourceUpdated
from mcp.client.subscriptions import ToolsListChanged
from mcp.shared.exceptions import MCPError

from support import GunicornServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The client's own deprecation warnings for features 2026-07-28 deprecates
#: (logging, subscriptions, sampling, roots), which these tests exercise.
IGNORE_DEPRECATED = pytest.mark.filterwarnings(
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)
#: Era -> (the client's ``mode``, the version it must agree on).
ERAS = {"modern": ("auto", "2026-07-28"), "legacy": ("legacy", "2025-11-25")}
#: Seconds the server holds a subscriptions/listen stream (``MCP_LISTEN_HOLD``).
LISTEN_HOLD = 3.0

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
MODERN_FIXTURE_TOOLS = {
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_tampered_state",
    "test_input_required_result_capabilities",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_logging_tool",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "test_trigger_resource_update",
    "test_header_params",
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
        "MCP_LISTEN_HOLD": str(LISTEN_HOLD),
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


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    """The protocol era a test runs in: ``"modern"`` or ``"legacy"``."""
    return t.cast(str, request.param)


@pytest.fixture
def mode(era: str) -> str:
    """The client's ``mode=`` for the era."""
    return ERAS[era][0]


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


#: What the fake user types into any form.
FORM_ANSWERS = {
    "username": "alice",
    "email": "alice@example.com",
    "name": "Alice",
    "color": "blue",
    "ok": True,
    "context": "a sunny day",
}


async def answer_elicitation(context: t.Any, params: t.Any) -> types.ElicitResult:
    """A fake user who fills in the form's fields they know."""
    wanted = params.requested_schema.get("properties", {})
    return types.ElicitResult(
        action="accept",
        content={k: v for k, v in FORM_ANSWERS.items() if k in wanted},
    )


ROOTS = [types.Root(uri="file:///work/project", name="project")]


@dataclass
class Inbox:
    """What the server sent the client besides results."""

    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    notifications: list[t.Any] = field(default_factory=list)
    sampling: list[types.CreateMessageRequestParams] = field(default_factory=list)
    elicitation: list[t.Any] = field(default_factory=list)
    roots: int = 0

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

    async def on_roots(self, context: t.Any) -> types.ListRootsResult:
        self.roots += 1
        return types.ListRootsResult(roots=ROOTS)


@dataclass
class Exchange:
    method: str
    rpc_method: str | None
    status: int
    request_session: str | None
    response_session: str | None
    #: The POSTed JSON-RPC message, if any.
    body: t.Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Recorder:
    """Records every HTTP exchange the client's transport makes."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        body = None
        if request.method == "POST":
            with contextlib.suppress(ValueError, AttributeError):
                body = json.loads(request.content)
        self.exchanges.append(
            Exchange(
                request.method,
                body.get("method") if isinstance(body, dict) else None,
                response.status_code,
                request.headers.get("mcp-session-id"),
                response.headers.get("mcp-session-id"),
                body,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )

    def posts(self, rpc_method: str | None = None) -> list[Exchange]:
        return [
            e
            for e in self.exchanges
            if e.method == "POST" and (rpc_method is None or e.rpc_method == rpc_method)
        ]

    def answers(self) -> list[Exchange]:
        """POSTed JSON-RPC responses: answers to live server requests (legacy)."""
        return [
            e
            for e in self.posts()
            if isinstance(e.body, dict) and "method" not in e.body
        ]


def run(
    url: str,
    scenario: t.Callable[[Client], t.Awaitable[t.Any]],
    inbox: Inbox | None = None,
    *,
    mode: str,
    recorder: Recorder | None = None,
    log_level: str | None = None,
    capabilities: bool = True,
) -> t.Any:
    """Open a client on ``url`` in ``mode``, run ``scenario(client)``, close it.

    :param recorder: gets every HTTP exchange of the client.
    :param log_level: the level a modern client asks for in each ``_meta``.
    :param capabilities: give the client its sampling, elicitation and roots
        callbacks (and so the capabilities), or none of them.
    """
    inbox = inbox or Inbox()

    async def main() -> t.Any:
        async with contextlib.AsyncExitStack() as stack:
            target: t.Any = url
            if recorder is not None:
                http = await stack.enter_async_context(
                    httpx2.AsyncClient(
                        timeout=httpx2.Timeout(30, read=60),
                        event_hooks={"response": [recorder.on_response]},
                    )
                )
                target = streamable_http_client(url, http_client=http)
            callbacks: dict[str, t.Any] = {}
            if capabilities:
                callbacks = {
                    "sampling_callback": inbox.on_sampling,
                    "elicitation_callback": inbox.on_elicitation,
                    "list_roots_callback": inbox.on_roots,
                }
            client = await stack.enter_async_context(
                Client(
                    target,
                    mode=mode,
                    logging_callback=inbox.on_log,
                    message_handler=inbox.on_message,
                    read_timeout_seconds=30,
                    log_level=log_level,
                    **callbacks,
                )
            )
            return await scenario(client)

    return anyio.run(main)


def text_of(result: types.CallToolResult | types.GetPromptResult) -> str:
    if isinstance(result, types.GetPromptResult):
        contents = [m.content for m in result.messages]
    else:
        contents = list(result.content)
    return "\n".join(c.text for c in contents if isinstance(c, types.TextContent))


# ---------------------------------------------------------------------------
# agreeing on a version


def test_client_agrees_on_the_era_version(url: str, era: str, mode: str) -> None:
    async def scenario(client: Client):
        return (
            client.protocol_version,
            client.server_info,
            client.server_capabilities,
            client.instructions,
        )

    version, info, caps, instructions = run(url, scenario, mode=mode)
    assert version == ERAS[era][1]
    assert info is not None
    assert (info.name, info.version) == ("flask-mcp-example", "0.1.0")
    assert instructions == "Conformance fixtures and a few small everyday tools."
    assert caps.tools is not None and caps.tools.list_changed is True
    assert caps.prompts is not None and caps.prompts.list_changed is True
    assert caps.resources is not None and caps.resources.subscribe is True
    assert caps.logging is not None
    assert caps.completions is not None


def test_legacy_mode_opens_a_session_and_deletes_it_on_exit(url: str) -> None:
    recorder = Recorder()

    async def scenario(client: Client):
        assert client.protocol_version == "2025-11-25"
        assert (await client.list_tools()).tools

    run(url, scenario, mode="legacy", recorder=recorder)

    posts = recorder.posts()
    assert [(e.rpc_method, e.status) for e in posts[:2]] == [
        ("initialize", 200),
        ("notifications/initialized", 202),
    ]
    session_id = posts[0].response_session
    assert session_id and session_id.isascii() and session_id.isprintable()
    # Only the initialize response carries the session id; later requests send it.
    assert all(
        e.response_session is None for e in recorder.exchanges if e is not posts[0]
    )
    assert all(e.request_session == session_id for e in posts[1:])
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


def test_auto_mode_discovers_and_works_without_a_session(url: str) -> None:
    """The probe is answered, so no initialize, session, GET stream nor DELETE."""
    recorder = Recorder()

    async def scenario(client: Client):
        assert client.protocol_version == "2026-07-28"
        await client.list_tools()
        return await client.call_tool("test_simple_text")

    result = run(url, scenario, mode="auto", recorder=recorder)
    assert not result.is_error
    assert {e.method for e in recorder.exchanges} == {"POST"}
    assert [e.rpc_method for e in recorder.posts()] == [
        "server/discover",
        "tools/list",
        "tools/call",
    ]
    for exchange in recorder.posts():
        assert exchange.status == 200
        assert exchange.request_session is None
        assert exchange.response_session is None
        assert exchange.headers["mcp-protocol-version"] == "2026-07-28"
        assert exchange.headers["mcp-method"] == exchange.rpc_method
        meta = exchange.body["params"]["_meta"]
        assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert recorder.posts("tools/call")[0].headers["mcp-name"] == "test_simple_text"


# ---------------------------------------------------------------------------
# lists


def test_list_tools(url: str, mode: str) -> None:
    async def scenario(client: Client):
        return await client.list_tools()

    tools = {tool.name: tool for tool in run(url, scenario, mode=mode).tools}
    assert FIXTURE_TOOLS | MODERN_FIXTURE_TOOLS | EVERYDAY_TOOLS <= set(tools)
    for tool in tools.values():
        assert tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name

    assert tools["test_sampling"].input_schema["required"] == ["prompt"]
    assert tools["test_elicitation"].input_schema["required"] == ["message"]
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"
    assert tools["add"].annotations is not None
    assert tools["add"].annotations.read_only_hint is True
    assert tools["add"].annotations.idempotent_hint is True
    # Verbatim JSON Schema 2020-12, with the vocabulary of SEP-2106.
    schema = tools["json_schema_2020_12_tool"].input_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$defs"]["address"]["type"] == "object"
    assert schema["$defs"]["address"]["$anchor"] == "addressDef"
    assert schema["allOf"] == [
        {"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}
    ]
    assert schema["then"] == {"required": ["phone"]}
    assert schema["additionalProperties"] is False
    # Arguments mirrored into Mcp-Param-* headers.
    headers = {
        name: spec.get("x-mcp-header")
        for name, spec in tools["test_header_params"].input_schema["properties"].items()
    }
    assert headers == {"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"}
    # Structured output is announced.
    output = tools["convert_temperature"].output_schema
    assert output is not None
    assert set(output["properties"]) == {"value", "unit"}
    # The marshmallow schema became the input schema.
    ticket = tools["create_ticket"].input_schema
    assert ticket["required"] == ["title"]
    assert set(ticket["properties"]) == {"title", "priority", "tags"}


def test_list_resources_and_templates(url: str, mode: str) -> None:
    async def scenario(client: Client):
        return await client.list_resources(), await client.list_resource_templates()

    resources, templates = run(url, scenario, mode=mode)
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


def test_list_prompts(url: str, mode: str) -> None:
    async def scenario(client: Client):
        return await client.list_prompts()

    prompts = {p.name: p for p in run(url, scenario, mode=mode).prompts}
    assert {
        "test_simple_prompt",
        "test_prompt_with_arguments",
        "test_prompt_with_embedded_resource",
        "test_prompt_with_image",
        "test_input_required_result_prompt",
    } <= set(prompts)
    for prompt in prompts.values():
        assert prompt.description
    arguments = {
        a.name: a.required for a in prompts["test_prompt_with_arguments"].arguments
    }
    assert arguments == {"arg1": True, "arg2": True}
    assert not prompts["test_simple_prompt"].arguments


def test_modern_lists_carry_caching_hints_and_server_info(url: str) -> None:
    async def scenario(client: Client):
        return (
            await client.list_tools(),
            await client.list_prompts(),
            await client.list_resources(),
            await client.list_resource_templates(),
        )

    for listing in run(url, scenario, mode="auto"):
        assert listing.result_type == "complete"
        assert listing.ttl_ms == 60_000
        assert listing.cache_scope == "public"
        assert listing.meta["io.modelcontextprotocol/serverInfo"]["name"] == (
            "flask-mcp-example"
        )


# ---------------------------------------------------------------------------
# tools


def test_call_content_tools(url: str, mode: str) -> None:
    async def scenario(client: Client):
        names = [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
        ]
        return {name: await client.call_tool(name) for name in names}

    results = run(url, scenario, mode=mode)
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


def test_call_typed_tool_with_structured_output(url: str, mode: str) -> None:
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

    to_celsius, to_fahrenheit, added = run(url, scenario, mode=mode)
    assert not to_celsius.is_error
    assert to_celsius.structured_content == {"value": 100.0, "unit": "celsius"}
    # The structured content is also sent as text, for older clients.
    assert json.loads(text_of(to_celsius)) == to_celsius.structured_content
    assert to_fahrenheit.structured_content == {"value": 212.0, "unit": "fahrenheit"}
    assert json.loads(text_of(to_fahrenheit)) == to_fahrenheit.structured_content
    assert not added.is_error
    assert text_of(added) == "42"


def test_call_marshmallow_tool(url: str, mode: str) -> None:
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

    valid, too_short, bad_priority = run(url, scenario, mode=mode)
    assert not valid.is_error
    ticket = json.loads(text_of(valid))
    assert ticket["title"] == "Printer on fire"
    assert ticket["priority"] == 3  # marshmallow's load_default
    assert ticket["tags"] == ["hw"]
    assert isinstance(ticket["id"], int)
    # Since 2025-11-25: invalid arguments are a tool error the model can read.
    assert too_short.is_error is True
    assert "title" in text_of(too_short)
    assert bad_priority.is_error is True
    assert "priority" in text_of(bad_priority)


def test_call_tool_with_header_params(url: str, era: str, mode: str) -> None:
    """A modern client mirrors ``x-mcp-header`` arguments into Mcp-Param-*."""
    recorder = Recorder()

    async def scenario(client: Client):
        await client.list_tools()  # the client learns which arguments to mirror
        return (
            await client.call_tool("test_header_params", {"region": "eu-west1"}),
            await client.call_tool(
                "test_header_params",
                {"region": "Zürich", "shard": 7, "dry_run": True},
            ),
        )

    plain, encoded = run(url, scenario, mode=mode, recorder=recorder)
    assert text_of(plain) == "region=eu-west1 shard=0 dry_run=false"
    assert text_of(encoded) == "region=Zürich shard=7 dry_run=true"
    first, second = [e.headers for e in recorder.posts("tools/call")]
    if era == "modern":
        assert first["mcp-param-region"] == "eu-west1"
        assert "mcp-param-shard" not in first  # not in the arguments
        assert second["mcp-param-region"].startswith("=?base64?")
        assert (second["mcp-param-shard"], second["mcp-param-dry-run"]) == (
            "7",
            "true",
        )
    else:
        assert not any(h.startswith("mcp-param-") for h in first | second)


def test_error_handling_tool_returns_is_error(url: str, mode: str) -> None:
    async def scenario(client: Client):
        return await client.call_tool("test_error_handling")

    result = run(url, scenario, mode=mode)
    assert result.is_error is True
    assert text_of(result) == "This tool intentionally returns an error for testing"


def test_unknown_tool_is_invalid_params(url: str, mode: str) -> None:
    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.call_tool("no_such_tool", {})
        # The connection survives the error.
        return info.value, await client.call_tool("test_simple_text")

    error, after = run(url, scenario, mode=mode)
    assert error.code == -32602
    assert "no_such_tool" in str(error)
    assert not after.is_error


# ---------------------------------------------------------------------------
# resources, prompts, completion


def test_read_resources(url: str, mode: str) -> None:
    async def scenario(client: Client):
        return (
            await client.read_resource("test://static-text"),
            await client.read_resource("test://static-binary"),
            await client.read_resource("test://template/123/data"),
            await client.read_resource("test://watched-resource"),
        )

    text, binary, template, watched = run(url, scenario, mode=mode)

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


def test_read_unknown_resource_is_not_found(url: str, era: str, mode: str) -> None:
    """-32002 until 2025-11-25, -32602 with the URI from 2026-07-28 (SEP-2164)."""

    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.read_resource("test://no-such-resource")
        return info.value

    error = run(url, scenario, mode=mode)
    assert error.code == (-32602 if era == "modern" else -32002)
    assert error.error.data == {"uri": "test://no-such-resource"}


def test_get_prompts(url: str, mode: str) -> None:
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

    simple, with_args, embedded, image = run(url, scenario, mode=mode)

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


def test_get_prompt_missing_argument_is_invalid_params(url: str, mode: str) -> None:
    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only one"})
        return info.value

    error = run(url, scenario, mode=mode)
    assert error.code == -32602
    assert "arg2" in str(error)


def test_completion(url: str, mode: str) -> None:
    async def scenario(client: Client):
        ref = types.PromptReference(
            type="ref/prompt", name="test_prompt_with_arguments"
        )
        return (
            await client.complete(ref, {"name": "arg1", "value": "test"}),
            await client.complete(ref, {"name": "arg1", "value": "testi"}),
            await client.complete(ref, {"name": "arg2", "value": "x"}),
        )

    all_three, one, none = run(url, scenario, mode=mode)
    assert all_three.completion.values == ["test1", "test2", "testing"]
    assert one.completion.values == ["testing"]
    assert none.completion.values == []


# ---------------------------------------------------------------------------
# questions to the client: live requests (legacy) or input_required (modern)


def assert_asked_the_way_of(
    era: str, recorder: Recorder, name: str, *, calls: int, rounds: int
) -> None:
    """How ``calls`` calls of ``name``, each asking ``rounds`` rounds of
    questions, went over the wire. Legacy: one POST per call (the answers are
    POSTed responses, see :func:`assert_answered_live`). Modern: each round
    is the call again, as a new request, with ``inputResponses`` and the
    ``requestState`` of the round before, and no POSTed responses at all."""
    posts = [
        e
        for e in recorder.posts()
        if e.rpc_method in ("tools/call", "prompts/get")
        and e.body["params"]["name"] == name
    ]
    retries = [e for e in posts if "inputResponses" in e.body["params"]]
    if era == "legacy":
        assert (len(posts), retries) == (calls, [])
        return
    assert not recorder.answers()
    assert (len(posts), len(retries)) == (calls * (rounds + 1), calls * rounds)
    for retry in retries:
        assert retry.body["params"]["requestState"]
        assert retry.headers["mcp-name"] == name
    ids = [post.body["id"] for post in posts]
    assert len(set(ids)) == len(ids)  # every round is a new request


def assert_answered_live(era: str, recorder: Recorder, questions: int) -> None:
    """Legacy: each question was a request on the response stream, answered by
    a POSTed JSON-RPC response; modern: none was."""
    assert len(recorder.answers()) == (questions if era == "legacy" else 0)


@IGNORE_DEPRECATED
def test_sampling(url: str, era: str, mode: str) -> None:
    """Legacy: each answer is a separate POST that either worker may get."""
    inbox = Inbox()
    recorder = Recorder()
    prompts = [f"question number {i}" for i in range(3)]

    async def scenario(client: Client):
        return [await client.call_tool("test_sampling", {"prompt": p}) for p in prompts]

    results = run(url, scenario, inbox, mode=mode, recorder=recorder)
    assert [text_of(r) for r in results] == [
        f"LLM response: {p.upper()}" for p in prompts
    ]
    assert all(not r.is_error for r in results)
    assert len(inbox.sampling) == 3
    for params, prompt in zip(inbox.sampling, prompts, strict=True):
        assert params.max_tokens == 100
        (message,) = params.messages
        assert message.role == "user"
        assert isinstance(message.content, types.TextContent)
        assert message.content.text == prompt
    assert_asked_the_way_of(era, recorder, "test_sampling", calls=3, rounds=1)
    assert_answered_live(era, recorder, 3)


def test_elicitation(url: str, era: str, mode: str) -> None:
    inbox = Inbox()
    recorder = Recorder()

    async def scenario(client: Client):
        return [
            await client.call_tool(
                "test_elicitation", {"message": f"Who are you? ({i})"}
            )
            for i in range(3)
        ]

    results = run(url, scenario, inbox, mode=mode, recorder=recorder)
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
    assert_asked_the_way_of(era, recorder, "test_elicitation", calls=3, rounds=1)
    assert_answered_live(era, recorder, 3)


@IGNORE_DEPRECATED
def test_input_required_fixtures(url: str, era: str, mode: str) -> None:
    """The 2026-07-28 conformance fixtures answered through the callbacks.

    One handler serves both eras: the same questions are live requests on a
    2025 session and input_required rounds on a 2026 request.
    """
    inbox = Inbox()
    recorder = Recorder()

    async def scenario(client: Client):
        names = [
            "test_input_required_result_elicitation",
            "test_input_required_result_sampling",
            "test_input_required_result_list_roots",
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_input_required_result_request_state",
        ]
        calls = {name: await client.call_tool(name, {}) for name in names}
        prompt = await client.get_prompt("test_input_required_result_prompt")
        return calls, prompt

    calls, prompt = run(url, scenario, inbox, mode=mode, recorder=recorder)
    texts = {name: text_of(result) for name, result in calls.items()}
    assert texts["test_input_required_result_elicitation"] == "Hello, Alice!"
    assert texts["test_input_required_result_sampling"] == (
        "Sampling result: WHAT IS THE CAPITAL OF FRANCE?"
    )
    assert texts["test_input_required_result_list_roots"] == (
        "Found 1 root(s): file:///work/project"
    )
    assert texts["test_input_required_result_multiple_inputs"] == (
        "Name: Alice; Greeting: GENERATE A GREETING; Roots: 1"
    )
    assert texts["test_input_required_result_multi_round"] == (
        "Multi-round complete for Alice who likes blue"
    )
    # ctx.state crosses rounds only on a modern request (in requestState).
    state = "state-ok" if era == "modern" else "state-missing"
    assert texts["test_input_required_result_request_state"] == (
        f"{state}: requestState validated, confirmed=True"
    )
    assert text_of(prompt) == "Prompt with context: a sunny day"
    assert [p.message for p in inbox.elicitation] == [
        "What is your name?",
        "What is your name?",
        "Step 1: What is your name?",
        "Step 2: What is your favorite color?",
        "Please confirm",
        "What context should the prompt use?",
    ]
    assert len(inbox.sampling) == 2 and inbox.roots == 2
    assert_asked_the_way_of(
        era, recorder, "test_input_required_result_multi_round", calls=1, rounds=2
    )
    assert_asked_the_way_of(
        era, recorder, "test_input_required_result_multiple_inputs", calls=1, rounds=1
    )
    assert_asked_the_way_of(
        era, recorder, "test_input_required_result_prompt", calls=1, rounds=1
    )
    assert_answered_live(era, recorder, 10)


def test_missing_client_capability_is_refused(url: str, mode: str) -> None:
    """A tool that samples, called by a client without sampling: -32021."""

    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.call_tool("test_missing_capability", {})
        return info.value

    error = run(url, scenario, mode=mode, capabilities=False)
    assert error.code == -32021
    assert error.error.data == {"requiredCapabilities": {"sampling": {}}}


def test_capabilities_fixture_asks_only_what_the_client_declared(
    url: str, mode: str
) -> None:
    async def scenario(client: Client):
        return await client.call_tool("test_input_required_result_capabilities", {})

    assert text_of(run(url, scenario, mode=mode)) == (
        "capabilities-ok: received elicit_input,sample_input"
    )
    assert text_of(run(url, scenario, mode=mode, capabilities=False)) == (
        "No supported capabilities declared"
    )


def test_progress_notifications(url: str, mode: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(
        progress: float, total: float | None, message: str | None
    ) -> None:
        updates.append((progress, total, message))

    async def scenario(client: Client):
        return await client.call_tool(
            "test_tool_with_progress", progress_callback=on_progress
        )

    result = run(url, scenario, mode=mode)
    assert not result.is_error
    assert text_of(result).startswith("Progress tool completed")
    assert len(updates) >= 3
    progress = [p for p, _, _ in updates]
    assert progress == sorted(progress)
    assert progress[0] == 0 and progress[-1] == 100
    assert all(total == 100 for _, total, _ in updates)


# ---------------------------------------------------------------------------
# logging: logging/setLevel (legacy) or a level in each request's _meta (modern)


@IGNORE_DEPRECATED
def test_legacy_log_notifications(url: str) -> None:
    inbox = Inbox()

    async def scenario(client: Client):
        await client.set_logging_level("debug")
        return await client.call_tool("test_tool_with_logging")

    result = run(url, scenario, inbox, mode="legacy")
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
def test_legacy_log_level_filters_notifications(url: str) -> None:
    """The level is session state: set by one request, applied by the next."""
    inbox = Inbox()

    async def scenario(client: Client):
        await client.set_logging_level("warning")
        return await client.call_tool("test_tool_with_logging")

    result = run(url, scenario, inbox, mode="legacy")
    assert not result.is_error
    assert inbox.logs == []


def test_modern_logs_only_with_a_level_in_meta(url: str) -> None:
    """No level in ``_meta``: no log messages at all; a level: those at or above."""
    quiet, chatty = Inbox(), Inbox()

    async def scenario(client: Client):
        return await client.call_tool("test_logging_tool")

    assert text_of(run(url, scenario, quiet, mode="auto")) == "Logging evaluated"
    assert quiet.logs == []
    result = run(url, scenario, chatty, mode="auto", log_level="warning")
    assert text_of(result) == "Logging evaluated"
    assert [(log.level, log.data) for log in chatty.logs] == [
        ("warning", "Diagnostic trace at warning"),
        ("error", "Diagnostic trace at error"),
    ]
    assert {log.logger for log in chatty.logs} == {"test_logging_tool"}


@IGNORE_DEPRECATED
def test_modern_client_cannot_set_a_log_level(url: str) -> None:
    """``logging/setLevel`` is gone in 2026-07-28: the server says it does not exist."""

    async def scenario(client: Client):
        with pytest.raises(MCPError) as info:
            await client.set_logging_level("debug")
        return info.value

    assert run(url, scenario, mode="auto").code == -32601


# ---------------------------------------------------------------------------
# change notifications: subscribe + GET stream (legacy), listen (modern)


@IGNORE_DEPRECATED
def test_subscribe_and_unsubscribe(url: str) -> None:
    async def scenario(client: Client):
        subscribed = await client.subscribe_resource("test://watched-resource")
        unsubscribed = await client.unsubscribe_resource("test://watched-resource")
        with pytest.raises(MCPError) as info:
            await client.subscribe_resource("test://no-such-resource")
        return subscribed, unsubscribed, info.value

    subscribed, unsubscribed, error = run(url, scenario, mode="legacy")
    assert isinstance(subscribed, types.EmptyResult)
    assert isinstance(unsubscribed, types.EmptyResult)
    assert error.code == -32002


def test_reconnection_after_server_closes_stream(url: str) -> None:
    """The server ends the POST stream mid-call; the client resumes with GET."""

    async def scenario(client: Client):
        return await client.call_tool("test_reconnection")

    result = run(url, scenario, mode="legacy")
    assert not result.is_error
    assert text_of(result) == "Reconnection test completed successfully"


async def trigger(url: str, tool: str, arguments: dict | None = None) -> None:
    """Make a change from a second client: with one worker held by the listen
    stream, its request is served by the other worker."""
    async with Client(url, mode="2026-07-28") as other:
        result = await other.call_tool(tool, arguments or {})
        assert not result.is_error


def test_listen_gets_changes_made_on_the_other_worker(url: str) -> None:
    """A change made by a request on one worker reaches a listen stream held by
    the other, through the store; the filter keeps out what was not asked for."""

    async def scenario(client: Client):
        events: list[t.Any] = []
        async with client.listen(tools_list_changed=True) as sub:
            honored = sub.honored
            await trigger(url, "test_trigger_prompt_change")  # not asked for
            await trigger(url, "test_trigger_tool_change")
            with anyio.fail_after(10):
                async for event in sub:
                    events.append(event)
                    break
            # The listener refetches what changed.
            tools = await client.list_tools(cache_mode="refresh")
        return honored, events, tools

    honored, events, tools = run(url, scenario, mode="auto")
    assert honored.tools_list_changed is True
    assert not honored.prompts_list_changed
    assert events == [ToolsListChanged()]
    assert "test_simple_text" in {tool.name for tool in tools.tools}


def test_listen_for_resource_updates_honours_only_known_resources(url: str) -> None:
    async def scenario(client: Client):
        async with client.listen(
            prompts_list_changed=True,
            resource_subscriptions=["test://watched-resource", "test://nowhere"],
        ) as sub:
            honored = sub.honored
            await trigger(
                url, "test_trigger_resource_update", {"uri": "test://static-text"}
            )
            await trigger(
                url,
                "test_trigger_resource_update",
                {"uri": "test://watched-resource"},
            )
            await trigger(url, "test_trigger_prompt_change")
            events: list[t.Any] = []
            with anyio.fail_after(10):
                async for event in sub:
                    events.append(event)
                    if len(events) == 2:
                        break
        return honored, events

    honored, events = run(url, scenario, mode="auto")
    assert honored.resource_subscriptions == ["test://watched-resource"]
    assert honored.prompts_list_changed is True
    assert events == [
        ResourceUpdated(uri="test://watched-resource"),
        PromptsListChanged(),
    ]


def test_listen_is_closed_gracefully_after_the_hold(url: str) -> None:
    """After ``MCP_LISTEN_HOLD`` the server ends the stream with the listen
    result: the client's loop ends (no ``SubscriptionLost``) and it listens
    again."""

    async def scenario(client: Client):
        started = time.monotonic()
        for _ in range(2):
            async with client.listen(tools_list_changed=True) as sub:
                with anyio.fail_after(LISTEN_HOLD + 10):
                    async for _event in sub:
                        pass
        return time.monotonic() - started

    elapsed = run(url, scenario, mode="auto")
    assert 2 * LISTEN_HOLD <= elapsed < 2 * LISTEN_HOLD + 10
