"""Metadata documents: protected resource (:rfc:`9728`) and authorization
server (:rfc:`8414`), their well-known URLs, and the ``oauth=`` setting.

authlib 1.9 has no RFC 9728 model, so :class:`ProtectedResourceMetadata` is
written in the shape of authlib's RFC 8414 one: a ``dict`` with ``validate_*``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import typing as t
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata as _RFC8414Metadata


def _insert_well_known(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    if parts.fragment:
        raise ValueError(f"URL must not have a fragment: {url!r}")
    # A terminating slash right after the host goes; any other path stays.
    path = "" if parts.path == "/" else parts.path
    return urlunsplit(
        (parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", parts.query, "")
    )


def protected_resource_metadata_url(resource_url: str) -> str:
    """Where the metadata of ``resource_url`` lives (:rfc:`9728#section-3.1`).

    ``https://h/mcp`` gives ``https://h/.well-known/oauth-protected-resource/mcp``;
    ``https://h`` and ``https://h/`` give ``https://h/.well-known/oauth-protected-resource``.
    """
    return _insert_well_known(resource_url, "oauth-protected-resource")


def authorization_server_metadata_url(issuer: str) -> str:
    """RFC 8414 metadata URL of ``issuer``, with the well-known part inserted
    before the issuer's path (:rfc:`8414#section-3.1`)."""
    return _insert_well_known(issuer, "oauth-authorization-server")


