"""Request checks of the Streamable HTTP transport that need no MCP state.

Host/Origin validation is the spec's DNS-rebinding defence (Streamable HTTP,
"Security Warning"); body limits keep one client from filling a worker.
"""

from __future__ import annotations

import functools
import logging
import typing as t
from urllib.parse import urlsplit

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Request

from ..config import Settings

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
#: Refused hosts and origins already logged by this process (bounded: a
#: client can send any number of names).
_logged: set[str] = set()
_LOG_LIMIT = 64


def refused_host(
    request: Request, settings: Settings, *, check_origin: bool = True
) -> str | None:
    """Why ``request``'s ``Host`` (or ``Origin``) is refused, or ``None``.

    The first refusal of each name is logged with the setting that allows
    it: a deployment behind a real host name otherwise sees only 403s.
    Public documents that any site may read pass ``check_origin=False``.
    """
    environ = request.environ
    host = environ.get("HTTP_HOST") or request.host
    origin = environ.get("HTTP_ORIGIN") if check_origin else None
    return _decide(host, origin, settings.allowed_hosts, settings.allowed_origins)


@functools.lru_cache(maxsize=256)
def _decide(
    host: str,
    origin: str | None,
    allowed_hosts: tuple[str, ...] | None,
    allowed_origins: tuple[str, ...] | None,
) -> str | None:
    """The decision for one Host and Origin pair; clients repeat theirs on
    every request, and parsing both costs more than a small tool call."""
    if not host_allowed(host, allowed_hosts):
        _log_once(
            f"host {host}",
            "MCP request refused: Host %r is not allowed. If this server is meant"
            " to answer to it, add it to MCP_ALLOWED_HOSTS (now %r).",
            host,
            allowed_hosts,
        )
        return "Forbidden: Host not allowed"
    if not origin_allowed(origin, allowed_origins, allowed_hosts):
        _log_once(
            f"origin {origin}",
            "MCP request refused: Origin %r is not allowed. If browsers on that"
            " site may call this server, add it to MCP_ALLOWED_ORIGINS (now %r).",
            origin,
            allowed_origins,
        )
        return "Forbidden: Origin not allowed"
    return None


def header(environ: t.Mapping[str, t.Any], name: str) -> str | None:
    """A request header read straight from the WSGI environ: what werkzeug's
    ``headers.get`` returns, at a fraction of its cost on the hot path."""
    value = environ.get(_environ_key(name))
    return value if isinstance(value, str) else None


@functools.lru_cache(maxsize=64)
def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


def _log_once(key: str, message: str, *args: t.Any) -> None:
    if key in _logged or len(_logged) >= _LOG_LIMIT:
        return
    _logged.add(key)
    log.warning(message, *args)


def split_host(host: str) -> tuple[str, str | None]:
    """``example.com:8000`` -> (``example.com``, ``8000``); IPv6 kept bracketed."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else None
    name, _, port = host.partition(":")
    return name, port or None


def host_allowed(host: str | None, allowed: t.Sequence[str] | None) -> bool:
    """Whether a ``Host`` value is one this server answers to."""
    if not host:
        return False
    name, port = split_host(host)
    if allowed is None:
        return name in LOCAL_HOSTS
    for entry in allowed:
        if entry == "*":
            return True
        entry_name, entry_port = split_host(entry)
        if entry_name == name and (entry_port is None or entry_port == port):
            return True
    return False


def origin_allowed(
    origin: str | None,
    allowed_origins: t.Sequence[str] | None,
    allowed_hosts: t.Sequence[str] | None,
) -> bool:
    """No ``Origin`` (not a browser) passes; otherwise it must be allowed."""
    if origin is None:
        return True
    if allowed_origins is not None:
        return "*" in allowed_origins or origin.rstrip("/") in {
            o.rstrip("/") for o in allowed_origins
        }
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    return host_allowed(parts.netloc, allowed_hosts)


@functools.lru_cache(maxsize=256)
def accepts(header: str, *types: str) -> bool:
    """Whether an ``Accept`` header allows every one of ``types`` (wildcards count).

    Cached by the raw header: a client sends the same one on every request,
    and parsing it is a visible share of a small tool call.
    """
    accept = parse_accept_header(header, MIMEAccept)
    return all(accept.find(mime) != -1 for mime in types)


def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` when it is larger than ``limit``.

    A declared length over the limit is refused before reading anything and
    a declared length is read straight from the WSGI input; a chunked body
    (werkzeug's stream) is read only up to one byte past the limit.
    """
    declared = request.environ.get("CONTENT_LENGTH")
    length = (
        int(declared)
        if declared and declared.isascii() and declared.isdigit()
        else None
    )
    if length is not None:
        if length > limit:
            return None
        data: bytes = request.environ["wsgi.input"].read(length)
        return data
    data = request.stream.read(limit + 1)
    return None if len(data) > limit else data


@functools.lru_cache(maxsize=64)
def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` is ``application/json`` (parameters aside)."""
    return content_type.partition(";")[0].strip().lower() == "application/json"
