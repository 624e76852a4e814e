"""The gateway's parts without Pushpin: signatures, templates, settings,
configuration files, and the holder and next-part view in an app whose
"gateway" is a recording stand-in for Pushpin's publishing endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp import FlaskMCP
from flask_mcp.gateway.channels import listen_item
from flask_mcp.gateway.channels import subscription_meta
from flask_mcp.gateway.pushpin_config import PushpinConfig
from flask_mcp.gateway.signature import GripSignature
from flask_mcp.gateway.wiring import GripSettings
from flask_mcp.transport.bus import Change
from flask_mcp.transport.holds import listen_event
from support.loopback import LoopbackServer

from .messages import LISTEN_HEADERS
from .messages import listen_body

KEY = "k" * 32
META = "io.modelcontextprotocol/subscriptionId"


def token(key: str = KEY, **claims: t.Any) -> str:
    claims = {"iss": "pushpin", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(claims, key, algorithm="HS256")


# ---------------------------------------------------------------------------
# Grip-Sig


def test_a_valid_signature_passes_and_everything_else_fails() -> None:
    signature = GripSignature(KEY, issuer="pushpin")
    assert signature.verify(token())
    assert signature.verify(token())  # from the one-token memory
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(
        json.dumps({"iss": "pushpin", "exp": int(time.time()) + 60}).encode()
    )
    for bad in (
        None,
        "",
        "x" * 3000,
        "not.a.jwt",
        token("another key, just as long as it is, or more"),
        token(exp=int(time.time()) - 1),
        token(iss="someone-else"),
        jwt.encode({"iss": "pushpin"}, KEY, algorithm="HS256"),  # no exp
        jwt.encode({"iss": "pushpin", "exp": True}, KEY, algorithm="HS256"),
        f"{unsigned}.{claims.rstrip(b'=').decode()}.",
    ):
        assert not signature.verify(bad), bad


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        GripSignature("changeme")  # Debian's pushpin.conf default
    with pytest.raises(ValueError, match="empty"):
        GripSignature("")


def test_binary_and_public_keys() -> None:
    secret = bytes(range(32))
    signature = GripSignature("base64:" + base64.b64encode(secret).decode())
    assert signature.verify(jwt.encode({"exp": time.time() + 60}, secret, "HS256"))
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fanout = GripSignature(public.decode(), issuer="fastly")
    assert fanout.verify(
        jwt.encode({"iss": "fastly", "exp": time.time() + 60}, private, "ES256")
    )
    # An HMAC made with the public key as its secret is no signature.
    assert not fanout.verify(hmac_token({"exp": time.time() + 60}, public))


def hmac_token(claims: dict[str, t.Any], secret: bytes) -> str:
    """HS256 by hand: PyJWT refuses to use a public key as a secret."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signed = (
        part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(json.dumps(claims).encode())
    )
    mac = hmac.new(secret, signed, hashlib.sha256).digest()
    return (signed + b"." + part(mac)).decode()


# ---------------------------------------------------------------------------
# templates: what Pushpin's var-subst makes of them


def var_subst(template: str, variables: dict[str, str]) -> str:
    """Pushpin's var-subst filter (src/handler/format.cpp), for one variable."""

    def one(found: re.Match[str]) -> str:
        return "%" if found.group(0) == "%%" else variables[found.group(1)]

    return re.sub(r"%%|%\((\w+)\)s", one, template)


HOSTILE = [
    7,
    -3,
    2**53,
    "listen-1",
    'q"uote\\ %(sub)s %% \u00e9\U0001f600',
    "grip-slot-0123",
]


@pytest.mark.parametrize("subscription", HOSTILE)
def test_each_stream_gets_the_workers_bytes(subscription: t.Any) -> None:
    """The template filled in by the gateway is exactly what the worker's
    holder sends, for hostile ids and params alike."""
    change = Change(
        "notifications/resources/updated",
        {"uri": "test://x%20y/%(sub)s?%%", "_meta": {"drop": "me"}},
    )
    meta = subscription_meta({"subscriptionId": json.dumps(subscription)})
    assert meta is not None and meta.startswith('sub="')
    value = meta[5:-1].replace('\\"', '"').replace("\\\\", "\\")
    own = json.dumps(subscription)
    assert value == own
    filled = var_subst(listen_item(change), {"sub": value})
    assert filled == listen_event(change, own).decode()
    assert json.loads(filled.split("data: ", 1)[1])["params"]["_meta"] == {
        META: subscription
    }