def openid_configuration_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 (section 4) URL: appended to the issuer."""
    parts = urlsplit(issuer)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {issuer!r}")
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _check_url(data: t.Mapping[str, t.Any], key: str, *, https: bool = True) -> None:
    value = data.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f'"{key}" MUST be a URL')
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or parts.fragment:
        raise ValueError(f'"{key}" MUST be an absolute URL without a fragment')
    # NOTE: http is allowed for loopback hosts (development), as authlib does.
    if https and not is_secure_transport(value):
        raise ValueError(f'"{key}" MUST use the "https" scheme')


def _check_strings(data: t.Mapping[str, t.Any], key: str) -> None:
    value = data.get(key)
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)
    ):
        raise ValueError(f'"{key}" MUST be a JSON array of strings')


def _check_bool(data: t.Mapping[str, t.Any], key: str) -> None:
    if key in data and not isinstance(data[key], bool):
        raise ValueError(f'"{key}" MUST be a boolean')


class ProtectedResourceMetadata(dict):  # type: ignore[type-arg]
    """Protected resource metadata, :rfc:`9728#section-2`.

    Call :meth:`validate` to check every registered field.
    """

    REGISTRY_KEYS = [
        "resource",
        "authorization_servers",
        "jwks_uri",
        "scopes_supported",
        "bearer_methods_supported",
        "resource_signing_alg_values_supported",
        "resource_name",
        "resource_documentation",
        "resource_policy_uri",
        "resource_tos_uri",
        "tls_client_certificate_bound_access_tokens",
        "authorization_details_types_supported",
        "dpop_signing_alg_values_supported",
        "dpop_bound_access_tokens_required",
    ]

    def validate_resource(self) -> None:
        """REQUIRED: the resource identifier, an https URL without fragment."""
        if not self.get("resource"):
            raise ValueError('"resource" is required')
        _check_url(self, "resource")

    def validate_authorization_servers(self) -> None:
        """OPTIONAL: issuer identifiers of the authorization servers.

        (The MCP authorization spec makes it required and non-empty.)
        """
        _check_strings(self, "authorization_servers")
        for issuer in self.get("authorization_servers") or ():
            _check_url({"authorization_servers": issuer}, "authorization_servers")

    def validate_jwks_uri(self) -> None:
        _check_url(self, "jwks_uri")

    def validate_scopes_supported(self) -> None:
        _check_strings(self, "scopes_supported")

    def validate_bearer_methods_supported(self) -> None:
        """Subset of ``header``, ``body``, ``query`` (:rfc:`6750#section-2`)."""
        _check_strings(self, "bearer_methods_supported")
        methods = set(self.get("bearer_methods_supported") or ())
        unknown = methods - {"header", "body", "query"}
        if unknown:
            raise ValueError(f'unknown "bearer_methods_supported": {sorted(unknown)}')

    def validate_resource_signing_alg_values_supported(self) -> None:
        _check_strings(self, "resource_signing_alg_values_supported")
        if "none" in (self.get("resource_signing_alg_values_supported") or ()):
            raise ValueError(
                '"none" MUST NOT be in "resource_signing_alg_values_supported"'
            )

    def validate_resource_name(self) -> None:
        if "resource_name" in self and not isinstance(self["resource_name"], str):
            raise ValueError('"resource_name" MUST be a string')

    def validate_resource_documentation(self) -> None:
        _check_url(self, "resource_documentation", https=False)

    def validate_resource_policy_uri(self) -> None:
        _check_url(self, "resource_policy_uri", https=False)

    def validate_resource_tos_uri(self) -> None:
        _check_url(self, "resource_tos_uri", https=False)

    def validate_tls_client_certificate_bound_access_tokens(self) -> None:
        _check_bool(self, "tls_client_certificate_bound_access_tokens")

    def validate_authorization_details_types_supported(self) -> None:
        _check_strings(self, "authorization_details_types_supported")

    def validate_dpop_signing_alg_values_supported(self) -> None:
        _check_strings(self, "dpop_signing_alg_values_supported")

    def validate_dpop_bound_access_tokens_required(self) -> None:
        _check_bool(self, "dpop_bound_access_tokens_required")

    def validate(self) -> None:
        """Run every ``validate_*``; raises :class:`ValueError` on the first problem."""
        for key in self.REGISTRY_KEYS:
            getattr(self, f"validate_{key}")()


class AuthorizationServerMetadata(_RFC8414Metadata):
    """authlib's :rfc:`8414#section-2` metadata, plus the MCP requirement that
    PKCE ``S256`` is offered (MCP authorization, "Authorization Code Protection").
    """

    def validate_code_challenge_methods_supported(self) -> None:
        super().validate_code_challenge_methods_supported()
        if "S256" not in (self.get("code_challenge_methods_supported") or ()):
            raise ValueError(
                '"code_challenge_methods_supported" MUST contain "S256" for MCP'
            )


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``jwksUri`` -> ``jwks_uri``; ``jwksURI`` -> ``jwks_uri``; snake_case stays."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _snake_keys(value: t.Any) -> t.Any:
    if isinstance(value, t.Mapping):
        return {snake_case(str(k)): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


@dataclasses.dataclass
class OAuthSettings:
    """The ``oauth=`` setting: which metadata documents the server publishes.

    Build it with :meth:`from_config`. Both documents hold RFC field names
    (snake_case) whatever case the setting used.
    """

    #: Whether the well-known metadata endpoints are served. As in FastMCP, a
    #: setting without ``enabled`` is off.
    enabled: bool = False
    #: RFC 8414 fields (``issuer``, ``authorization_endpoint``, ...), or ``None``.
    authorization_server: dict[str, t.Any] | None = None
    #: RFC 9728 fields (``resource``, ``authorization_servers``, ...), or ``None``.
    protected_resource: dict[str, t.Any] | None = None

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any] | OAuthSettings | None
    ) -> OAuthSettings:
        """Parse the setting, given with snake_case or camelCase keys.

        :raises ValueError: for an unknown top-level key or a section that is
            not a mapping.
        """
        if isinstance(config, OAuthSettings):
            return config
        if not config:
            return cls()
        data = _snake_keys(config)
        unknown = set(data) - {"enabled", "authorization_server", "protected_resource"}
        if unknown:
            raise ValueError(f"unknown oauth setting(s): {', '.join(sorted(unknown))}")
        sections: dict[str, dict[str, t.Any] | None] = {}
        for name in ("authorization_server", "protected_resource"):
            section = data.get(name)
            if section is not None and not isinstance(section, dict):
                raise ValueError(f"oauth setting {name!r} must be a mapping")
            sections[name] = section
        return cls(enabled=bool(data.get("enabled", False)), **sections)

    def authorization_server_document(self) -> AuthorizationServerMetadata | None:
        """The RFC 8414 document, or ``None`` when not configured."""
        if self.authorization_server is None:
            return None
        return AuthorizationServerMetadata(copy.deepcopy(self.authorization_server))

    def protected_resource_document(
        self, resource_url: str
    ) -> ProtectedResourceMetadata:
        """The RFC 9728 document for the MCP endpoint at ``resource_url``.

        ``resource`` defaults to ``resource_url``, ``authorization_servers`` to
        the configured authorization server's issuer, and
        ``bearer_methods_supported`` to ``["header"]``.
        """
        document = ProtectedResourceMetadata(
            copy.deepcopy(self.protected_resource or {})
        )
        if not document.get("resource"):
            document["resource"] = resource_url
        issuer = (self.authorization_server or {}).get("issuer")
        if issuer and not document.get("authorization_servers"):
            document["authorization_servers"] = [issuer]
        document.setdefault("bearer_methods_supported", ["header"])
        return document
