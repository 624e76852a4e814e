"""What makes a URL a client id, and its metadata document acceptable
(draft-ietf-oauth-client-id-metadata-document-00, sections 3 and 4).

The URL: ``https``, a host, a path other than ``/``, no userinfo, no
fragment, no dot-segments (a query and a port are allowed).

The document: a JSON object whose ``client_id`` is the URL, character for
character; a ``client_name``; ``redirect_uris``; no shared secret (its
``token_endpoint_auth_method`` is ``none``, the default here, or
``private_key_jwt`` with ``jwks`` or ``jwks_uri``; never ``client_secret``).
Every field is then checked as a registration's would be
(:func:`~..client_metadata.check_client_metadata`: redirect URIs,
URL fields, scopes, grant types, sizes).
"""

from __future__ import annotations

import re
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import urlsplit

from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from authlib.oauth2.rfc7591 import InvalidRedirectURIError

from ....errors import FlaskMCPError
from ..client_metadata import check_client_metadata
from ..limits import OAuthLimits
from ..redirects import RedirectPattern
from ..redirects import check_path

#: Token endpoint authentication methods a document may name.
AUTH_METHODS = ("none", "private_key_jwt")
_FORBIDDEN = re.compile(r"[\s\\\x00-\x1f\x7f]")


class DocumentError(FlaskMCPError, ValueError):
    """A client id URL or a document that is refused; the message says why
    and is safe to show."""


def looks_like_url(client_id: t.Any) -> bool:
    """Whether ``client_id`` is meant as a metadata URL (registered client
    ids never are)."""
    return isinstance(client_id, str) and client_id[:8].lower().startswith(
        ("https://", "http://")
    )


def check_client_id(url: str, max_length: int) -> str:
    """The host (and port, if any) of a client id URL: what the user is
    shown as the verified identity of the client.

    :raises DocumentError: for a URL that cannot be a client id.
    """
    if len(url) > max_length:
        raise DocumentError(f"the client_id URL is longer than {max_length} characters")
    if _FORBIDDEN.search(url):
        raise DocumentError("the client_id URL must not contain whitespace")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise DocumentError("a client_id URL must use https")
    if "@" in parts.netloc:
        raise DocumentError("a client_id URL must not contain userinfo")
    if "#" in url:
        raise DocumentError("a client_id URL must not contain a fragment")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise DocumentError("the client_id URL has an invalid port") from None
    if not host:
        raise DocumentError("a client_id URL must name a host")
    if parts.path in ("", "/"):
        raise DocumentError("a client_id URL must have a path (the document's)")
    try:
        check_path(parts.path, "a client_id URL")
    except ValueError as error:
        raise DocumentError(str(error)) from None
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def check_document(
    url: str,
    document: Mapping[str, t.Any],
    *,
    server_metadata: Mapping[str, t.Any],
    patterns: Sequence[RedirectPattern] | None,
    limits: OAuthLimits,
    grants_without_code: frozenset[str] = frozenset(),
) -> dict[str, t.Any]:
    """The client metadata of the document fetched from ``url``, checked.

    :param grants_without_code: grant types a ``private_key_jwt`` client may
        name instead of the authorization code (the JWT bearer grant).

    :raises DocumentError: for a document that is refused.
    """
    if document.get("client_id") != url:
        raise DocumentError("the document names another client_id than its URL")
    name = document.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise DocumentError("the document has no client_name")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise DocumentError("a client metadata document must not hold a client_secret")
    data = dict(document)
    method = data.setdefault("token_endpoint_auth_method", "none")
    if method not in AUTH_METHODS:
        raise DocumentError(
            f"token_endpoint_auth_method {method!r} is not allowed: a client"
            " identified by its metadata document has no shared secret; use"
            " 'none' or 'private_key_jwt'"
        )
    if method == "private_key_jwt" and not (data.get("jwks") or data.get("jwks_uri")):
        raise DocumentError("private_key_jwt needs the client's jwks or jwks_uri")
    try:
        return check_client_metadata(
            data,
            server_metadata=dict(
                server_metadata, token_endpoint_auth_methods_supported=AUTH_METHODS
            ),
            patterns=patterns,
            limits=limits,
            grants_without_code=grants_without_code,
        )
    except (InvalidRedirectURIError, InvalidClientMetadataError) as error:
        raise DocumentError(f"{error.error}: {error.description}") from None