def test_too_long_or_odd_ids_are_not_held_at_the_gateway() -> None:
    assert subscription_meta({"subscriptionId": json.dumps("x" * 300)}) is None
    assert subscription_meta({"subscriptionId": '"\u00e9"'}) is None


# ---------------------------------------------------------------------------
# settings


def test_gateway_settings() -> None:
    settings = GripSettings.from_config(
        {"MCP_GRIP_URL": "http://127.0.0.1:5561", "MCP_GRIP_KEY": KEY}
    )
    assert settings.control == {"control_uri": "http://127.0.0.1:5561"}
    assert (settings.key, settings.issuer, settings.hold) == (KEY, None, 3600.0)
    assert settings.refresh == 60  # MCP_GRIP_REFRESH
    assert (
        GripSettings.from_config(
            {"MCP_GRIP_URL": "http://x", "MCP_GRIP_KEY": KEY, "MCP_GRIP_REFRESH": "7.5"}
        ).refresh
        == 7
    )
    fanout = GripSettings.from_config(
        {
            "MCP_GRIP_URL": "https://api.fanout.io/realm/r?iss=r&key=base64:c2VjcmV0"
            "&verify-iss=fastly&verify-key=base64:"
            + base64.b64encode(b"v" * 32).decode(),
            "MCP_GRIP_HOLD": "30",
        }
    )
    assert fanout.key == b"v" * 32 and fanout.issuer == "fastly"
    assert fanout.control["control_iss"] == "r"
    assert "verify_key" not in fanout.control
    assert fanout.refresh == 30


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"MCP_GRIP_URL": "tcp://x"}, "http"),
        ({"MCP_GRIP_URL": "http://x"}, "MCP_GRIP_KEY is required"),
        (
            {"MCP_GRIP_URL": "http://x", "MCP_GRIP_KEY": KEY, "MCP_GRIP_HOLD": 0},
            "at least 1",
        ),
        (
            {"MCP_GRIP_URL": "http://x", "MCP_GRIP_KEY": KEY, "MCP_GRIP_HOLD": "x"},
            "at least 1",
        ),
        (
            {"MCP_GRIP_URL": "http://x", "MCP_GRIP_KEY": KEY, "MCP_GRIP_REFRESH": 0.5},
            "MCP_GRIP_REFRESH must be at least 1",
        ),
        (
            {
                "MCP_GRIP_URL": "http://x",
                "MCP_GRIP_KEY": KEY,
                "MCP_GRIP_REFRESH": float("nan"),
            },
            "MCP_GRIP_REFRESH must be at least 1",
        ),
        ({"MCP_GRIP_URL": "http://x", "MCP_GRIP_KEY": "short"}, "32 bytes"),
    ],
)
def test_unusable_settings_fail_at_init_app(
    tmp_path: Path, config: dict[str, t.Any], message: str
) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(config)
    with pytest.raises(ValueError, match=message):
        FlaskMCP(app)


@pytest.mark.parametrize("name", ["two words", "x" * 71])
def test_a_server_name_that_cannot_name_channels_fails_at_init_app(
    tmp_path: Path, name: str
) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(MCP_GRIP_URL="http://x", MCP_GRIP_KEY=KEY)
    with pytest.raises(ValueError, match="cannot name gateway channels"):
        FlaskMCP(app, blueprint_name=name)


# ---------------------------------------------------------------------------
# Pushpin's files


def test_pushpin_files(tmp_path: Path) -> None:
    config = PushpinConfig(
        run_dir=tmp_path,
        port=7999,
        control_port=5561,
        origins=("127.0.0.1:8000", "127.0.0.1:8001"),
        sig_key=KEY,
    )
    files = config.files()
    assert files["routes"] == "* 127.0.0.1:8000 127.0.0.1:8001\n"
    conf = files["pushpin.conf"]
    for line in (
        f"sig_key={KEY}",
        "services=condure,zurl,pushpin-proxy,pushpin-handler",
        "http_port=127.0.0.1:7999",
        "push_in_http_port=5561",
        "zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in",
        "connection_subscription_max=100",
        "x_forwarded_for=truncate:0,append",
    ):
        assert f"\n{line}\n" in conf, line
    assert config.write() == tmp_path / "pushpin.conf"
    assert config.leftover_pids() == []
    assert config.grip_url == "http://127.0.0.1:5561"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sig_key": "changeme"}, "sig_key"),
        ({"sig_key": "k" * 20 + "\n[proxy]"}, "sig_key"),
        ({"origins": ()}, "origins"),
        ({"origins": ("127.0.0.1:8000 evil",)}, "origins"),
        ({"run_dir": Path("/tmp/" + "x" * 70)}, "too long"),
    ],
)
def test_pushpin_files_refuse_what_would_break_them(
    change: dict[str, t.Any], message: str
) -> None:
    values = {
        "run_dir": Path("/tmp/pp"),
        "port": 1,
        "control_port": 2,
        "origins": ("127.0.0.1:1",),
        "sig_key": KEY,
        **change,
    }
    with pytest.raises(ValueError, match=message):
        PushpinConfig(**values)


