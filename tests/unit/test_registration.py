"""Registering tools, resources and prompts the way users write them.

Decorators with and without parentheses, ``async def`` handlers and checks,
typed prompt and template parameters, and every mistake refused at
registration with a message that names it.
"""

from __future__ import annotations

import asyncio
import enum
import typing as t

import pytest
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import require_role
from flask_mcp.components.component import RegistrationError
from flask_mcp.testing import MCPError

VERSIONS = ["2025-11-25", "2026-07-28"]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@pytest.fixture
def app(tmp_path) -> Flask:
    return Flask(__name__, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def mcp(app: Flask) -> FlaskMCP:
    return FlaskMCP(app, name="habits")


# ---------------------------------------------------------------------------
# decorators


def test_decorators_with_and_without_parentheses(app: Flask, mcp: FlaskMCP) -> None:
    @mcp.tool
    def bare() -> str:
        """No parentheses."""
        return "bare"

    @mcp.tool()
    def empty() -> str:
        return "empty"

    @mcp.tool("positional")
    def first() -> str:
        return "first"

    @mcp.tool(name="keyword", read_only=True)
    def second() -> str:
        return "second"

    @mcp.prompt
    def plain_prompt() -> str:
        return "hi"

    @mcp.prompt(title="Titled")
    def titled_prompt() -> str:
        return "hi"

    assert bare() == "bare"  # the decorator returns the function itself
    with mcp.test_client(app) as client:
        names = [tool["name"] for tool in client.list_tools()]
        assert names == ["bare", "empty", "keyword", "positional"]
        assert [p["name"] for p in client.list_prompts()] == [
            "plain_prompt",
            "titled_prompt",
        ]
        assert client.call_tool("keyword")["content"][0]["text"] == "second"


def test_resource_decorator_needs_a_uri(mcp: FlaskMCP) -> None:
    with pytest.raises(TypeError, match=r"@mcp.resource\('notes://\{id\}'\)"):

        @mcp.resource  # type: ignore[arg-type]
        def note() -> str:
            return ""


def test_name_given_twice_is_refused(mcp: FlaskMCP) -> None:
    with pytest.raises(TypeError, match="name once"):
        mcp.tool("one", name="two")


# ---------------------------------------------------------------------------
# mistakes caught at registration


def test_duplicate_names_are_refused_unless_replaced(app: Flask, mcp: FlaskMCP) -> None:
    @mcp.tool(name="dup")
    def original() -> str:
        return "original"

    with pytest.raises(RegistrationError, match="tool 'dup' is already registered"):

        @mcp.tool(name="dup")
        def clash() -> str:
            return "clash"

    @mcp.tool(name="dup", replace=True)
    def replacement() -> str:
        return "replacement"

    @mcp.prompt
    def once() -> str:
        return ""

    with pytest.raises(RegistrationError, match="prompt 'once'"):
        mcp.prompt(name="once")(once)

    @mcp.resource("notes://fixed")
    def fixed() -> str:
        return ""

    with pytest.raises(RegistrationError, match="resource 'notes://fixed'"):
        mcp.resource("notes://fixed")(fixed)

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        return id

    with pytest.raises(RegistrationError, match="resource template"):
        mcp.resource("notes://{id}")(note)

    with mcp.test_client(app) as client:
        assert client.call_tool("dup")["content"][0]["text"] == "replacement"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("notes://{id}/{part}", r"placeholders \['part'\] are not parameters"),
        ("notes://all", r"must not need arguments"),
        ("notes://{id}/{id}", "repeats a placeholder"),
        ("no-scheme", "needs a URI with a scheme"),
    ],
)
def test_template_placeholders_must_match_parameters(
    mcp: FlaskMCP, uri: str, message: str
) -> None:
    with pytest.raises(RegistrationError, match=message):

        @mcp.resource(uri)
        def note(id: str) -> str:
            return id


