"""The ``WWW-Authenticate: Bearer`` challenge of :rfc:`6750#section-3`.

Parameters are quoted strings (:rfc:`9110#section-5.6.4`). ``error``,
``error_description`` and ``scope`` have the narrower character sets of
:rfc:`6750#section-3`; ``resource_metadata`` comes from :rfc:`9728#section-5.1`.
"""

from __future__ import annotations

import re
import typing as t

#: NQSCHAR of RFC 6750 section 3: printable ASCII and space, minus ``"`` and ``\``.
_NQSCHAR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
#: scope-token of RFC 6750 section 3 (and RFC 6749 section 3.3): NQCHAR, no space.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
#: What a quoted-string may hold once ``"`` and ``\`` are escaped: HTAB, SP, VCHAR.
_QUOTABLE = re.compile(r"[\t\x20-\x7e]*")


def bearer_challenge(
    *,
    resource_metadata: str | None = None,
    scope: str | t.Iterable[str] | None = None,
    error: str | None = None,
    error_description: str | None = None,
    realm: str | None = None,
) -> str:
    """Build a ``WWW-Authenticate`` header value for the Bearer scheme.

    >>> bearer_challenge(resource_metadata="https://h/.well-known/oauth-protected-resource/mcp")
    'Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"'

    :param resource_metadata: URL of the protected resource metadata document
        (:rfc:`9728#section-5.1`).
    :param scope: scopes needed, as a space-separated string or an iterable.
    :param error: ``invalid_request``, ``invalid_token`` or ``insufficient_scope``;
        leave it out when the request had no credential (:rfc:`6750#section-3.1`).
    :param error_description: human-readable text. Characters RFC 6750 does
        not allow there are replaced, so any text (an exception message) is safe.
    :param realm: protection space (:rfc:`9110#section-11.5`).
    :raises ValueError: for an ``error``, ``scope``, ``realm`` or
        ``resource_metadata`` that cannot be sent as given (control characters,
        non-ASCII, quotes in a scope, ...).
    """
    params: list[tuple[str, str]] = []
    if realm is not None:
        params.append(("realm", _quotable("realm", realm)))
    if resource_metadata is not None:
        params.append(
            ("resource_metadata", _quotable("resource_metadata", resource_metadata))
        )
    if scope is not None:
        scope_value = _scope(scope)
        if scope_value:
            params.append(("scope", scope_value))
    if error is not None:
        if not error or not _SCOPE_TOKEN.fullmatch(error):
            raise ValueError(f"invalid OAuth error code {error!r}")
        params.append(("error", error))
    if error_description:
        params.append(("error_description", _description(error_description)))
    if not params:
        return "Bearer"
    return "Bearer " + ", ".join(f'{name}="{_escape(value)}"' for name, value in params)


def _scope(scope: str | t.Iterable[str]) -> str:
    tokens = scope.split() if isinstance(scope, str) else list(scope)
    for token in tokens:
        if not isinstance(token, str) or not _SCOPE_TOKEN.fullmatch(token):
            raise ValueError(f"invalid scope token {token!r} (RFC 6749 section 3.3)")
    return " ".join(dict.fromkeys(tokens))


def _quotable(name: str, value: str) -> str:
    if not _QUOTABLE.fullmatch(value):
        # CR and LF would split the header; non-ASCII has no defined encoding.
        raise ValueError(f"{name} must be printable ASCII: {value!r}")
    return value


def _description(text: str) -> str:
    # NOTE: RFC 6750 forbids '"' and '\' in error_description even as quoted
    # pairs, so they are swapped for look-alikes instead of being escaped.
    text = text.replace('"', "'").replace("\\", "/")
    text = re.sub(r"\s+", " ", text).strip()
    return "".join(c if _NQSCHAR.fullmatch(c) else "?" for c in text)


def _escape(value: str) -> str:
    """Quoted-pair escaping of :rfc:`9110#section-5.6.4`."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