# ---------------------------------------------------------------------------
# the holder and the next-part view, in process


class RecordingGateway:
    """Pushpin's publishing endpoint, recording what is published."""

    def __init__(self) -> None:
        self.items: list[dict[str, t.Any]] = []
        self.published = threading.Event()

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        request = Request(environ)
        assert request.path == "/publish/"
        self.items.extend(request.get_json()["items"])
        self.published.set()
        return Response("Published\n")(environ, start_response)


@pytest.fixture
def recorder() -> t.Iterator[tuple[RecordingGateway, LoopbackServer]]:
    gateway = RecordingGateway()
    with LoopbackServer(gateway) as server:
        yield gateway, server


@pytest.fixture
def gateway_app(tmp_path: Path, recorder: t.Any) -> Flask:
    _, server = recorder
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(MCP_GRIP_URL=server.url, MCP_GRIP_KEY=KEY)
    mcp = FlaskMCP(app, name="units")

    @mcp.tool
    def announce() -> str:
        mcp.notify_list_changed("tools")
        return "ok"

    return app


def listen(client: t.Any, request_id: t.Any, **headers: str) -> t.Any:
    return client.post(
        "/mcp", data=listen_body(request_id), headers={**LISTEN_HEADERS, **headers}
    )


def channels_of(response: t.Any) -> dict[str, str]:
    """Grip-Channel entries: name -> the rest."""
    entries = {}
    for value in response.headers.getlist("Grip-Channel"):
        name, _, rest = value.partition(";")
        entries[name.strip()] = rest.strip()
    return entries


def test_a_signed_listen_is_handed_to_the_gateway(
    gateway_app: Flask, recorder: t.Any
) -> None:
    client = gateway_app.test_client()
    held = listen(client, "l-1", **{"Grip-Sig": token()})
    assert held.status_code == 200
    assert held.headers["Grip-Hold"] == "stream"
    assert held.headers["Grip-Set-Meta"] == 'sub="\\"l-1\\""'
    assert held.headers["Grip-Link"].startswith("<mcp/.grip/next>; rel=next; timeout=")
    assert "format=cstring" in held.headers["Grip-Keep-Alive"]
    channels = channels_of(held)
    chain = next(name for name in channels if name.endswith(".L"))
    assert channels[chain] == "prev-id=0; filter=require-sub; filter=var-subst"
    identity = next(name for name in channels if ".id." in name)
    assert channels[identity] == "prev-id=0"
    assert any(name.endswith("list:tools") for name in channels)
    (ack,) = [
        json.loads(line[6:])
        for line in held.text.splitlines()
        if line.startswith("data: ")
    ]
    assert ack["params"]["_meta"][META] == "l-1"

    # Any worker publishes the change on both chains, the bus position as id.
    gateway, _ = recorder
    with gateway_app.app_context():
        gateway_app.extensions["mcp"]["mcp"].mcp.notify_list_changed("tools")
    assert gateway.published.wait(5)
    relay = gateway_app.extensions["mcp_gateway"]["mcp"]
    assert relay.publisher.flush(5)
    by_channel = {item["channel"]: item for item in gateway.items}
    listen_chain = by_channel[chain]
    assert (listen_chain["id"], listen_chain["prev-id"]) == ("1", "0")
    assert listen_chain["meta"]["require_sub"].endswith("list:tools")
    assert "%(sub)s" in listen_chain["http-stream"]["content"]
    session_chain = by_channel[chain[:-1] + "S"]
    assert "id: _.1\n" in session_chain["http-stream"]["content"]

    # The gateway missed nothing: the next part replays nothing, holds again.
    grip_last = f"{chain}; last-id=1, {identity}; last-id=0"
    again = client.get(
        "/mcp/.grip/next", headers={"Grip-Sig": token(), "Grip-Last": grip_last}
    )
    assert again.status_code == 200 and again.data == b""
    assert channels_of(again)[chain].startswith("prev-id=1;")
    assert again.headers["Grip-Link"].startswith("<next>;")
    # It missed the change: the next part replays it, for this stream.
    behind = f"{chain}; last-id=0, {identity}; last-id=0"
    replayed = client.get(
        "/mcp/.grip/next", headers={"Grip-Sig": token(), "Grip-Last": behind}
    )
    (message,) = [
        json.loads(line[6:])
        for line in replayed.text.splitlines()
        if line.startswith("data: ")
    ]
    assert message["method"] == "notifications/tools/list_changed"
    assert message["params"]["_meta"][META] == "l-1"
    assert channels_of(replayed)[chain].startswith("prev-id=1;")


