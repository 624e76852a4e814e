"""Read what an upstream server answers: token responses (:rfc:`6749#section-5`)
and JSON API responses (userinfo, provider APIs).

Upstream servers do not all answer as the RFC says: GitHub sends form-encoded
token responses unless asked for JSON and reports errors with HTTP 200;
gateways answer HTML pages on outages; ``expires_in`` and ``scope`` are often
left out. Everything here turns such answers into a ``dict`` or an
:class:`~flask_mcp.auth.providers.UpstreamError`, and never puts a token into
an error message.
"""

from __future__ import annotations

import json
import math
import typing as t
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import parse_qsl

import requests

from .provider import UpstreamError
from .provider import UpstreamTokens

#: Content types whose body may be a form-encoded token response.
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "text/plain", ""})


def read_token_response(response: requests.Response, what: str) -> dict[str, t.Any]:
    """The token response of ``response`` as a dict, JSON or form-encoded.

    :param what: names the endpoint in error descriptions.
    :raises UpstreamError: with upstream's ``error`` code when it sent one
        (even with HTTP 200, as GitHub does), else ``server_error`` for an
        HTTP error, an unreadable body or a body without ``access_token``.
    """
    payload = _payload(response)
    if payload is not None and str_or_none(payload.get("error")):
        description = str_or_none(payload.get("error_description"))
        raise UpstreamError(payload["error"], description)
    if response.status_code >= 400 or payload is None:
        raise UpstreamError("server_error", _unusable(response, what))
    if not str_or_none(payload.get("access_token")):
        raise UpstreamError("server_error", f"the {what} sent no access_token")
    return payload


def read_json(response: requests.Response, what: str) -> t.Any:
    """The JSON body of a successful API response (userinfo, provider APIs).

    :raises UpstreamError: ``invalid_token`` on HTTP 401, upstream's
        ``error`` code when the body has one, else ``server_error``.
    """
    try:
        body = response.json() if response.content else None
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        body = None
    if 200 <= response.status_code < 300 and body is not None:
        return body
    if isinstance(body, dict):
        # OAuth style ({"error": ...}) or GitHub style ({"message": ...}).
        error = str_or_none(body.get("error"))
        description = str_or_none(body.get("error_description") or body.get("message"))
    else:
        error = description = None
    if response.status_code == 401:
        error = error or "invalid_token"
    raise UpstreamError(
        error or "server_error", description or _unusable(response, what)
    )


def to_tokens(
    payload: Mapping[str, t.Any],
    received_at: float,
    requested_scopes: Sequence[str],
    parse_scopes: Callable[[t.Any], tuple[str, ...]],
    previous_refresh_token: str | None = None,
) -> UpstreamTokens:
    """Normalise a token response read by :func:`read_token_response`.

    ``expires_in`` may be a number or a numeric string (form-encoded); without
    it ``expires_at`` is ``None``. Without ``scope`` the requested scopes were
    granted (:rfc:`6749#section-5.1`). Without a new ``refresh_token`` the
    previous one stays valid (:rfc:`6749#section-6`).
    """
    token_type = str_or_none(payload.get("token_type")) or "Bearer"
    return UpstreamTokens(
        access_token=payload["access_token"],
        token_type="Bearer" if token_type.lower() == "bearer" else token_type,
        refresh_token=str_or_none(payload.get("refresh_token"))
        or previous_refresh_token,
        id_token=str_or_none(payload.get("id_token")),
        expires_at=_expires_at(payload, received_at),
        scopes=(
            parse_scopes(payload["scope"])
            if payload.get("scope") is not None
            else tuple(requested_scopes)
        ),
        raw=dict(payload),
    )


def split_scopes(value: t.Any, separators: str = "") -> tuple[str, ...]:
    """Scopes of a ``scope`` value: a space-delimited string (or delimited by
    any of ``separators`` too, such as GitHub's commas) or a JSON list."""
    if isinstance(value, str):
        for separator in separators:
            value = value.replace(separator, " ")
        return tuple(dict.fromkeys(value.split()))
    if isinstance(value, (list, tuple)):
        return tuple(dict.fromkeys(v for v in value if isinstance(v, str) and v))
    return ()


def with_subject(identity: t.Any, *names: str) -> dict[str, t.Any]:
    """``identity`` with ``sub`` as a string, taken from ``sub`` or ``names``
    (``id`` by default).

    :raises UpstreamError: ``server_error`` when there is no usable subject.
    """
    if not isinstance(identity, dict):
        raise UpstreamError("server_error", "the user info is not a JSON object")
    for name in ("sub", *(names or ("id",))):
        value = identity.get(name)
        if (
            isinstance(value, (str, int))
            and not isinstance(value, bool)
            and value != ""
        ):
            return {**identity, "sub": str(value)}
    raise UpstreamError("server_error", "the user info has no subject")


def _payload(response: requests.Response) -> dict[str, t.Any] | None:
    content_type = response.headers.get("Content-Type", "")
    media_type = content_type.split(";")[0].strip().lower()
    text = response.text
    if media_type.endswith("json") or text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return None
        return document if isinstance(document, dict) else None
    if media_type in _FORM_TYPES and "=" in text:
        try:
            return dict(
                parse_qsl(text.strip(), keep_blank_values=True, strict_parsing=True)
            )
        except ValueError:
            return None
    return None


def _expires_at(payload: Mapping[str, t.Any], received_at: float) -> float | None:
    seconds = _number(payload.get("expires_in"))
    if seconds is not None:
        return received_at + seconds
    return _number(payload.get("expires_at"))


def _number(value: t.Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def str_or_none(value: t.Any) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def _unusable(response: requests.Response, what: str) -> str:
    media_type = response.headers.get("Content-Type", "").split(";")[0] or "no type"
    return f"the {what} answered HTTP {response.status_code} ({media_type})"
