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
from support.slow_upstream import SlowUpstream
from support.slow_upstream import drip_body
from support.slow_upstream import drip_head
from support.slow_upstream import huge

from .upstream import VERIFIER

DEADLINE = 2.0
#: How late a call may end past its deadline on a loaded machine.
MARGIN = 0.75
TOKENS = UpstreamTokens(access_token="at-1", refresh_token="rt-1")

SLOW = {"drip body": drip_body(), "drip head": drip_head()}
LARGE = {"30 MB declared": huge(), "30 MB undeclared": huge(declared=False)}

CALLS: dict[str, tuple[str, t.Callable[[OAuthProvider], object]]] = {
    "code": (
        "token endpoint",
        lambda p: p.exchange_code(code="c", code_verifier=VERIFIER),
    ),
    "refresh": ("token endpoint", lambda p: p.refresh("rt-1")),
    "userinfo": ("userinfo endpoint", lambda p: p.identity(TOKENS)),
}


@pytest.fixture(params=list(SLOW), scope="module")
def slow(request) -> t.Iterator[SlowUpstream]:
    with SlowUpstream(SLOW[request.param]) as server:
        yield server


@pytest.fixture(params=list(LARGE), scope="module")
def large(request) -> t.Iterator[SlowUpstream]:
    with SlowUpstream(LARGE[request.param]) as server:
        yield server


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


def elapsed(call: t.Callable[[], object]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        call()
    except UpstreamError as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_dripping_answer_ends_at_the_timeout(slow, kind, caplog):
    what, call = CALLS[kind]
    took, error = elapsed(lambda: call(provider(slow)))
    assert DEADLINE - 0.05 <= took < DEADLINE + MARGIN, took
    assert isinstance(error, UpstreamError)
    assert error.error == "temporarily_unavailable" and error.call == what
    assert error.description == f"the {what} of slowpoke did not answer within 2.0 s"
    assert f"slowpoke: the {what} timed out" in caplog.text


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_large_answer_is_refused_unread(large, kind):
    what, call = CALLS[kind]
    took, error = elapsed(lambda: call(provider(large)))
    assert took < 1.0
    assert isinstance(error, UpstreamError)
    assert error.error == "server_error" and error.call == what
    limit = 1 << 20 if kind == "userinfo" else 256 * 1024
    assert (
        error.description == f"the {what} of slowpoke answered more than {limit} bytes"
    )


def test_a_dripping_revocation_endpoint_is_given_up(slow, caplog):
    took, error = elapsed(lambda: provider(slow).revoke(TOKENS))
    assert error is None  # best effort: logged, not raised
    assert DEADLINE - 0.05 <= took < DEADLINE + MARGIN, took
    assert "slowpoke: the revocation endpoint timed out" in caplog.text


def test_a_dripping_discovery_document_of_an_openid_provider(slow, caplog):
    oidc = OIDCProvider(
        issuer=slow.url,
        base_url="https://mcp.example.com",
        client_id="client",
        client_secret="secret",
        timeout=DEADLINE,
    )
    caplog.set_level(logging.WARNING)
    took, error = elapsed(lambda: oidc.endpoint("token_endpoint"))
    assert DEADLINE - 0.05 <= took < DEADLINE + MARGIN, took
    assert isinstance(error, UpstreamError)
    assert error.call == "discovery document"
    assert "timed out after 2.0 s" in caplog.text