def test_a_stream_ahead_of_a_log_that_started_over_ends(gateway_app: Flask) -> None:
    """The bus of an emptied Redis counts from 1 again: a stream whose last
    id is past its end would wait for ids that never come; it ends, and the
    client's next listen starts on the new log."""
    client = gateway_app.test_client()
    held = listen(client, "l-2", **{"Grip-Sig": token()})
    channels = channels_of(held)
    chain = next(name for name in channels if name.endswith(".L"))
    identity = next(name for name in channels if ".id." in name)
    ahead = f"{chain}; last-id=7, {identity}; last-id=0"
    ended = client.get(
        "/mcp/.grip/next", headers={"Grip-Sig": token(), "Grip-Last": ahead}
    )
    assert ended.status_code == 200
    assert "Grip-Hold" not in ended.headers and "Grip-Link" not in ended.headers
    (final,) = [
        json.loads(line[6:])
        for line in ended.text.splitlines()
        if line.startswith("data: ")
    ]
    assert final["id"] == "l-2" and "result" in final, final


@pytest.mark.parametrize(
    "signature",
    [None, "forged", token("wrong key wrong key wrong key, wrong!")],
    ids=["none", "garbage", "other-key"],
)
def test_an_unsigned_listen_stays_in_the_worker(
    gateway_app: Flask, signature: str | None
) -> None:
    headers = {} if signature is None else {"Grip-Sig": signature}
    response = listen(gateway_app.test_client(), 1, **headers)
    assert response.status_code == 200
    assert not [h for h in response.headers.keys() if h.lower().startswith("grip-")]


def test_client_addresses_come_from_signed_requests_only(gateway_app: Flask) -> None:
    seen: list[str | None] = []

    @gateway_app.route("/whoami")
    def whoami() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    client = gateway_app.test_client()
    forwarded = {"X-Forwarded-For": "10.0.0.9, 203.0.113.5"}
    client.get("/whoami", headers=forwarded)
    client.get("/whoami", headers={**forwarded, "Grip-Sig": "forged"})
    client.get("/whoami", headers={**forwarded, "Grip-Sig": token()})
    assert seen == ["127.0.0.1", "127.0.0.1", "203.0.113.5"]


# ---------------------------------------------------------------------------
# flask mcp gateway-config


def test_gateway_config_writes_pushpin_files(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    FlaskMCP(app)
    runner = app.test_cli_runner()
    # ZeroMQ's ipc:// paths are short: not under tmp_path.
    short = tempfile.TemporaryDirectory(prefix="pp-", dir="/tmp")
    folder = Path(short.name) / "pp"
    refused = runner.invoke(args=["mcp", "gateway-config", str(folder)])
    assert refused.exit_code == 2 and "MCP_GRIP_KEY" in refused.output
    app.config["MCP_GRIP_KEY"] = KEY
    bad = runner.invoke(args=["mcp", "gateway-config", str(folder), "--origin", "x"])
    assert bad.exit_code == 2 and "origins" in bad.output
    result = runner.invoke(
        args=[
            "mcp",
            "gateway-config",
            str(folder),
            "--port",
            "8100",
            "--origin",
            "127.0.0.1:9000",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "MCP_GRIP_URL=http://127.0.0.1:5561" in result.output
    assert f"sig_key={KEY}\n" in (folder / "pushpin.conf").read_text()
    assert (folder / "routes").read_text() == "* 127.0.0.1:9000\n"
    short.cleanup()


def test_gateway_end_needs_a_gateway(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    FlaskMCP(app)
    result = app.test_cli_runner().invoke(args=["mcp", "gateway-end"])
    assert result.exit_code == 2 and "MCP_GRIP_URL" in result.output