def test_required_parameter_without_placeholder_is_refused(mcp: FlaskMCP) -> None:
    with pytest.raises(RegistrationError, match=r"required parameters \['part'\]"):

        @mcp.resource("notes://{id}")
        def note(id: str, part: str) -> str:
            return id


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("admin", "must be a callable"),
        (require_role, r"factory require_role; call it"),
    ],
)
def test_bad_can_access_is_refused(mcp: FlaskMCP, check: object, message: str) -> None:
    def handler() -> str:
        return ""

    for register in (
        lambda fn: mcp.tool(can_access=check)(fn),
        lambda fn: mcp.prompt(can_access=check)(fn),
        lambda fn: mcp.resource("notes://x", can_access=check)(fn),
    ):
        with pytest.raises(RegistrationError, match=message):
            register(handler)
    with pytest.raises(RegistrationError, match=message):
        mcp.protected(can_access=check)


@pytest.mark.parametrize(
    "hint",
    [t.Callable[[], int], set[bytes]],  # no JSON form
)
def test_tool_parameter_the_schema_cannot_describe(mcp: FlaskMCP, hint: t.Any) -> None:
    def tool(value):  # type: ignore[no-untyped-def]
        return value

    tool.__annotations__ = {"value": hint}
    with pytest.raises(TypeError):
        mcp.tool(tool)


def test_prompt_parameter_a_string_cannot_become(mcp: FlaskMCP) -> None:
    with pytest.raises(RegistrationError, match="string arguments can become"):

        @mcp.prompt
        def bad(items: list[int]) -> str:
            return ""


def test_generators_and_non_functions_are_refused(mcp: FlaskMCP) -> None:
    with pytest.raises(RegistrationError, match="generator"):

        @mcp.tool
        def stream() -> t.Iterator[str]:
            yield "x"

    with pytest.raises(RegistrationError, match="must be a function"):
        mcp.tool(name="x")(42)  # type: ignore[type-var]


def test_bad_x_mcp_header_annotations_are_refused(mcp: FlaskMCP) -> None:
    with pytest.raises(RegistrationError, match="HTTP token"):

        @mcp.tool(headers={"region": "Bad Header"})
        def one(region: str) -> str:
            return region

    with pytest.raises(RegistrationError, match="string, integer or boolean"):

        @mcp.tool(headers={"ratio": "Ratio"})
        def two(ratio: float) -> str:
            return ""

    with pytest.raises(RegistrationError, match="unknown argument"):

        @mcp.tool(headers={"nope": "Nope"})
        def three(region: str) -> str:
            return region


# ---------------------------------------------------------------------------
# async handlers and checks, and typed string parameters


@pytest.mark.parametrize("version", VERSIONS)
def test_async_handlers_and_checks_side_by_side(
    app: Flask, mcp: FlaskMCP, version: str
) -> None:
    async def never(session: t.Any) -> bool:
        await asyncio.sleep(0)
        return False

    async def always(session: t.Any) -> bool:
        return True

    @mcp.tool
    def sync_add(a: int, b: int) -> int:
        return a + b

    @mcp.tool
    async def async_add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    @mcp.tool(can_access=never)
    async def hidden() -> str:
        return "must not run"

    @mcp.tool(can_access=always)
    def shown() -> str:
        return "shown"

    @mcp.prompt
    async def async_prompt(n: int) -> str:
        return "x" * n

    @mcp.resource("async://{id}")
    async def async_resource(id: int, ctx: Context) -> str:
        return f"{id + 1}"

    @mcp.completion(prompt="async_prompt", argument="n")
    async def complete_n(value: str, context: dict[str, str]) -> list[str]:
        return ["1", "2"]

    with mcp.test_client(app, protocol_version=version) as client:
        names = {tool["name"] for tool in client.list_tools()}
        assert names == {"sync_add", "async_add", "shown"}
        for name in ("sync_add", "async_add"):
            result = client.call_tool(name, {"a": 2, "b": 3})
            assert result["content"] == [{"type": "text", "text": "5"}]
        with pytest.raises(MCPError) as refused:
            client.call_tool("hidden")
        assert refused.value.message == "Unknown tool: hidden"
        message = client.get_prompt("async_prompt", {"n": "3"})["messages"][0]
        assert message["content"]["text"] == "xxx"
        contents = client.read_resource("async://41")["contents"]
        assert contents[0]["text"] == "42"
        completion = client.complete(
            {"type": "ref/prompt", "name": "async_prompt"}, "n"
        )
        assert completion["values"] == ["1", "2"]


