"""The checks client metadata passes, however it reaches the proxy: in a
registration request (:rfc:`7591`) or in a Client ID Metadata Document.

* redirect URIs follow :mod:`.redirects` (and the allow-list, if any); a bad
  one is ``invalid_redirect_uri``;
* every other field is checked by authlib's :rfc:`7591#section-2` claims
  against this server's metadata (scopes, grant and response types, auth
  methods), with a bounded ``client_name``; a bad one is
  ``invalid_client_metadata``;
* JSON nested deeper than :data:`MAX_DEPTH` is refused before anything
  else looks at it (:func:`parse_json_object`);
* sizes are bounded (:class:`~.limits.OAuthLimits`): the number and length
  of redirect URIs, the length of every string, the size of what is kept.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from authlib.oauth2.rfc7591 import ClientMetadataClaims
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from authlib.oauth2.rfc7591 import InvalidRedirectURIError
from joserfc.errors import JoseError

from .limits import OAuthLimits
from .redirects import RedirectPattern
from .redirects import check_redirect_uri

#: Longest ``client_name`` kept; it is shown on the consent page.
MAX_NAME = 100
#: Deepest nesting of a registration body (client metadata needs about 5).
MAX_DEPTH = 16


def parse_json_object(body: bytes) -> dict[str, t.Any] | None:
    """The JSON object of a request body, ``None`` if it is not one.

    :raises InvalidClientMetadataError: for JSON nested deeper than
        :data:`MAX_DEPTH` (however deep: the parser's own recursion limit
        is caught too).
    """
    try:
        document = json.loads(body)
    except RecursionError:
        document = _TOO_DEEP
    except ValueError:
        return None
    if document is _TOO_DEEP or _depth(document) > MAX_DEPTH:
        raise InvalidClientMetadataError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return document if isinstance(document, dict) else None


_TOO_DEEP = object()


def _depth(document: t.Any) -> int:
    """How deeply ``document`` nests, without recursion."""
    deepest, level = 0, [(document, 1)]
    while level:
        value, depth = level.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                items = value.values() if isinstance(value, dict) else value
                level.extend((item, depth + 1) for item in items)
    return deepest


#: Client authentication methods of confidential clients.
CONFIDENTIAL = frozenset(
    {"client_secret_basic", "client_secret_post", "private_key_jwt"}
)


class _ClientMetadataClaims(ClientMetadataClaims):
    #: Grant types a confidential client may register without the
    #: authorization code (machine clients, enterprise assertions).
    grants_without_code: frozenset[str] = frozenset()

    def validate_redirect_uris(self) -> None:
        """Checked before, by the redirect policy."""

    def validate_client_name(self) -> None:
        name = self.get("client_name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise InvalidClientMetadataError(
                f"'client_name' must be a string of at most {MAX_NAME} characters"
            )

    def validate_grant_types(self) -> None:
        grant_types = self.get("grant_types")
        if grant_types is None or "authorization_code" in grant_types:
            return
        others = sorted(self.grants_without_code)
        if not others:
            raise InvalidClientMetadataError(
                "'grant_types' must include 'authorization_code'"
            )
        method = self.get("token_endpoint_auth_method", "client_secret_basic")
        if not grant_types or not set(grant_types) <= self.grants_without_code:
            raise InvalidClientMetadataError(
                "'grant_types' must include 'authorization_code', or name only"
                f" {' or '.join(others)}"
            )
        if method not in CONFIDENTIAL:
            raise InvalidClientMetadataError(
                f"'grant_types' {grant_types} need a confidential client"
                " (a client secret or private_key_jwt)"
            )


#: Fields authlib reads as lists of strings, or as strings, without
#: checking their type (RFC 7591 section 2).
_STRING_LISTS = ("grant_types", "response_types", "contacts")
_STRINGS = (
    "scope",
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "jwks_uri",
    "software_id",
    "software_version",
    "token_endpoint_auth_method",
)


def _check_types(data: Mapping[str, t.Any]) -> None:
    for name in _STRING_LISTS:
        value = data.get(name)
        if value is not None and (
            not isinstance(value, list)
            or not all(isinstance(item, str) for item in value)
        ):
            raise InvalidClientMetadataError(f"'{name}' must be a list of strings")
    for name in _STRINGS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidClientMetadataError(f"'{name}' must be a string")


def check_client_metadata(
    data: Mapping[str, t.Any],
    *,
    server_metadata: Mapping[str, t.Any],
    patterns: Sequence[RedirectPattern] | None,
    limits: OAuthLimits,
    grants_without_code: frozenset[str] = frozenset(),
) -> dict[str, t.Any]:
    """The :rfc:`7591#section-2` metadata of ``data``, checked; defaults
    filled in for ``grant_types`` and ``response_types``.

    :param grants_without_code: grant types a confidential client may
        register without ``authorization_code``; it then needs no redirect
        URI.

    :raises InvalidRedirectURIError: for a bad redirect URI.
    :raises InvalidClientMetadataError: for any other bad field.
    """
    _check_types(data)
    grant_types = data.get("grant_types")
    machine = (
        isinstance(grant_types, list)
        and bool(grant_types)
        and "authorization_code" not in grant_types
        and set(grant_types) <= grants_without_code
    )
    if not machine or data.get("redirect_uris") is not None:
        _check_redirect_uris(data.get("redirect_uris"), patterns, limits)
    claims = _ClientMetadataClaims(
        dict(data),
        {},
        _ClientMetadataClaims.get_claims_options(server_metadata),
        server_metadata,
    )
    claims.grants_without_code = grants_without_code
    try:
        claims.validate()
    except JoseError as error:
        raise InvalidClientMetadataError(error.description) from error
    metadata = dict(claims.get_registered_claims())
    metadata.setdefault("grant_types", ["authorization_code"])
    metadata.setdefault("response_types", ["code"])
    for name, value in _strings(metadata):
        if len(value) > limits.max_field_length:
            raise InvalidClientMetadataError(
                f"'{name}' holds a string longer than {limits.max_field_length}"
                " characters"
            )
    size = len(json.dumps(metadata, separators=(",", ":")).encode())
    if size > limits.max_metadata:
        raise InvalidClientMetadataError(
            f"the client metadata is larger than {limits.max_metadata} bytes"
        )
    return metadata


def _check_redirect_uris(
    uris: t.Any, patterns: Sequence[RedirectPattern] | None, limits: OAuthLimits
) -> None:
    if not isinstance(uris, list) or not uris:
        raise InvalidRedirectURIError("'redirect_uris' must be a non-empty array")
    if len(uris) > limits.max_redirect_uris:
        raise InvalidRedirectURIError(
            f"at most {limits.max_redirect_uris} redirect URIs may be registered"
        )
    for uri in uris:
        if isinstance(uri, str) and len(uri) > limits.max_field_length:
            raise InvalidRedirectURIError(
                f"a redirect URI is longer than {limits.max_field_length} characters"
            )
        try:
            check_redirect_uri(uri, patterns)
        except ValueError as error:
            raise InvalidRedirectURIError(str(error)) from None


def _strings(value: t.Any, path: str = "") -> t.Iterator[tuple[str, str]]:
    """Every string in ``value`` (keys too), with the field it is in."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path or str(key), str(key)
            yield from _strings(item, path or str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)
