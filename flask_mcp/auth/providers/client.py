"""HTTP plumbing of the providers: Authlib's requests client and the mapping
of network failures onto :class:`~flask_mcp.auth.providers.UpstreamError`.

Log lines name the provider, the endpoint and the error code, never a request
or response body: those carry codes, verifiers, secrets and tokens.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import typing as t
from collections.abc import Iterator

import requests
from authlib.integrations.requests_client import OAuth2Session

from ... import signals
from .provider import UpstreamError
from .upstream_responses import read_token_response

logger = logging.getLogger(__name__)

#: A PKCE ``code_verifier`` (:rfc:`7636#section-4.1`).
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class UpstreamClient(OAuth2Session):  # type: ignore[misc]  # authlib is untyped
    """Authlib's requests client, reading token responses leniently
    (:func:`~.responses.read_token_response`).

    The parsed response is kept in :attr:`payload`: Authlib's own token dict
    coerces fields (``expires_in``) that :func:`~.responses.to_tokens` reads
    more carefully. One client serves one call: Authlib keeps per-call state.
    """

    payload: dict[str, t.Any]

    def parse_response_token(self, resp: requests.Response) -> t.Any:
        self.payload = read_token_response(resp, "token endpoint")
        self.token = {"access_token": self.payload["access_token"]}
        return self.token


@contextlib.contextmanager
def calling(provider: str, what: str, timeout: float) -> Iterator[None]:
    """Log :class:`UpstreamError` raised inside; turn timeouts and connection
    errors into ``temporarily_unavailable``, other request failures into
    ``server_error``.

    :param provider: the provider's name, for logs and descriptions.
    :param what: the endpoint called ("token endpoint").
    :param timeout: the timeout in force, for the description.

    The call is announced to :data:`~flask_mcp.signals.upstream_call_started`
    and ``_finished`` (traces show it as a child span).
    """
    call = None
    if signals.upstream_call_finished.receivers:
        call = signals.UpstreamCall(provider, what)
        signals.upstream_call_started.send(provider, call=call)
    try:
        with _failures(provider, what, timeout):
            yield
    except UpstreamError as error:
        if call is not None:
            call.error = error.error
        raise
    finally:
        if call is not None:
            call.duration = time.perf_counter() - call.started
            signals.upstream_call_finished.send(provider, call=call)


@contextlib.contextmanager
def _failures(provider: str, what: str, timeout: float) -> Iterator[None]:
    """Map the failures of one call (see :func:`calling`)."""
    try:
        yield
    except UpstreamError as error:
        code, description = error.error, error.description
        logger.info("%s: the %s refused: %s (%s)", provider, what, code, description)
        error.call = error.call or what
        raise
    except requests.Timeout:
        logger.warning("%s: the %s timed out", provider, what)
        raise UpstreamError(
            "temporarily_unavailable",
            f"the {what} of {provider} did not answer within {timeout} s",
            call=what,
        ) from None
    except requests.ConnectionError:
        logger.warning("%s: cannot connect to the %s", provider, what)
        raise UpstreamError(
            "temporarily_unavailable",
            f"cannot reach the {what} of {provider}",
            call=what,
        ) from None
    except requests.RequestException as error:
        logger.warning("%s: the %s failed: %s", provider, what, type(error).__name__)
        raise UpstreamError(
            "server_error",
            f"the request to the {what} of {provider} failed",
            call=what,
        ) from None


def check_verifier(code_verifier: str) -> None:
    """Refuse a PKCE verifier that :rfc:`7636#section-4.1` does not allow.

    :raises ValueError: a programming error of the caller, not upstream's.
    """
    if not isinstance(code_verifier, str) or not _VERIFIER.fullmatch(code_verifier):
        raise ValueError("code_verifier must be 43 to 128 unreserved characters")