def test_a_broken_check_hides_its_component_only(
    app: Flask, mcp: FlaskMCP, caplog: pytest.LogCaptureFixture
) -> None:
    def raises(session: t.Any) -> bool:
        raise RuntimeError("boom")

    @mcp.tool(can_access=raises)
    def broken() -> str:
        return ""

    @mcp.tool(can_access=lambda session: require_role)  # returns a check object
    def confused() -> str:
        return ""

    @mcp.tool
    def fine() -> str:
        return "fine"

    with mcp.test_client(app) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["fine"]
    assert "can_access of tool 'broken' raised; access denied" in caplog.text
    assert "can_access of tool 'confused' returned" in caplog.text


@pytest.mark.parametrize("version", VERSIONS)
def test_prompt_and_template_parameters_are_converted(
    app: Flask, mcp: FlaskMCP, version: str
) -> None:
    @mcp.prompt
    def typed(
        count: int,
        ratio: float,
        loud: bool,
        color: Color,
        mode: t.Literal["a", "b"] = "a",
    ) -> str:
        """A typed prompt.

        :param count: how many.
        """
        return repr((count, ratio, loud, color, mode))

    @mcp.resource("colors://{color}/{count}")
    def swatch(color: Color, count: int) -> str:
        return f"{count} x {color.name}"

    with mcp.test_client(app, protocol_version=version) as client:
        arguments = {a["name"]: a for a in client.list_prompts()[0]["arguments"]}
        assert (
            arguments["count"]["description"] == "how many. Expected: a number (int)."
        )
        assert arguments["color"]["description"] == "Expected: one of red, green."
        assert arguments["mode"]["required"] is False
        text = client.get_prompt(
            "typed", {"count": "2", "ratio": "0.5", "loud": "yes", "color": "green"}
        )["messages"][0]["content"]["text"]
        assert text == repr((2, 0.5, True, Color.GREEN, "a"))
        with pytest.raises(MCPError) as bad:
            client.get_prompt(
                "typed",
                {"count": "two", "ratio": "x", "loud": "maybe", "color": "blue"},
            )
        assert bad.value.code == -32602
        for word in ("count", "ratio", "loud", "color"):
            assert word in bad.value.message
        assert (
            client.read_resource("colors://red/3")["contents"][0]["text"] == "3 x RED"
        )
        with pytest.raises(MCPError) as wrong:
            client.read_resource("colors://blue/3")
        assert wrong.value.code == -32602 and "color" in wrong.value.message
        completion = client.complete(
            {"type": "ref/resource", "uri": "colors://{color}/{count}"}, "color", "g"
        )
        assert completion["values"] == ["green"]


# ---------------------------------------------------------------------------
# the test client itself


@pytest.mark.parametrize("version", VERSIONS)
def test_test_client_answers_questions_and_keeps_notifications(
    app: Flask, mcp: FlaskMCP, version: str
) -> None:
    @mcp.tool
    def interview(ctx: Context) -> str:
        ctx.report_progress(1, 2)
        who = ctx.elicit(
            "Name?", {"type": "object", "properties": {"name": {"type": "string"}}}
        )
        capital = ctx.sample("Capital of France?")
        places = ctx.list_roots()
        return f"{who['content']['name']} {capital['content']['text']} {len(places)}"

    client = mcp.test_client(
        app,
        protocol_version=version,
        elicitation=lambda params: {"action": "accept", "content": {"name": "Ada"}},
        sampling=lambda params: {
            "role": "assistant",
            "content": {"type": "text", "text": "Paris"},
            "model": "fake",
        },
        roots=[{"uri": "file:///tmp", "name": "tmp"}],
    )
    with client:
        result = client.call_tool("interview")
        assert result["content"][0]["text"] == "Ada Paris 1"
        assert result.get("isError") is None
    assert client.session_id is None  # the session was ended on exit


