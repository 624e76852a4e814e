"""Managed API keys: the keyring, the ``flask mcp keys`` commands, and a
server that accepts them next to static keys. Refusals each show their
error and that no session was made."""

from __future__ import annotations

import re
import typing as t

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import KeyRing
from flask_mcp.auth import ManagedKeySession
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.auth.keyring import KeyringError
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from flask_mcp.testing import MCPError

KEY = re.compile(r"mcpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend() -> MemoryStoreBackend:
    return MemoryStoreBackend()


@pytest.fixture
def ring(backend: MemoryStoreBackend, clock: Clock) -> KeyRing:
    return KeyRing(Store(backend, "mcp:mcp:"), clock)


# -- the keyring ---------------------------------------------------------------


def test_a_key_is_made_once_and_stored_as_a_hash(ring, backend):
    key, managed = ring.create("ci-deploy", roles=["deployer"], scopes=["tools:run"])
    assert KEY.fullmatch(key)
    stored = repr(backend.__dict__)
    assert key not in stored and key.split("_")[-1] not in stored
    session = ring.check(key)
    assert session == ManagedKeySession(
        name="ci-deploy",
        roles=frozenset({"deployer"}),
        scopes=frozenset({"tools:run"}),
        key_id=managed.key_id,
    )
    assert session.subject == "key:ci-deploy"
    assert session.principal == f"managed-key:{managed.key_id}"


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "mcpk_",
        "not-a-key",
        "mcpk_0123456789abcdef_" + "A" * 43,  # unknown id
        "MCPK_0123456789abcdef_" + "A" * 43,
        "mcpk_0123456789abcdef_" + "A" * 42 + "%",
        "mcpk_0123456789abcdef_" + "A" * 4000,
    ],
)
def test_forged_keys_are_refused(ring, presented):
    ring.create("real")
    assert ring.check(presented) is None


def test_a_right_id_with_a_wrong_secret_is_refused(ring):
    key, _ = ring.create("real")
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert ring.check(forged) is None
    assert ring.check(key) is not None


def test_expiry(ring, clock):
    key, managed = ring.create("temp", expires_in=86400)
    assert managed.expires_at == clock.now + 86400
    clock.now += 86399
    assert ring.check(key) is not None
    clock.now += 1
    assert ring.check(key) is None
    assert [k.name for k in ring.keys()] == ["temp"]  # listed, as expired
    assert ring.keys()[0].expired(clock.now)


def test_revocation_and_names(ring):
    key, _ = ring.create("bot")
    with pytest.raises(KeyringError, match="exists"):
        ring.create("bot")
    ring.revoke("bot")
    assert ring.check(key) is None
    assert ring.keys() == []
    with pytest.raises(KeyringError, match="no key named"):
        ring.revoke("bot")
    again, _ = ring.create("bot")  # the name is free again: another key
    assert again != key and ring.check(key) is None and ring.check(again)


@pytest.mark.parametrize(
    "options",
    [
        {"name": ""},
        {"name": "has space"},
        {"name": "x" * 65},
        {"name": "-leading"},
        {"name": "é"},
        {"roles": ["two words"]},
        {"roles": "admin"},
        {"scopes": ['quo"te']},
        {"expires_in": 0},
        {"expires_in": -5},
    ],
)
def test_bad_keys_are_refused_at_creation(ring, options):
    name = options.pop("name", "fine")
    with pytest.raises(KeyringError):
        ring.create(name, **options)
    assert ring.keys() == []


def test_last_used_is_written_at_most_once_a_minute(ring, clock, backend):
    key, _ = ring.create("bot")
    assert ring.keys()[0].last_used_at is None
    ring.check(key)
    first = ring.keys()[0].last_used_at
    assert first == clock.now
    clock.now += 30
    ring.check(key)
    assert ring.keys()[0].last_used_at == first


def test_a_busy_key_costs_no_store_write_per_request(ring, clock, monkeypatch):
    key, _ = ring.create("bot")
    adds: list[str] = []
    add = ring.store.add
    monkeypatch.setattr(
        ring.store, "add", lambda name, *a, **k: adds.append(name) or add(name, *a, **k)
    )
    for _ in range(5):
        assert ring.check(key) is not None
        clock.now += 10
    assert len(adds) == 1  # the first of this minute, in this process
    clock.now += 15
    assert ring.check(key) is not None
    assert len(adds) == 2  # the next minute: asked again (the store decides)


