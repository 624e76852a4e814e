"""Request checks of the Streamable HTTP transport that need no MCP state.

Host/Origin validation is the spec's DNS-rebinding defence (Streamable HTTP,
"Security Warning"); body limits keep one client from filling a worker.
"""

from __future__ import annotations

import functools
import typing as t
from urllib.parse import urlsplit

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


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


def read_body(stream: t.IO[bytes], length: int | None, limit: int) -> bytes | None:
    """The body, or ``None`` when it is larger than ``limit``.

    A declared length over the limit is refused before reading anything; a
    chunked body is read only up to one byte past the limit.
    """
    if length is not None and length > limit:
        return None
    data = stream.read(limit + 1)
    return None if len(data) > limit else data