def test_test_client_without_an_answer_reports_it(app: Flask, mcp: FlaskMCP) -> None:
    @mcp.tool
    def needs_sampling(ctx: Context) -> str:
        return str(ctx.sample("hi"))

    with mcp.test_client(app, protocol_version="2026-07-28") as client:
        with pytest.raises(MCPError) as missing:
            client.call_tool("needs_sampling")
    assert missing.value.code == -32021 and missing.value.status == 400
    assert missing.value.data == {"requiredCapabilities": {"sampling": {}}}


def test_test_client_sends_headers(app: Flask) -> None:
    from flask_mcp.auth import api_key_auth

    mcp = FlaskMCP(app, authenticate=api_key_auth({"k1": {"id": 1}}))

    @mcp.tool
    def whoami(ctx: Context) -> str:
        return str(ctx.session["id"])

    with mcp.test_client(app, headers={"X-API-Key": "k1"}) as client:
        assert client.call_tool("whoami")["content"][0]["text"] == "1"
    with pytest.raises(MCPError) as refused:
        with mcp.test_client(app) as client:
            client.list_tools()
    assert refused.value.status == 401


def test_async_checks_compose(app: Flask, mcp: FlaskMCP) -> None:
    from flask_mcp.auth import require_all
    from flask_mcp.auth import require_any

    async def no(session: t.Any) -> bool:
        return False

    async def yes(session: t.Any) -> bool:
        return True

    @mcp.tool(can_access=require_all(yes, no))
    def both() -> str:
        return ""

    @mcp.tool(can_access=require_any(no, yes))
    def either() -> str:
        return ""

    @mcp.tool(can_access=require_any(no))
    def neither() -> str:
        return ""

    with mcp.test_client(app) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["either"]


@pytest.mark.parametrize("version", VERSIONS)
def test_get_auth_session_without_a_session_is_a_401(
    app: Flask, mcp: FlaskMCP, version: str
) -> None:
    """As documented: a handler that lets ``AuthenticationRequired`` escape
    gets the challenge of an unauthenticated request, streamed or not."""
    from flask_mcp.auth import get_auth_session

    @mcp.tool
    def plain() -> str:
        from flask import g

        return str(get_auth_session(g.mcp_auth))

    @mcp.tool
    def with_context(ctx: Context) -> str:
        ctx.report_progress(1)
        return str(get_auth_session(ctx.session))

    with mcp.test_client(app, protocol_version=version) as client:
        for name in ("plain", "with_context"):
            with pytest.raises(MCPError) as refused:
                client.call_tool(name)
            assert refused.value.status == 401
            assert refused.value.code == -32000
            assert "authenticated session" in refused.value.message


