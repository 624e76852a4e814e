"""A provider's every call ends at its ``timeout``, however slowly upstream
drips its answer, and refuses an answer of 30 MB without reading it: the
token endpoint (code and refresh), userinfo, revocation (best effort: it
returns) and an OpenID provider's discovery document. The error is the one
other failures give, ``temporarily_unavailable`` or ``server_error``, naming
the call (the proxy answers both as ``temporarily_unavailable``)."""

from __future__ import annotations

import logging
import time
import typing as t

import pytest

from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.providers import UpstreamError
from flask_mcp.auth.providers import UpstreamTokens
from support.slow_upstream import DEADLINE
from support.slow_upstream import SlowUpstream
from support.slow_upstream import within_deadline

from .upstream import VERIFIER

TOKENS = UpstreamTokens(access_token="at-1", refresh_token="rt-1")

CALLS: dict[str, tuple[str, t.Callable[[OAuthProvider], object]]] = {
    "code": (
        "token endpoint",
        lambda p: p.exchange_code(code="c", code_verifier=VERIFIER),
    ),
    "refresh": ("token endpoint", lambda p: p.refresh("rt-1")),
    "userinfo": ("userinfo endpoint", lambda p: p.identity(TOKENS)),
}


def provider(server: SlowUpstream) -> OAuthProvider:
    return OAuthProvider(
        base_url="https://mcp.example.com",
        client_id="client",
        client_secret="secret",
        authorize_url=server.url + "/authorize",
        token_url=server.url + "/token",
        userinfo_url=server.url + "/userinfo",
        revocation_url=server.url + "/revoke",
        timeout=DEADLINE,
        name="slowpoke",
    )


def attempt(call: t.Callable[[], object]) -> tuple[float, UpstreamError | None]:
    """When ``call`` started, and the error it raised."""
    started = time.monotonic()
    try:
        call()
    except UpstreamError as error:
        return started, error
    return started, None


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_dripping_answer_ends_at_the_timeout(dripping_upstream, kind, caplog):
    what, call = CALLS[kind]
    started, error = attempt(lambda: call(provider(dripping_upstream)))
    within_deadline(started)
    assert isinstance(error, UpstreamError)
    assert error.error == "temporarily_unavailable" and error.call == what
    assert error.description == f"the {what} of slowpoke did not answer within 2.0 s"
    assert f"slowpoke: the {what} timed out" in caplog.text


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_large_answer_is_refused_unread(huge_upstream, kind):
    what, call = CALLS[kind]
    started, error = attempt(lambda: call(provider(huge_upstream)))
    assert time.monotonic() - started < 1.0
    assert isinstance(error, UpstreamError)
    assert error.error == "server_error" and error.call == what
    limit = 1 << 20 if kind == "userinfo" else 256 * 1024
    assert (
        error.description == f"the {what} of slowpoke answered more than {limit} bytes"
    )


def test_a_dripping_revocation_endpoint_is_given_up(dripping_upstream, caplog):
    started, error = attempt(lambda: provider(dripping_upstream).revoke(TOKENS))
    within_deadline(started)
    assert error is None  # best effort: logged, not raised
    assert "slowpoke: the revocation endpoint timed out" in caplog.text


def test_a_dripping_discovery_document_of_an_openid_provider(dripping_upstream, caplog):
    oidc = OIDCProvider(
        issuer=dripping_upstream.url,
        base_url="https://mcp.example.com",
        client_id="client",
        client_secret="secret",
        timeout=DEADLINE,
    )
    caplog.set_level(logging.WARNING)
    started, error = attempt(lambda: oidc.endpoint("token_endpoint"))
    within_deadline(started)
    assert isinstance(error, UpstreamError)
    assert error.call == "discovery document"
    assert "timed out after 2.0 s" in caplog.text
