"""Access checks on tools, resources, templates and prompts, through real HTTP.

Every check of :data:`apps.CHECKS` guards one component of each kind; each
principal must see exactly the components its checks allow, and a component
it may not use must answer exactly like one that does not exist: same HTTP
status, content type, JSON-RPC code, message and data, the name aside.

The whole matrix runs twice: on gunicorn (2 sync workers, requests) and on
Flask's test client.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from . import apps
from .conftest import Served
from .conftest import serve_app
from .helpers import INVALID_PARAMS
from .helpers import RESOURCE_NOT_FOUND
from .helpers import Http
from .helpers import McpClient
from .helpers import Reply
from .helpers import error_of
from .helpers import normalized

CHECK_NAMES = sorted(apps.CHECKS)
#: ``gunicorn-async`` serves the same app with ``async def`` checks and
#: ``authenticate``: a coroutine must never pass for a session or a yes.
SURFACES = [
    "gunicorn",
    "gunicorn-async",
    # In-process: its tiers are exactly http (support/tiers.py, ``tiers``).
    pytest.param("flask", marks=pytest.mark.tiers("http")),
]


@pytest.fixture(scope="module")
def anonymous_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Served]:
    """The app without ``authenticate``: every check gets ``None``."""
    with serve_app(
        tmp_path_factory.mktemp("anonymous-server"),
        "snake",
        {"INTEGRATION_AUTH_ANONYMOUS": "1"},
    ) as served:
        yield served


@pytest.fixture(scope="module")
def async_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[tuple[Served, Served]]:
    """The app with ``async def`` checks, with and without ``authenticate``."""
    with (
        serve_app(
            tmp_path_factory.mktemp("async-keyed"),
            "snake",
            {"INTEGRATION_AUTH_ASYNC": "1"},
        ) as keyed,
        serve_app(
            tmp_path_factory.mktemp("async-anonymous"),
            "snake",
            {"INTEGRATION_AUTH_ASYNC": "1", "INTEGRATION_AUTH_ANONYMOUS": "1"},
        ) as anonymous,
    ):
        yield keyed, anonymous


@pytest.fixture(scope="module")
def flask_https(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Http]:
    """The app through Flask's test client: anonymous -> its ``Http``."""
    keyed = apps.create_app(instance_path=str(tmp_path_factory.mktemp("keyed")))
    anonymous = apps.create_app(
        instance_path=str(tmp_path_factory.mktemp("anon")), anonymous=True
    )
    return {False: Http(app=keyed), True: Http(app=anonymous)}


@pytest.fixture
def surface_https(surface: str, request: pytest.FixtureRequest) -> dict[bool, Http]:
    """The surface under test (anonymous -> its ``Http``): a variant starts
    only the servers it talks to, so the ``flask`` one starts none."""
    if surface == "flask":
        return t.cast(dict[bool, Http], request.getfixturevalue("flask_https"))
    if surface == "gunicorn":
        keyed = request.getfixturevalue("auth_server")
        anonymous = request.getfixturevalue("anonymous_server")
    else:
        keyed, anonymous = request.getfixturevalue("async_servers")
    return {False: keyed.http, True: anonymous.http}


@pytest.fixture(scope="module")
def made_clients() -> dict[tuple[str, str], McpClient]:
    """Initialized clients of the module, one per (surface, principal)."""
    return {}


@pytest.fixture
def clients(
    surface_https: dict[bool, Http], made_clients: dict[tuple[str, str], McpClient]
) -> t.Callable[[str, str], McpClient]:
    """``clients(surface, principal)``: an initialized client, one per pair."""

    def get(surface: str, principal: str) -> McpClient:
        if (surface, principal) not in made_clients:
            anonymous = principal == "anonymous"
            headers = {} if anonymous else {"X-API-Key": apps.KEYS[principal]}
            client = McpClient(surface_https[anonymous], headers)
            assert client.initialize().status == 200
            made_clients[surface, principal] = client
        return made_clients[surface, principal]

    return get


def visible(principal: str) -> list[str]:
    """Check names whose components ``principal`` may use, plus ``public``."""
    allowed = [name for name in CHECK_NAMES if principal in apps.ALLOWED[name]]
    return [*allowed, "public"]


def hidden(principal: str) -> list[str]:
    return [name for name in CHECK_NAMES if principal not in apps.ALLOWED[name]]


