"""The OAuth proxy in operation (issue 18): what it announces (sign-ins,
token events, upstream calls), what the audit trail says of it, and the
operator's commands: ``flask mcp tokens revoke``, ``clients``, ``consents``.

"Every host" is two apps on one store (one instance folder: the same file
store and keys), as two hosts share a Redis."""

from __future__ import annotations

import json
import logging
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import signals
from flask_mcp.auth.providers import OAuthProvider

from .app import make_provider
from .conftest import BASE_URL
from .conftest import MCP_URL
from .flow import FlaskHttp
from .flow import Flow


class Switchable(OAuthProvider):
    """The mock upstream, whose users are whoever :attr:`subject` says."""

    subject = "johndoe"

    def identity(self, tokens: t.Any) -> dict[str, t.Any]:
        return {**super().identity(tokens), "sub": Switchable.subject}


@pytest.fixture
def hosts(
    make_app: t.Callable[..., Flask], upstream: t.Any, tmp_path: Path
) -> tuple[Flask, Flask]:
    """Two apps on one store and one key set."""

    def provider() -> OAuthProvider:
        found = make_provider(BASE_URL, upstream.url)
        found.__class__ = Switchable  # the same provider, its users switchable
        return found

    folder = tmp_path / "shared"
    first = make_app(folder, provider=provider())
    second = make_app(folder, provider=provider())
    return first, second


def as_user(app: Flask, subject: str) -> Flow:
    Switchable.subject = subject
    return Flow(FlaskHttp(app.test_client()), MCP_URL)


def tokens_of(
    app: Flask, subject: str, client: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    Switchable.subject = subject
    return as_user(app, subject).tokens(client)


def works(app: Flask, access_token: str) -> bool:
    reply = Flow(FlaskHttp(app.test_client()), MCP_URL).whoami(access_token)
    assert reply.status in (200, 401), reply.text
    return reply.status == 200


def refreshes(app: Flask, tokens: dict[str, t.Any]) -> bool:
    flow = Flow(FlaskHttp(app.test_client()), MCP_URL)
    reply = flow.refresh(tokens["client"], tokens["refresh_token"])
    # 400 invalid_grant; 401 invalid_client once the client is deleted.
    assert reply.status in (200, 400, 401), reply.text
    return reply.status == 200


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["mcp", *args])
    assert result.exit_code == 0, result.output
    return result.output


# -- announcements and the audit trail --------------------------------------------


class Caught:
    def __init__(self) -> None:
        self.events: list[tuple[str, signals.AuthEvent]] = []

    def receiver(self, name: str) -> t.Callable[..., None]:
        def receive(sender: t.Any, event: signals.AuthEvent) -> None:
            self.events.append((name, event))

        return receive


