"""Which redirect URIs a client may register and use.

* https anywhere, or http on a loopback host (:rfc:`8252#section-7.3`,
  :rfc:`9700#section-2.1`); no other scheme;
* no userinfo (``http://localhost@evil.com`` goes to evil.com), no fragment
  (:rfc:`6749#section-3.1.2`), no whitespace or backslashes;
* no dot-segments in the path (``/../``, ``/./``, ``%2e%2e``, ``%2E.``) and no
  encoded slash or backslash (``%2f``, ``%5c``): servers and browsers resolve
  them differently, so ``https://app.example.com/cb/../../evil`` could pass
  a prefix check and land elsewhere (:rfc:`9700#section-4.1.1`);
* when an allow-list is configured, a pattern must match: the scheme and the
  host exactly (``https://app.example.com/*`` never matches
  ``https://appXexample.com``), the port exactly or ``*``, the path exactly
  or by prefix when it ends in ``*``.

At the authorization endpoint a redirect URI must equal a registered one,
except that the port of a loopback URI may differ (:rfc:`8252#section-7.3`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_FORBIDDEN = re.compile(r"[\s\\\x00-\x1f\x7f]")
_ENCODED_SLASH = re.compile(r"%(2f|5c)", re.IGNORECASE)
_ENCODED_DOT = re.compile(r"%2e", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _Parts:
    scheme: str
    host: str
    port: int | None
    path: str
    query: str


def is_loopback(host: str) -> bool:
    """``localhost``, or an IP literal in 127.0.0.0/8 or ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split(uri: str) -> _Parts:
    if not isinstance(uri, str) or not uri:
        raise ValueError("a redirect URI must be a non-empty string")
    if _FORBIDDEN.search(uri):
        raise ValueError("a redirect URI must not contain whitespace or backslashes")
    if "#" in uri:
        raise ValueError("a redirect URI must not contain a fragment")
    parts = urlsplit(uri)
    if "@" in parts.netloc:
        raise ValueError("a redirect URI must not contain userinfo")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("a redirect URI must use https (or http on loopback)")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("a redirect URI must name a host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("a redirect URI has an invalid port") from None
    if scheme == "http" and not is_loopback(host):
        raise ValueError("http redirect URIs are allowed on loopback hosts only")
    check_path(parts.path)
    return _Parts(scheme, host, port or _DEFAULT_PORTS[scheme], parts.path, parts.query)


def check_path(path: str, what: str = "a redirect URI") -> None:
    """Refuse dot-segments and encoded slashes in ``path`` (the rules of the
    module docstring), naming the URL as ``what`` in the error."""
    if _ENCODED_SLASH.search(path):
        raise ValueError(f"{what} must not contain an encoded slash or backslash")
    for segment in _ENCODED_DOT.sub(".", path).split("/"):
        if segment.partition(";")[0] in (".", ".."):
            raise ValueError(f"{what} must not contain dot-segments")


class RedirectPattern:
    """One allow-list entry, e.g. ``https://app.example.com/oauth/*`` or
    ``http://127.0.0.1:*/callback``."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        parts = urlsplit(pattern)
        host, _, port = parts.netloc.rpartition(":")
        if not host or "]" in port:  # no port, or the colon of an IPv6 literal
            host, port = parts.netloc, ""
        if any(c in pattern for c in "@#") or "*" in host:
            raise ValueError(f"invalid redirect URI pattern {pattern!r}")
        self.any_port = port == "*"
        sample = (
            f"{parts.scheme}://{host}{'' if self.any_port or not port else ':' + port}"
        )
        base = _split(sample + "/")
        self.scheme, self.host = base.scheme, base.host
        self.port = None if self.any_port else base.port
        self.path = parts.path
        try:
            check_path(self.path.removesuffix("*"))
        except ValueError as error:
            raise ValueError(
                f"invalid redirect URI pattern {pattern!r}: {error}"
            ) from None

    def matches(self, uri: str) -> bool:
        """Whether ``uri`` is allowed; never for a URI refused by itself."""
        try:
            parts = _split(uri)
        except ValueError:
            return False
        if (parts.scheme, parts.host) != (self.scheme, self.host):
            return False
        if not self.any_port and parts.port != self.port:
            return False
        if not self.path:
            return True
        if self.path.endswith("*"):
            return parts.path.startswith(self.path[:-1])
        return parts.path == self.path

    def __repr__(self) -> str:
        return f"RedirectPattern({self.pattern!r})"


def check_redirect_uri(uri: str, patterns: Iterable[RedirectPattern] | None) -> None:
    """Refuse a redirect URI at registration.

    :param patterns: the allow-list, or ``None`` for none.
    :raises ValueError: with the reason, safe to send to the client.
    """
    _split(uri)
    if patterns is not None and not any(p.matches(uri) for p in patterns):
        raise ValueError("the redirect URI is not on this server's allow-list")


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Whether ``requested`` names the ``registered`` redirect URI.

    Exact string comparison (:rfc:`9700#section-4.1.3`), except that a
    loopback http URI may use any port (:rfc:`8252#section-7.3`).
    """
    try:
        b = _split(requested)
    except ValueError:
        return False
    if registered == requested:
        return True
    try:
        a = _split(registered)
    except ValueError:
        return False
    return (
        a.scheme == b.scheme == "http"
        and is_loopback(a.host)
        and (a.host, a.path, a.query) == (b.host, b.path, b.query)
    )