def test_the_matrix_allows_and_hides_something_for_everyone() -> None:
    """Guards the table itself: each principal is refused somewhere, and every
    check both allows and refuses someone."""
    for principal in apps.PRINCIPALS:
        assert hidden(principal), principal
    for name in CHECK_NAMES:
        assert apps.ALLOWED[name], name
        assert set(apps.PRINCIPALS) - apps.ALLOWED[name], name
    assert hidden("anonymous") == CHECK_NAMES


# ---------------------------------------------------------------------------
# lists


LISTS: dict[str, t.Callable[[str], set[str]]] = {
    "tools": lambda principal: (
        {
            f"{prefix}_{name}"
            for name in visible(principal)
            for prefix in ("tool", "ctxtool")
        }
        | {"write_x", "write_rw"}
    ),  # step-up tools are listed to everyone
    "resources": lambda principal: {f"res://{name}" for name in visible(principal)},
    "templates": lambda principal: {
        f"tmpl://{name}/{{item}}" for name in visible(principal)
    },
    "prompts": lambda principal: {
        f"{prefix}_{name}"
        for name in visible(principal)
        for prefix in ("prompt", "ctxprompt")
    },
}


@pytest.mark.parametrize("kind", sorted(LISTS))
@pytest.mark.parametrize("principal", apps.PRINCIPALS)
@pytest.mark.parametrize("surface", SURFACES)
def test_list_shows_exactly_the_allowed_components(
    clients: t.Callable[[str, str], McpClient], surface: str, principal: str, kind: str
) -> None:
    client = clients(surface, principal)
    assert client.names(kind) == LISTS[kind](principal)


# ---------------------------------------------------------------------------
# using a component: allowed ones work, hidden ones answer like unknown ones


class Operation(t.NamedTuple):
    """How to use the component of one check, and what success looks like."""

    send: t.Callable[[McpClient, str], Reply]
    #: The text identifying the component in requests and errors.
    key: t.Callable[[str], str]
    ok: t.Callable[[dict[str, t.Any], str, str], None]
    code: int


def _text_of(result: dict[str, t.Any]) -> str:
    (content,) = result["content"]
    assert content["type"] == "text"
    return t.cast(str, content["text"])


def _tool_ok(prefix: str) -> t.Callable[[dict[str, t.Any], str, str], None]:
    def ok(result: dict[str, t.Any], name: str, principal: str) -> None:
        assert result.get("isError") is not True, result
        text = _text_of(result)
        if prefix == "tool":
            assert text == f"tool {name}"
        else:
            assert text == f"ctx tool {name} for {principal}"

    return ok


def _call_tool(prefix: str) -> t.Callable[[McpClient, str], Reply]:
    return lambda client, name: client.rpc(
        "tools/call", {"name": f"{prefix}_{name}", "arguments": {}}
    )


def _read(uri: t.Callable[[str], str]) -> t.Callable[[McpClient, str], Reply]:
    return lambda client, name: client.rpc("resources/read", {"uri": uri(name)})


def _read_ok(kind: str) -> t.Callable[[dict[str, t.Any], str, str], None]:
    def ok(result: dict[str, t.Any], name: str, principal: str) -> None:
        (content,) = result["contents"]
        assert content["mimeType"] == "application/json"
        if kind == "resource":
            assert content["uri"] == f"res://{name}"
            assert json.loads(content["text"]) == {"resource": name}
        else:
            assert content["uri"] == f"tmpl://{name}/7"
            assert json.loads(content["text"]) == {"template": name, "item": "7"}

    return ok


def _get_prompt(prefix: str) -> t.Callable[[McpClient, str], Reply]:
    def send(client: McpClient, name: str) -> Reply:
        arguments = {"topic": "cats"} if prefix == "prompt" else {}
        return client.rpc(
            "prompts/get", {"name": f"{prefix}_{name}", "arguments": arguments}
        )

    return send


def _prompt_ok(prefix: str) -> t.Callable[[dict[str, t.Any], str, str], None]:
    def ok(result: dict[str, t.Any], name: str, principal: str) -> None:
        (message,) = result["messages"]
        expected = (
            f"prompt {name} about cats"
            if prefix == "prompt"
            else f"prompt {name} for {principal}"
        )
        assert message["content"] == {"type": "text", "text": expected}

    return ok


