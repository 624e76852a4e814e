"""Held streams through a real Pushpin, with the official MCP client.

One Pushpin in front of one gunicorn (2 sync workers) per module. Streams
that come through Pushpin are held there: more listeners than workers get
their acknowledgement at once, other calls are served meanwhile, and every
notification reaches each listener tagged with its own ``subscriptionId``;
2025 sessions get their GET stream, session-targeted messages, resources
they subscribe to later, and resumption with ``Last-Event-ID`` on either
path.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import re
import signal
import time
import typing as t

import anyio
import jwt
import mcp_types as types
import pytest
import requests
from mcp import Client
from mcp.client.subscriptions import PromptsListChanged
from mcp.client.subscriptions import ResourceUpdated
from mcp.client.subscriptions import ToolsListChanged

from support import GunicornServer
from support import free_port
from support.pushpin import PushpinServer

from .messages import LISTEN_HEADERS
from .messages import MODERN
from .messages import listen_body
from .origin import APPS
from .origin import origin

#: Seconds a stream is held at the gateway before its graceful end.
HOLD = 8
LEGACY = "2025-11-25"
IGNORE_DEPRECATED = pytest.mark.filterwarnings(
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)


class Stack(t.NamedTuple):
    pushpin: PushpinServer
    origin: GunicornServer
    #: The origin's environment (the app's settings).
    env: dict[str, str]

    @property
    def url(self) -> str:
        """Where clients connect: Pushpin."""
        return self.pushpin.mcp_url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Stack]:
    instance = tmp_path_factory.mktemp("gateway-instance")
    origin_port = free_port()
    with PushpinServer([origin_port]) as pushpin:
        env = {
            "GATEWAY_APP_INSTANCE": str(instance),
            **pushpin.app_env(MCP_GRIP_HOLD=HOLD),
        }
        with origin(origin_port, env, clean_log=True) as server:
            yield Stack(pushpin, server, env)


def run(scenario: t.Callable[[], t.Awaitable[t.Any]]) -> t.Any:
    return anyio.run(scenario)


async def call(url: str, tool: str, **arguments: t.Any) -> str:
    """Call ``tool`` from a client of its own (2026-07-28)."""
    async with Client(url, mode=MODERN) as client:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, result
        content = result.content[0]
        assert isinstance(content, types.TextContent)
        return content.text


# ---------------------------------------------------------------------------
# 2026-07-28: subscriptions/listen


def test_listeners_are_held_at_the_gateway_not_by_workers(stack: Stack) -> None:
    """Six listens on two sync workers: all acknowledged at once, a call is
    served meanwhile, and one change reaches every listener, each with its
    own subscriptionId (the client routes events by it)."""

    async def scenario() -> tuple[list[list[t.Any]], float]:
        events: list[list[t.Any]] = [[] for _ in range(6)]
        async with contextlib.AsyncExitStack() as exits:
            subs = []
            for _ in range(6):
                client = await exits.enter_async_context(Client(stack.url, mode=MODERN))
                subs.append(
                    await exits.enter_async_context(
                        client.listen(tools_list_changed=True)
                    )
                )
            started = time.monotonic()
            await call(stack.url, "announce", kind="tools")
            took = time.monotonic() - started
            with anyio.fail_after(5):
                for sub, got in zip(subs, events, strict=True):
                    async for event in sub:
                        got.append(event)
                        break
        return events, took

    events, took = run(scenario)
    assert events == [[ToolsListChanged()]] * 6
    assert took < 5.0  # a worker-held listen would keep both workers 10 s


def test_listen_filters_and_resources_through_the_gateway(stack: Stack) -> None:
    async def scenario() -> tuple[t.Any, list[t.Any]]:
        async with Client(stack.url, mode=MODERN) as client:
            async with client.listen(
                prompts_list_changed=True,
                resource_subscriptions=["test://watched", "test://nowhere"],
            ) as sub:
                await call(stack.url, "touch", uri="test://other")  # not asked for
                await call(stack.url, "announce", kind="tools")  # not asked for
                await call(stack.url, "touch", uri="test://watched")
                await call(stack.url, "announce", kind="prompts")
                events: list[t.Any] = []
                with anyio.fail_after(5):
                    async for event in sub:
                        events.append(event)
                        if len(events) == 2:
                            break
                return sub.honored, events

    honored, events = run(scenario)
    assert honored.resource_subscriptions == ["test://watched"]
    assert honored.prompts_list_changed is True
    assert not honored.tools_list_changed
    assert events == [ResourceUpdated(uri="test://watched"), PromptsListChanged()]


def test_listen_ends_gracefully_when_its_hold_is_over(stack: Stack) -> None:
    """The loop ends without SubscriptionLost: the gateway delivered the
    listen result (rendered for this stream) and closed. What changes before
    the client listens again reaches its next listen (the server kept where
    the first one ended)."""

    async def scenario() -> tuple[float, list[t.Any]]:
        async with Client(stack.url, mode=MODERN) as client:
            started = time.monotonic()
            async with client.listen(prompts_list_changed=True) as sub:
                with anyio.fail_after(HOLD + 10):
                    async for _event in sub:
                        pass
            elapsed = time.monotonic() - started
            await call(stack.url, "announce", kind="prompts")  # between listens
            async with client.listen(prompts_list_changed=True) as again:
                with anyio.fail_after(5):
                    first = [await again.__anext__()]
            return elapsed, first

    elapsed, first = run(scenario)
    assert HOLD - 1 <= elapsed < HOLD + 5
    assert first == [PromptsListChanged()]


def raw_listen(url: str, request_id: t.Any) -> requests.Response:
    return requests.post(
        url,
        data=listen_body(request_id),
        headers=LISTEN_HEADERS,
        stream=True,
        timeout=HOLD + 10,
    )


def lines_of(response: requests.Response) -> t.Iterator[str]:
    """The lines of an SSE response (read them through one iterator only:
    ``requests`` keeps what it read ahead in the iterator)."""
    return t.cast(t.Iterator[str], response.iter_lines(decode_unicode=True))


def sse_messages(lines: t.Iterator[str], count: int) -> list[t.Any]:
    """The next ``count`` JSON messages of an SSE response."""
    messages: list[t.Any] = []
    for line in lines:
        if line.startswith("data: ") and line[6:]:
            messages.append(json.loads(line[6:]))
            if len(messages) == count:
                break
    return messages


@pytest.mark.parametrize(
    "request_id",
    [7, -1, 2**53, "listen-1", 'q"uote\\ %(sub)s %% \u00e9\U0001f600'],
    ids=["number", "negative", "big", "string", "hostile"],
)
def test_any_request_id_is_each_message_s_subscription_id(
    stack: Stack, request_id: t.Any
) -> None:
    """Numbers and strings, quotes, backslashes, percent signs and non-ASCII:
    the JSON each stream gets stays valid and carries its own id."""
    with raw_listen(stack.url, request_id) as response:
        assert response.status_code == 200
        lines = lines_of(response)
        ack = sse_messages(lines, 1)
        run(lambda: call(stack.url, "announce", kind="tools"))
        (changed,) = sse_messages(lines, 1)
    meta = "io.modelcontextprotocol/subscriptionId"
    assert ack[0]["method"] == "notifications/subscriptions/acknowledged"
    assert ack[0]["params"]["_meta"][meta] == request_id
    assert changed == {
        "jsonrpc": "2.0",
        "method": "notifications/tools/list_changed",
        "params": {"_meta": {meta: request_id}},
    }


# ---------------------------------------------------------------------------
# 2025: the session's GET stream


@IGNORE_DEPRECATED
def test_2025_sessions_get_changes_messages_and_new_subscriptions(
    stack: Stack,
) -> None:
    """Through the gateway a session's GET stream gets list changes, what is
    sent to it alone, and updates of a resource it subscribes to after the
    stream opened."""

    async def scenario() -> list[t.Any]:
        received: list[t.Any] = []

        async def on_message(message: t.Any) -> None:
            if isinstance(message, types.ServerNotification):
                received.append(message)

        async with Client(stack.url, mode="legacy", message_handler=on_message) as one:
            async with Client(stack.url, mode="legacy") as other:
                await anyio.sleep(0.5)  # both GET streams are open
                await call(stack.url, "announce", kind="tools")
                await one.subscribe_resource("test://watched")
                await call(stack.url, "touch", uri="test://watched")
                await other.call_tool("finish", {"elicitation_id": "not-for-one"})
                await one.call_tool("finish", {"elicitation_id": "for-one"})
                with anyio.fail_after(5):
                    while len(received) < 3:
                        await anyio.sleep(0.05)
                await anyio.sleep(0.5)  # nothing else comes
        return received

    received = run(scenario)
    kinds = [type(message).__name__ for message in received]
    assert len(received) == 3, kinds
    assert isinstance(received[0], types.ToolListChangedNotification)
    assert isinstance(received[1], types.ResourceUpdatedNotification)
    assert received[1].params.uri == "test://watched"
    assert received[2].params.elicitation_id == "for-one"


def initialize(url: str) -> dict[str, str]:
    """A 2025 session over raw HTTP; the headers of its later requests."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY,
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }
    response = requests.post(
        url,
        json=body,
        headers={"Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {
        "Mcp-Session-Id": response.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": LEGACY,
        "Accept": "text/event-stream",
    }


def sse_events(lines: t.Iterator[str], count: int) -> list[tuple[str, str]]:
    """The next ``count`` events of an SSE response, as (id, data)."""
    events: list[tuple[str, str]] = []
    event_id = data = ""
    for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and (event_id or data):
            events.append((event_id, data))
            event_id = data = ""
            if len(events) == count:
                break
    return events


def test_resumption_crosses_gateway_and_worker(stack: Stack) -> None:
    """Event ids are bus positions on both paths: a stream read through the
    gateway resumes at a worker and the other way round."""
    headers = initialize(stack.url)
    announce = lambda: run(lambda: call(stack.url, "announce", kind="tools"))  # noqa: E731
    with requests.get(stack.url, headers=headers, stream=True, timeout=20) as first:
        lines = lines_of(first)
        (priming,) = sse_events(lines, 1)
        announce()
        ((seen, data),) = sse_events(lines, 1)
    assert re.fullmatch(r"_\.\d+", priming[0]) and json.loads(data)["method"] == (
        "notifications/tools/list_changed"
    )
    announce()  # while no stream is open
    at_worker = {**headers, "Last-Event-ID": seen}
    with requests.get(
        stack.origin.mcp_url, headers=at_worker, stream=True, timeout=20
    ) as second:
        events = sse_events(lines_of(second), 2)
    missed = events[1][0]
    assert int(missed[2:]) > int(seen[2:])
    announce()
    back = {**headers, "Last-Event-ID": missed}
    with requests.get(stack.url, headers=back, stream=True, timeout=20) as third:
        replayed = sse_events(lines_of(third), 2)
    assert int(replayed[1][0][2:]) > int(missed[2:])


def test_get_streams_are_held_at_the_gateway_not_by_workers(stack: Stack) -> None:
    """Four GET streams on two sync workers stay open past the worker's
    ``MCP_STREAM_HOLD`` (1 s) while calls are served, and each gets the next
    change on its first connection."""
    with contextlib.ExitStack() as exits:
        streams = []
        for _ in range(4):
            response = exits.enter_context(
                requests.get(
                    stack.url, headers=initialize(stack.url), stream=True, timeout=20
                )
            )
            lines = lines_of(response)
            sse_events(lines, 1)  # the priming event
            streams.append(lines)
        time.sleep(1.5)
        started = time.monotonic()
        run(lambda: call(stack.url, "announce", kind="prompts"))
        assert time.monotonic() - started < 3.0
        for lines in streams:
            ((event_id, data),) = sse_events(lines, 1)
            assert json.loads(data)["method"] == "notifications/prompts/list_changed"


# ---------------------------------------------------------------------------
# forged gateway requests


def signature(key: str, **claims: t.Any) -> str:
    """A ``Grip-Sig`` as Pushpin makes them, signed with ``key``."""
    claims = {"iss": "pushpin", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(claims, key, algorithm="HS256")


def unsigned(**claims: t.Any) -> str:
    """A JWT with ``alg: none`` and no signature."""
    claims = {"iss": "pushpin", "exp": int(time.time()) + 60, **claims}
    parts = [{"alg": "none", "typ": "JWT"}, claims]
    encoded = [
        base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts
    ]
    return (b".".join(encoded) + b".").decode()


@pytest.mark.parametrize(
    "forged",
    [
        "not.a.jwt",
        signature("some-other-key-some-other-key-xx"),
        unsigned(),
        signature("some-other-key-some-other-key-xx")[:-3] + "AAA",
    ],
    ids=["garbage", "other-key", "alg-none", "tampered"],
)
def test_a_forged_grip_sig_gets_the_worker_s_answer(stack: Stack, forged: str) -> None:
    """A client talking to a worker directly cannot get GRIP instructions:
    its listen is served by the worker, as without a gateway."""
    with requests.post(
        stack.origin.mcp_url,
        data=listen_body(1),
        headers={**LISTEN_HEADERS, "Grip-Sig": forged},
        stream=True,
        timeout=20,
    ) as response:
        assert response.status_code == 200
        assert not [h for h in response.headers if h.lower().startswith("grip-")]
        (ack,) = sse_messages(lines_of(response), 1)
    assert ack["method"] == "notifications/subscriptions/acknowledged"


@pytest.mark.parametrize(
    "forged", [None, "not.a.jwt", unsigned()], ids=["none", "garbage", "alg-none"]
)
def test_next_parts_are_only_for_the_gateway(stack: Stack, forged: str | None) -> None:
    url = stack.origin.url + "/mcp/.grip/next"
    headers = {"Grip-Last": "gateway.x.id.abc; last-id=0"}
    expired = signature(stack.pushpin.sig_key, exp=int(time.time()) - 5)
    for value in (forged, expired):
        sent = headers if value is None else {**headers, "Grip-Sig": value}
        refused = requests.get(url, headers=sent, timeout=10)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == -32600


def test_a_signed_next_part_for_an_unknown_stream_ends_it(stack: Stack) -> None:
    response = requests.get(
        stack.origin.url + "/mcp/.grip/next",
        headers={
            "Grip-Sig": signature(stack.pushpin.sig_key),
            "Grip-Last": "gateway.x.id.nope; last-id=0, gateway.x.L; last-id=3",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert not [h for h in response.headers if h.lower().startswith("grip-")]


# ---------------------------------------------------------------------------
# faults


def test_held_streams_outlive_every_worker(stack: Stack) -> None:
    """SIGKILL of both workers while streams are held at the gateway: nothing
    of theirs was in a worker, so they stay open, and the next change
    (made through the new workers) reaches them."""
    before = stack.origin.pids()
    with raw_listen(stack.url, "survivor") as listen:
        lines = lines_of(listen)
        sse_messages(lines, 1)  # acknowledged
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(set(stack.origin.pids()) - set(before)) < 2:
            assert time.monotonic() < deadline, "gunicorn did not replace its workers"
            time.sleep(0.1)
        run(lambda: call(stack.url, "announce", kind="tools"))
        (changed,) = sse_messages(lines, 1)
    assert changed["method"] == "notifications/tools/list_changed"
    assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == (
        "survivor"
    )


# ---------------------------------------------------------------------------
# flask mcp gateway-end


def test_gateway_end_ends_every_held_stream_gracefully(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy ends what the gateway holds: listens get their result (each
    its own id), GET streams end with their position as the last event id;
    a stream opened afterwards is not ended, and a change made right after
    reaches the next listen (the ended listens left a cursor, as a worker's
    graceful end does)."""
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        "gateway_cli_app", APPS / "gateway_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not in sys.modules: nothing left behind
    app = module.create_app()
    session = initialize(stack.url)
    with (
        raw_listen(stack.url, 41) as first,
        raw_listen(stack.url, "second") as second,
        requests.get(stack.url, headers=session, stream=True, timeout=20) as get,
    ):
        streams = [lines_of(first), lines_of(second)]
        for lines in streams:
            sse_messages(lines, 1)
        get_lines = lines_of(get)
        ((primed, _),) = sse_events(get_lines, 1)
        result = app.test_cli_runner().invoke(args=["mcp", "gateway-end"])
        assert result.exit_code == 0, result.output
        assert "ends now" in result.output
        ends = [sse_messages(lines, 1) + [x for x in lines if x] for lines in streams]
        get_end = [line for line in get_lines if line]
    assert [end[0]["id"] for end in ends] == [41, "second"]
    assert [end[0]["result"]["resultType"] for end in ends] == ["complete"] * 2
    assert [end[1:] for end in ends] == [[], []]  # nothing after the result
    assert get_end[0] == f"id: {primed}" and get_end[1].startswith("retry: ")
    assert get_end[2:] == ["data: "]  # then closed
    with raw_listen(stack.url, "after-end") as later:
        later_lines = lines_of(later)
        sse_messages(later_lines, 1)
        run(lambda: call(stack.url, "announce", kind="tools"))
        (live,) = sse_messages(later_lines, 1)  # not ended by gateway-end
        with raw_listen(stack.url, "again") as again:
            replayed = sse_messages(lines_of(again), 2)
    assert live["method"] == "notifications/tools/list_changed"
    assert replayed[0]["method"] == "notifications/subscriptions/acknowledged"
    assert replayed[1]["method"] == "notifications/tools/list_changed"
    assert replayed[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == (
        "again"
    )


# ---------------------------------------------------------------------------
# DELETE of a 2025 session


def test_a_deleted_session_s_get_stream_closes_at_once(stack: Stack) -> None:
    """DELETE ends the session's stream held at the gateway at once (not at
    its next part); another session's stream stays and gets the next change."""
    one, other = initialize(stack.url), initialize(stack.url)
    with (
        requests.get(stack.url, headers=one, stream=True, timeout=20) as first,
        requests.get(stack.url, headers=other, stream=True, timeout=20) as second,
    ):
        first_lines, second_lines = lines_of(first), lines_of(second)
        sse_events(first_lines, 1)
        sse_events(second_lines, 1)
        # Pushpin asks for a new stream's next part about a second after it
        # began (its identity channel is new), and that part would end it
        # too: DELETE after it, when the next one is due at the hold's end.
        time.sleep(3)
        started = time.monotonic()
        deleted = requests.delete(stack.url, headers=one, timeout=10)
        assert deleted.status_code == 204
        assert [line for line in first_lines if line] == []  # closed
        took = time.monotonic() - started
        run(lambda: call(stack.url, "announce", kind="resources"))
        ((_, data),) = sse_events(second_lines, 1)
    assert took < 1.5  # its next part would come at the end of its hold (8 s)
    assert json.loads(data)["method"] == "notifications/resources/list_changed"


# ---------------------------------------------------------------------------
# a streamed call (progress) is not held: it passes through


@IGNORE_DEPRECATED
@pytest.mark.parametrize("mode", [MODERN, "legacy"])
def test_a_streamed_call_passes_through_the_gateway(stack: Stack, mode: str) -> None:
    """Progress notifications of a tools/call reach the client through
    Pushpin as they are sent, in both eras, followed by the result."""

    async def scenario() -> tuple[list[t.Any], float, str]:
        updates: list[t.Any] = []

        async def on_progress(
            progress: float, total: float | None, message: str | None
        ) -> None:
            updates.append((progress, total, message, time.monotonic()))

        async with Client(stack.url, mode=mode) as client:
            started = time.monotonic()
            result = await client.call_tool(
                "steps", {"count": 4, "pause": 0.4}, progress_callback=on_progress
            )
            took = time.monotonic() - started
        content = result.content[0]
        assert isinstance(content, types.TextContent)
        return [(u[0], u[1], u[2], u[3] - started) for u in updates], took, content.text

    updates, took, text = run(scenario)
    assert [u[:3] for u in updates] == [
        (step, 4, f"step {step}") for step in range(1, 5)
    ]
    assert text == "4 steps"
    # Sent as they came, not buffered until the end: the first step arrived
    # at least one pause before the result.
    assert updates[0][3] < took - 0.8, (updates, took)
