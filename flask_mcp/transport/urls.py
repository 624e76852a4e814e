"""The public URLs of one MCP server, as the current request reaches it.

Every URL the server advertises (the resource identifier, the
``resource_metadata`` of challenges, discovery documents) is built here, from
the request's scheme, host and script root, so an app mounted under a prefix
(``SCRIPT_NAME``, or ``X-Forwarded-Prefix`` through ``ProxyFix``) advertises
URLs that the app itself serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

from .checks import LOCAL_HOSTS

PROTECTED_RESOURCE = "/.well-known/oauth-protected-resource"


@dataclass(frozen=True)
class ServerUrls:
    """URLs of the endpoint at ``path`` (relative to the app's root)."""

    path: str

    def base(self, request: Request) -> str:
        """Scheme, host and script root: where the app is mounted."""
        return request.host_url.rstrip("/") + request.script_root

    def resource(self, request: Request) -> str:
        """The MCP endpoint's URL: the resource identifier of :rfc:`9728`."""
        return self.base(request) + self.path

    def resource_metadata(self, request: Request) -> str:
        """Where this app serves the endpoint's :rfc:`9728` document.

        At the host root this is the RFC's path-inserted URL
        (``/.well-known/oauth-protected-resource/mcp``). Under a prefix the
        insertion would leave the app, so the document is advertised inside
        it (``/prefix/.well-known/oauth-protected-resource/mcp``); clients
        follow ``resource_metadata`` as given.
        """
        return self.base(request) + PROTECTED_RESOURCE + self.path.rstrip("/")


def allowing_public_host(
    allowed: tuple[str, ...] | None, public_url: str
) -> tuple[str, ...] | None:
    """``MCP_ALLOWED_HOSTS`` (``allowed``) with the host of the app's public
    URL added: an OAuth proxy's ``base_url`` names the host clients reach,
    so a deployment need not name it twice.

    ``None`` (the default, loopback only) becomes loopback and that host;
    ``["*"]`` stays as it is. The host is allowed on any port.
    """
    host = urlsplit(public_url).hostname
    if not host or allowed is not None and "*" in allowed:
        return allowed
    name = f"[{host}]" if ":" in host else host
    hosts = tuple(sorted(LOCAL_HOSTS)) if allowed is None else allowed
    return hosts if name in hosts else (*hosts, name)