def _complete(kind: str) -> t.Callable[[McpClient, str], Reply]:
    def send(client: McpClient, name: str) -> Reply:
        if kind == "prompt":
            ref = {"type": "ref/prompt", "name": f"prompt_{name}"}
            argument = {"name": "topic", "value": ""}
        else:
            ref = {"type": "ref/resource", "uri": f"tmpl://{name}/{{item}}"}
            argument = {"name": "item", "value": ""}
        return client.rpc("completion/complete", {"ref": ref, "argument": argument})

    return send


def _complete_ok(result: dict[str, t.Any], name: str, principal: str) -> None:
    assert result["completion"]["values"] == [f"{name}-1", f"{name}-2"]


def _subscribe(uri: t.Callable[[str], str]) -> t.Callable[[McpClient, str], Reply]:
    return lambda client, name: client.rpc("resources/subscribe", {"uri": uri(name)})


def _empty_ok(result: dict[str, t.Any], name: str, principal: str) -> None:
    assert result == {}


def _static(name: str) -> str:
    return f"res://{name}"


def _templated(name: str) -> str:
    return f"tmpl://{name}/7"


OPERATIONS: dict[str, Operation] = {
    "tools/call": Operation(
        _call_tool("tool"), lambda n: f"tool_{n}", _tool_ok("tool"), INVALID_PARAMS
    ),
    "tools/call+context": Operation(
        _call_tool("ctxtool"),
        lambda n: f"ctxtool_{n}",
        _tool_ok("ctxtool"),
        INVALID_PARAMS,
    ),
    "resources/read": Operation(
        _read(_static), _static, _read_ok("resource"), RESOURCE_NOT_FOUND
    ),
    "resources/read+template": Operation(
        _read(_templated), _templated, _read_ok("template"), RESOURCE_NOT_FOUND
    ),
    "resources/subscribe": Operation(
        _subscribe(_static), _static, _empty_ok, RESOURCE_NOT_FOUND
    ),
    "resources/subscribe+template": Operation(
        _subscribe(_templated), _templated, _empty_ok, RESOURCE_NOT_FOUND
    ),
    "prompts/get": Operation(
        _get_prompt("prompt"),
        lambda n: f"prompt_{n}",
        _prompt_ok("prompt"),
        INVALID_PARAMS,
    ),
    "prompts/get+context": Operation(
        _get_prompt("ctxprompt"),
        lambda n: f"ctxprompt_{n}",
        _prompt_ok("ctxprompt"),
        INVALID_PARAMS,
    ),
    "completion/complete+prompt": Operation(
        _complete("prompt"), lambda n: f"prompt_{n}", _complete_ok, INVALID_PARAMS
    ),
    "completion/complete+template": Operation(
        _complete("template"),
        lambda n: f"tmpl://{n}/{{item}}",
        _complete_ok,
        INVALID_PARAMS,
    ),
}

#: A name no component has.
UNKNOWN = "nosuchthing"


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("principal", apps.PRINCIPALS)
@pytest.mark.parametrize("surface", SURFACES)
def test_allowed_components_work_and_hidden_ones_answer_like_unknown_ones(
    clients: t.Callable[[str, str], McpClient],
    surface: str,
    principal: str,
    operation: str,
) -> None:
    client = clients(surface, principal)
    op = OPERATIONS[operation]

    unknown = op.send(client, UNKNOWN)
    assert unknown.status == 200
    assert error_of(unknown)["code"] == op.code
    unknown_shape = normalized(unknown, op.key(UNKNOWN))
    assert "<NAME>" in str(unknown_shape), unknown_shape  # the name is in the answer

    for name in visible(principal):
        reply = op.send(client, name)
        assert reply.status == 200, (name, reply.body)
        message = reply.json()
        assert "result" in message, (name, message)
        op.ok(message["result"], name, principal)

    for name in hidden(principal):
        reply = op.send(client, name)
        assert normalized(reply, op.key(name)) == unknown_shape, (name, reply.body)


def test_async_authenticate_refuses_what_the_sync_one_refuses(
    async_servers: tuple[Served, Served],
) -> None:
    """An ``async def authenticate`` returning ``None`` or raising is a 401:
    its coroutine never counts as a session."""
    keyed = async_servers[0]
    for headers, error in (({}, None), ({"X-API-Key": "nope"}, "invalid_token")):
        reply = McpClient(keyed.http, headers).rpc("tools/list", session=False)
        assert reply.status == 401, reply.body
        assert reply.challenge().get("error") == error
    alice = McpClient(keyed.http, {"X-API-Key": apps.KEYS["alice"]})
    assert alice.initialize().status == 200