def test_api_key_servers_challenge_with_their_header(app: Flask) -> None:
    """Without OAuth discovery a Bearer challenge would start an OAuth flow
    the client cannot finish; api_key_auth names its header instead, and
    MCP_AUTH_CHALLENGE overrides either."""
    from flask_mcp.auth import api_key_auth

    FlaskMCP(app, authenticate=api_key_auth({"k": {"id": 1}}, header="X-Key"))
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    client = app.test_client()
    refused = client.post("/mcp", json=body, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'ApiKey header="X-Key"'
    wrong = client.post("/mcp", json=body, headers={**headers, "X-Key": "nope"})
    assert wrong.headers["WWW-Authenticate"] == (
        'ApiKey header="X-Key", error="invalid_token",'
        ' error_description="invalid API key"'
    )

    other = Flask(__name__, instance_path=app.instance_path)
    other.config["MCP_AUTH_CHALLENGE"] = 'Basic realm="mcp"'
    FlaskMCP(other, authenticate=api_key_auth({"k": {"id": 1}}))
    refused = other.test_client().post("/mcp", json=body, headers=headers)
    assert refused.headers["WWW-Authenticate"] == 'Basic realm="mcp"'


def test_header_annotations_stay_on_their_tool(app: Flask, mcp: FlaskMCP) -> None:
    """``headers=`` marks this tool's schema only, even when it was refused."""
    with pytest.raises(RegistrationError):

        @mcp.tool(headers={"text": "Bad Header"})
        def refused(text: str) -> str:
            return text

    @mcp.tool(headers={"region": "Region"})
    def routed(region: str, text: str) -> str:
        return text

    @mcp.tool
    def plain(text: str) -> str:
        return text

    with mcp.test_client(app) as client:
        tools = {
            tool["name"]: tool["inputSchema"]["properties"]
            for tool in client.list_tools()
        }
    assert tools["routed"]["region"]["x-mcp-header"] == "Region"
    assert "x-mcp-header" not in tools["routed"]["text"]
    assert "x-mcp-header" not in tools["plain"]["text"]


@pytest.mark.parametrize("version", VERSIONS)
def test_url_elicitation_in_both_eras(app: Flask, mcp: FlaskMCP, version: str) -> None:
    """2025-11-25 sends the elicitation id the tool chose; 2026-07-28 asks
    through an input-required result, without one. Both need the
    ``elicitation.url`` capability."""

    @mcp.tool
    def connect(ctx: Context) -> str:
        answer = ctx.elicit_url(
            "Connect your account",
            "https://example.com/connect?e=e-1",
            elicitation_id="e-1",
        )
        return str(answer["action"])

    asked: list[dict[str, t.Any]] = []

    def accept(params: dict[str, t.Any]) -> dict[str, t.Any]:
        asked.append(params)
        return {"action": "accept"}

    with mcp.test_client(app, protocol_version=version, elicitation=accept) as client:
        with pytest.raises(MCPError) as missing:
            client.call_tool("connect")
    assert missing.value.code == -32021
    assert missing.value.data == {"requiredCapabilities": {"elicitation": {"url": {}}}}

    url_capable = {"elicitation": {"form": {}, "url": {}}}
    with mcp.test_client(
        app, protocol_version=version, elicitation=accept, capabilities=url_capable
    ) as client:
        assert client.call_tool("connect")["content"][0]["text"] == "accept"
    (params,) = asked
    assert params["mode"] == "url" and params["url"].endswith("e=e-1")
    assert params.get("elicitationId") == ("e-1" if version == "2025-11-25" else None)


def test_url_elicitation_completes_on_the_session_stream(
    app: Flask, mcp: FlaskMCP
) -> None:
    import json as json_module

    @mcp.tool
    def connect(ctx: Context) -> str:
        answer = ctx.elicit_url(
            "Connect", "https://example.com/c?e=e-2", elicitation_id="e-2"
        )
        mcp.notify_elicitation_complete("e-2", t.cast(str, ctx.session_id))
        return answer["action"]

    http = app.test_client()
    accept = {"Accept": "application/json, text/event-stream"}
    init = http.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {"url": {}}},
                "clientInfo": {},
            },
        },
        headers=accept,
    )
    session = {
        **accept,
        "Mcp-Session-Id": init.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": "2025-11-25",
    }
    app.config["MCP_STREAM_HOLD"] = 0.2
    call = http.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "connect"},
        },
        headers=session,
        buffered=False,
    )
    events = iter(call.iter_encoded())
    first = next(e for e in events if b'"method"' in e)
    question = json_module.loads(first.split(b"data: ", 1)[1])
    assert question["params"]["mode"] == "url"
    assert question["params"]["elicitationId"] == "e-2"
    http.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": question["id"], "result": {"action": "accept"}},
        headers=session,
    )
    rest = b"".join(events)
    assert b'"accept"' in rest
    stream = http.get(
        "/mcp",
        headers={**session, "Accept": "text/event-stream", "Last-Event-ID": "_.0"},
    )
    assert b'"notifications/elicitation/complete"' in stream.data
    assert b'"elicitationId":"e-2"' in stream.data
