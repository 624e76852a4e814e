"""The per-request envelope of modern MCP (2026-07-28, SEP-2575 and SEP-2243).

A modern request names its protocol version and the client's capabilities in
``params._meta``, and mirrors its method (and the tool, prompt or resource it
targets) into HTTP headers so intermediaries can route without the body. The
checks here follow the order of the specification and the reference SDKs:
required ``_meta`` fields (-32602), headers against the body (-32020), then a
supported version (-32022). Headers are read through a lookup function that
ignores case, such as werkzeug's ``headers.get``; nothing here imports a
framework.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
import typing as t
from collections import abc
from dataclasses import dataclass

from .jsonrpc import HEADER_MISMATCH
from .jsonrpc import INVALID_PARAMS
from .jsonrpc import UNSUPPORTED_PROTOCOL_VERSION
from .jsonrpc import JsonRpcError
from .versions import MODERN_VERSIONS

META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"

VERSION_HEADER = "MCP-Protocol-Version"
METHOD_HEADER = "Mcp-Method"
NAME_HEADER = "Mcp-Name"
PARAM_HEADER_PREFIX = "Mcp-Param-"

#: Methods whose target is mirrored into ``Mcp-Name``, and where it is (the
#: tasks extension adds its methods: "Streamable HTTP: Routing Headers").
NAMED_METHODS = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    "tasks/get": "taskId",
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}

_SENTINEL = re.compile(r"^=\?base64\?([A-Za-z0-9+/=]*)\?=$")
#: Visible ASCII, space and tab (RFC 9110 field values).
_HEADER_SAFE = re.compile(r"^[\x20-\x7e\t]*$")


#: Looks a request header up by name, ignoring case (``request.headers.get``).
Headers = t.Callable[[str], "str | None"]


@dataclass(frozen=True)
class Envelope:
    """What a modern request says about itself."""

    version: str
    capabilities: dict[str, t.Any]
    client_info: dict[str, t.Any] | None
    #: The ``logging`` threshold the request asked for, or ``None``: no logs.
    log_level: str | None


def claims_modern(payload: t.Any) -> bool:
    """Whether a decoded body is a request or notification in the modern era.

    The era is chosen by the body's ``_meta`` claim, not by the method: an
    ``initialize`` that carries the claim is a modern request for a method
    that no longer exists.
    """
    if not isinstance(payload, dict):
        return False
    params = payload.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and META_VERSION in meta


def header_claims_modern(headers: Headers) -> bool:
    """Whether the version header names a modern revision."""
    return headers(VERSION_HEADER) in MODERN_VERSIONS


def read_envelope(
    method: str, params: dict[str, t.Any], headers: Headers, log_levels: t.Sequence[str]
) -> Envelope:
    """Validate a modern request's ``_meta`` and standard headers.

    :raises JsonRpcError: -32602, -32020 or -32022, in the spec's order.
    """
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: _meta is required")
    version = meta.get(META_VERSION)
    capabilities = meta.get(META_CAPABILITIES)
    if not isinstance(version, str) or not version:
        raise JsonRpcError(
            INVALID_PARAMS, f"Invalid params: _meta[{META_VERSION!r}] must be a string"
        )
    if not isinstance(capabilities, dict):
        raise JsonRpcError(
            INVALID_PARAMS,
            f"Invalid params: _meta[{META_CAPABILITIES!r}] must be an object",
        )
    client_info = meta.get(META_CLIENT_INFO)
    level = meta.get(META_LOG_LEVEL)
    if level is not None and level not in log_levels:
        raise JsonRpcError(
            INVALID_PARAMS, f"Invalid params: unknown log level {level!r}"
        )
    _check_standard_headers(method, params, version, headers)
    if version not in MODERN_VERSIONS:
        raise JsonRpcError(
            UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported protocol version: {version}",
            # The versions server/discover lists: legacy ones are negotiated
            # by initialize, which a dual-era client falls back to anyway.
            {"supported": list(MODERN_VERSIONS), "requested": version},
        )
    return Envelope(
        version,
        capabilities,
        client_info if isinstance(client_info, dict) else None,
        level,
    )


def _check_standard_headers(
    method: str, params: dict[str, t.Any], version: str, headers: Headers
) -> None:
    _expect(headers, VERSION_HEADER, version, plain=True)
    _expect(headers, METHOD_HEADER, method, plain=True)
    field = NAMED_METHODS.get(method)
    if field is not None:
        target = params.get(field)
        if not isinstance(target, str):
            raise JsonRpcError(
                INVALID_PARAMS, f"Invalid params: {field!r} must be a string"
            )
        _expect(headers, NAME_HEADER, target, plain=False)


def _expect(headers: Headers, name: str, body_value: str, *, plain: bool) -> None:
    raw = headers(name)
    if raw is None:
        raise JsonRpcError(
            HEADER_MISMATCH, f"Header mismatch: {name} header is missing"
        )
    value = raw if plain else decode_header_value(raw, name)
    if value != body_value:
        raise JsonRpcError(
            HEADER_MISMATCH,
            f"Header mismatch: {name} header value {_show(value)} does not match"
            f" body value {_show(body_value)}",
        )


def decode_header_value(raw: str, name: str) -> str:
    """A header value with the ``=?base64?...?=`` sentinel decoded.

    :raises JsonRpcError: -32020 for bad characters or bad base64.
    """
    if raw.isascii() and raw.isprintable() and not raw.startswith("=?base64?"):
        return raw  # the common case, without the regular expressions
    if not _HEADER_SAFE.match(raw):
        raise JsonRpcError(
            HEADER_MISMATCH, f"Header mismatch: {name} has invalid characters"
        )
    found = _SENTINEL.match(raw)
    if found is None:
        return raw
    try:
        return base64.b64decode(found.group(1), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise JsonRpcError(
            HEADER_MISMATCH, f"Header mismatch: {name} is not valid base64 UTF-8"
        ) from None


def check_param_headers(
    header_params: abc.Mapping[tuple[str, ...], str],
    arguments: t.Any,
    headers: Headers,
) -> None:
    """``Mcp-Param-*`` headers against the tool arguments they mirror.

    Only the tool's own names are checked: other ``Mcp-Param-*`` headers
    are not this server's to judge, and are ignored (2026-07-28, "Server
    Behavior for Custom Headers").

    :param header_params: property path -> header name (``x-mcp-header``).
    :raises JsonRpcError: -32020 when a value is missing on either side,
        does not match, or carries invalid characters.
    """
    for path, header in header_params.items():
        full = PARAM_HEADER_PREFIX + header
        value = _at(arguments, path)
        raw = headers(full)
        if value is None:
            if raw is not None:
                raise JsonRpcError(
                    HEADER_MISMATCH,
                    f"Header mismatch: {full} is sent but {'.'.join(path)} is not",
                )
            continue
        if raw is None:
            raise JsonRpcError(
                HEADER_MISMATCH, f"Header mismatch: {full} header is missing"
            )
        if not _same(decode_header_value(raw, full), value):
            raise JsonRpcError(
                HEADER_MISMATCH,
                f"Header mismatch: {full} does not match argument {'.'.join(path)}",
            )


def _at(arguments: t.Any, path: tuple[str, ...]) -> t.Any:
    value = arguments
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _same(header: str, value: t.Any) -> bool:
    """Compare a decoded header with the body value, integers numerically."""
    if isinstance(value, bool):
        return header == ("true" if value else "false")
    if isinstance(value, (int, float)):
        # Exactly, in decimal: ``42.0`` is ``42``, but no float rounding
        # makes two different large integers equal.
        try:
            number = decimal.Decimal(header)
        except decimal.InvalidOperation:
            return False
        return number.is_finite() and number == decimal.Decimal(value)
    return isinstance(value, str) and header == value


def _show(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")
