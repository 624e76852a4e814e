"""The public URLs of one MCP server, as the current request reaches it.

Every URL the server advertises (the resource identifier, the
``resource_metadata`` of challenges, discovery documents) is built here, from
the request's scheme, host and script root, so an app mounted under a prefix
(``SCRIPT_NAME``, or ``X-Forwarded-Prefix`` through ``ProxyFix``) advertises
URLs that the app itself serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

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