def test_sign_in_and_token_events_are_announced_and_audited(
    hosts: tuple[Flask, Flask], upstream: t.Any
) -> None:
    app = hosts[0]
    caught = Caught()
    connected = {
        signals.signed_in: caught.receiver("sign_in"),
        signals.token_issued: caught.receiver("token_issued"),
        signals.token_refreshed: caught.receiver("token_refreshed"),
        signals.token_revoked: caught.receiver("token_revoked"),
    }
    for signal, receiver in connected.items():
        signal.connect(receiver, sender=app, weak=False)
    lines: list[dict[str, t.Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(record.getMessage()))

    audit = logging.getLogger("flask_mcp.audit")
    handler = Collect()
    audit.addHandler(handler)
    audit.setLevel(logging.INFO)
    try:
        from flask_mcp.ops.audit import AuditTrail

        AuditTrail(app)  # what MCP_AUDIT = True sets up
        tokens = tokens_of(app, "ann")
        flow = as_user(app, "ann")
        refreshed = flow.refresh(tokens["client"], tokens["refresh_token"])
        assert refreshed.status == 200
        upstream.next_authorize_error("access_denied", "the user said no")
        client = flow.register()
        from .flow import pkce

        _, challenge = pkce()
        reply = flow.authorize(client, challenge=challenge)
        reply = flow.consent(reply)
        flow.through_upstream(reply)
        assert (
            flow.revoke(tokens["client"], refreshed.json()["refresh_token"]).status
            == 200
        )
    finally:
        audit.removeHandler(handler)
        audit.setLevel(logging.NOTSET)
        for signal, receiver in connected.items():
            signal.disconnect(receiver)
    names = [name for name, _ in caught.events]
    assert names == ["sign_in", "token_issued", "token_refreshed", "token_revoked"]
    sign_in, issued, refreshed_event, revoked = (e for _, e in caught.events)
    client_id = tokens["client"]["client_id"]
    assert (sign_in.subject, sign_in.client_id, sign_in.outcome) == (
        "ann",
        client_id,
        "ok",
    )
    assert sign_in.provider == "mock-upstream"
    assert issued.grant_id == sign_in.grant_id == refreshed_event.grant_id
    assert (revoked.reason, revoked.subject) == ("client", "ann")
    audited = [(line["event"], line["outcome"], line["reason"]) for line in lines]
    assert audited == [
        ("sign_in", "ok", None),
        ("token_issued", "ok", None),
        ("token_refreshed", "ok", None),
        ("token_revoked", "ok", "client"),
    ]
    assert all(line["principal_subject"] == "ann" for line in lines)
    assert all(line["principal_source"] == "mock-upstream" for line in lines)


def test_a_token_without_a_refresh_token_is_announced(
    hosts: tuple[Flask, Flask],
) -> None:
    """A client that may not refresh gets an access token alone: issued all
    the same, so the trail has its issue beside its revocation."""
    app = hosts[0]
    caught = Caught()
    receiver = caught.receiver("token_issued")
    signals.token_issued.connect(receiver, sender=app, weak=False)
    try:
        flow = as_user(app, "bea")
        tokens = flow.tokens(flow.register(grant_types=["authorization_code"]))
    finally:
        signals.token_issued.disconnect(receiver)
    assert "refresh_token" not in tokens
    [(_, issued)] = caught.events
    assert (issued.subject, issued.client_id) == ("bea", tokens["client"]["client_id"])


def test_a_failed_sign_in_is_announced_with_its_reason(
    hosts: tuple[Flask, Flask], upstream: t.Any
) -> None:
    app = hosts[0]
    seen: list[signals.AuthEvent] = []

    def receive(sender: t.Any, event: signals.AuthEvent) -> None:
        seen.append(event)

    signals.signed_in.connect(receive, sender=app, weak=False)
    try:
        upstream.next_token_error("invalid_grant")
        flow = as_user(app, "ann")
        from .flow import pkce

        client = flow.register()
        _, challenge = pkce()
        reply = flow.consent(flow.authorize(client, challenge=challenge))
        done = flow.through_upstream(reply)
        assert "error=server_error" in done.location
    finally:
        signals.signed_in.disconnect(receive)
    assert [(e.subject, e.outcome) for e in seen] == [(None, "invalid_grant")]


def test_upstream_calls_are_child_spans(hosts: tuple[Flask, Flask]) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    from flask_mcp.ops import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing._connect_upstream()
    original = tracing._tracer
    tracing._tracer = provider.get_tracer("flask_mcp")
    try:
        with provider.get_tracer("test").start_as_current_span("browser") as parent:
            tokens_of(hosts[0], "ann")
    finally:
        tracing._tracer = original
    upstream_spans = [
        s for s in exporter.get_finished_spans() if s.name.startswith("oauth")
    ]
    assert {s.name for s in upstream_spans} >= {
        "oauth upstream token endpoint",
        "oauth upstream userinfo endpoint",
    }
    parent_id = parent.get_span_context().span_id
    assert all(s.parent.span_id == parent_id for s in upstream_spans)


# -- flask mcp tokens revoke ------------------------------------------------------


def test_revoking_a_subject_ends_every_family_on_every_host_at_once(
    hosts: tuple[Flask, Flask], upstream: t.Any
) -> None:
    first, second = hosts
    ann_laptop = tokens_of(first, "ann")
    ann_phone = tokens_of(second, "ann")
    bob = tokens_of(first, "bob")
    for tokens in (ann_laptop, ann_phone, bob):
        assert works(first, tokens["access_token"]) and works(
            second, tokens["access_token"]
        )

    assert cli(first, "tokens", "revoke", "--subject", "ann") == (
        "tokens of ann revoked: 2 token families ended\n"
    )
    for app in hosts:  # the very next request, on either host
        assert not works(app, ann_laptop["access_token"])
        assert not works(app, ann_phone["access_token"])
        assert works(app, bob["access_token"])
    assert not refreshes(second, ann_laptop)
    assert not refreshes(first, ann_phone)
    assert refreshes(first, bob)
    # Their upstream tokens were revoked too.
    assert len(upstream.stats()["revoked"]) >= 2
    # Ann can sign in again (in a later second: grants are timed to the
    # second, and one begun in the second of the cut counts as before it).
    time.sleep(1 - time.time() % 1)
    again = tokens_of(second, "ann")
    assert works(first, again["access_token"])


def test_the_cut_holds_for_grants_no_index_knows(
    hosts: tuple[Flask, Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grant made before the index existed (an upgrade), or while the
    command ran, is ended by the cut alone."""
    first, _ = hosts
    tokens = tokens_of(first, "ann")
    storage = first.extensions["mcp_oauth"].storage
    empty = storage.grants_of("subject", "never-signed-in")
    monkeypatch.setattr(storage, "grants_of", lambda kind, name: empty)
    assert cli(first, "tokens", "revoke", "--subject", "ann").endswith(
        "0 token families ended\n"
    )
    assert not works(first, tokens["access_token"])
    assert not refreshes(first, tokens)


def test_a_subject_with_no_tokens(hosts: tuple[Flask, Flask]) -> None:
    assert cli(hosts[0], "tokens", "revoke", "--subject", "nobody") == (
        "tokens of nobody revoked: 0 token families ended\n"
    )


# -- flask mcp clients ------------------------------------------------------------


def test_list_and_revoke_a_client(hosts: tuple[Flask, Flask]) -> None:
    first, second = hosts
    flow = as_user(first, "ann")
    good = flow.register(client_name="Good App")
    bad = flow.register(client_name="Stolen Laptop")
    good_tokens = tokens_of(first, "ann", good)
    Switchable.subject = "ann"
    bad_flow = as_user(first, "ann")
    bad_flow.login(bad, remember=True)
    bad_tokens = tokens_of(first, "ann", bad)

    listed = [
        json.loads(line)
        for line in cli(first, "clients", "list", "--json").splitlines()
    ]
    names = {row["client_id"]: row["name"] for row in listed}
    assert names == {good["client_id"]: "Good App", bad["client_id"]: "Stolen Laptop"}
    assert "Stolen Laptop" in cli(first, "clients", "list")

    output = cli(second, "clients", "revoke", bad["client_id"])
    assert output.startswith(f"client {bad['client_id']} revoked: 2 token families")
    assert "1 approval forgotten" in output
    assert not works(first, bad_tokens["access_token"])
    assert not refreshes(first, bad_tokens)
    assert works(first, good_tokens["access_token"])
    listed_after = cli(first, "clients", "list")
    assert "Stolen Laptop" not in listed_after and "Good App" in listed_after
    # The registration is gone: the client must register again.
    refused = bad_flow.authorize(bad, challenge="x" * 43)
    assert refused.status == 400


# -- flask mcp consents -----------------------------------------------------------


def test_list_and_revoke_remembered_approvals(hosts: tuple[Flask, Flask]) -> None:
    first, _ = hosts
    flow = as_user(first, "ann")
    client = flow.register(client_name="Remembered")
    flow.login(client, remember=True)
    again = flow.login(client)  # remembered: no consent page
    assert again.params.get("code")

    rows = [
        json.loads(line)
        for line in cli(first, "consents", "list", "--json").splitlines()
    ]
    assert [(r["client_id"], r["client_name"], r["scopes"]) for r in rows] == [
        (client["client_id"], "Remembered", ["mcp:read"])
    ]
    browser = rows[0]["browser"]
    assert cli(first, "consents", "list", "--client", "other") == ""
    assert cli(first, "consents", "revoke", "--browser", browser) == (
        "1 approval forgotten\n"
    )
    from .flow import pkce

    _, challenge = pkce()
    reply = flow.authorize(client, challenge=challenge)
    assert "/oauth/consent" in reply.location  # asked again
    assert cli(first, "consents", "revoke", "--client", client["client_id"]) == (
        "0 approvals forgotten\n"
    )


def test_commands_on_an_app_without_the_proxy(tmp_path: Path) -> None:
    from flask_mcp import FlaskMCP

    app = Flask("plain", instance_path=str(tmp_path))
    FlaskMCP(app)
    for args in (["tokens", "revoke", "--subject", "x"], ["clients", "list"]):
        result = app.test_cli_runner().invoke(args=["mcp", *args])
        assert result.exit_code == 1
        assert "runs no OAuth proxy" in result.output
    usage = app.test_cli_runner().invoke(args=["mcp", "consents", "revoke"])
    assert usage.exit_code == 2