def test_a_planted_record_is_no_key(ring, backend):
    store = Store(backend, "mcp:mcp:")
    store.set("managed-key:0123456789abcdef", {"name": "x", "digest": 3}, 60)
    store.set("managed-keys", {"x": "0123456789abcdef"}, 60)
    assert ring.check("mcpk_0123456789abcdef_" + "A" * 43) is None
    assert ring.keys() == []


# -- the commands --------------------------------------------------------------


@pytest.fixture
def served(tmp_path) -> tuple[Flask, FlaskMCP]:
    app = Flask("keys", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    mcp = FlaskMCP(
        app,
        authenticate=[
            api_key_auth({"static-key": {"sub": "legacy", "role": "reader"}}),
            managed_key_auth(),
        ],
    )

    @mcp.tool(can_access=require_role("deployer"))
    def deploy() -> str:
        return "deployed"

    @mcp.tool(can_access=require_scopes("reports:read"))
    def report() -> str:
        return "report"

    return app, mcp


def invoke(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["mcp", "keys", *args])


def create(app: Flask, *args: str) -> str:
    result = invoke(app, "create", *args)
    assert result.exit_code == 0, result.output
    keys = KEY.findall(result.output)
    assert len(keys) == 1
    return t.cast(str, keys[0])


def test_create_list_revoke(served):
    app, _ = served
    key = create(
        app,
        "ci",
        "--role",
        "deployer",
        "--scope",
        "a",
        "--scope",
        "b",
        "--expires",
        "30",
    )
    listing = invoke(app, "list")
    assert listing.exit_code == 0
    assert key not in listing.output and key.split("_")[-1] not in listing.output
    header, row = listing.output.splitlines()
    assert header.split() == [
        "NAME",
        "ROLES",
        "SCOPES",
        "CREATED",
        "EXPIRES",
        "LAST",
        "USED",
    ]
    assert row.split()[:3] == ["ci", "deployer", "a,b"] and row.endswith("never")
    revoked = invoke(app, "revoke", "ci")
    assert revoked.exit_code == 0 and "Revoked key 'ci'" in revoked.output
    assert invoke(app, "list").output.strip() == "No keys."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "bad name"], "key name"),
        (["create", "k", "--expires", "0"], "'--expires'"),
        (["create", "k", "--expires", "soon"], "'--expires'"),
        (["create", "k", "--role", "a b"], "invalid role"),
        (["revoke", "ghost"], "no key named 'ghost'"),
        (["list", "--server", "other"], "no MCP server named 'other'"),
    ],
)
def test_command_mistakes(served, args, message):
    app, _ = served
    result = invoke(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert KEY.search(result.output) is None


def test_several_servers_need_server(served, tmp_path):
    app, _ = served
    FlaskMCP(
        app, blueprint_name="second", path="/second", authenticate=managed_key_auth()
    )
    result = invoke(app, "list")
    assert result.exit_code != 0 and "--server mcp, second" in result.output
    key = create(app, "only-second", "--server", "second")
    assert "only-second" in invoke(app, "list", "--server", "second").output
    assert "only-second" not in invoke(app, "list", "--server", "mcp").output
    assert key


def test_a_created_key_signs_in_and_its_roles_count(served):
    app, mcp = served
    key = create(app, "deploy-bot", "--role", "deployer")
    with mcp.test_client(app, headers={"X-API-Key": key}) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["deploy"]
        assert client.call_tool("deploy")["content"][0]["text"] == "deployed"
    with mcp.test_client(app, headers={"X-API-Key": "static-key"}) as client:
        assert client.list_tools() == []  # a reader: neither tool
    assert "never" not in invoke(app, "list").output.splitlines()[1].split("UTC")[-1]


def test_revocation_is_effective_on_the_next_request(served):
    app, mcp = served
    key = create(app, "leaked", "--role", "deployer")
    with mcp.test_client(app, headers={"X-API-Key": key}) as client:
        client.call_tool("deploy")
        invoke(app, "revoke", "leaked")
        with pytest.raises(MCPError) as refused:
            client.call_tool("deploy")
    assert refused.value.status == 401
    raw = app.test_client().post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream", "X-API-Key": key},
    )
    assert raw.status_code == 401
    # Static keys were tried first: theirs is the refusal (same challenge).
    assert raw.headers["WWW-Authenticate"] == (
        'ApiKey header="X-API-Key", error="invalid_token",'
        ' error_description="invalid API key"'
    )
    assert "Mcp-Session-Id" not in raw.headers
