"""Keycloak as the upstream identity provider (OpenID Connect).

The issuer of a realm is ``{server_url}/realms/{realm}`` (Keycloak 17 and
later; the legacy WildFly distribution has ``/auth`` before ``/realms``),
its endpoints under ``.../protocol/openid-connect/``. Keycloak's default
mappers put realm roles (``realm_access.roles``) and client roles
(``resource_access.{client}.roles``) into the *access token* only, not into
ID tokens or userinfo: the roles are read from the access token, a JWT the
realm signs (its signature checked against the realm's keys). Keycloak
supports :rfc:`8693` token exchange (standard token exchange, version 2,
Keycloak 26.2 and later), which requires the subject token to name the
requesting client: downstream tokens work with the tokens the proxy gets.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from urllib.parse import quote

from .oidc import OIDCProvider


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class KeycloakProvider(OIDCProvider):
    """Sign in with a Keycloak realm.

    Takes the settings of :class:`~.oidc.OIDCProvider` but ``issuer``, which
    follows from these; register ``{base_url}/oauth/callback`` as a *Valid
    redirect URI* of a confidential OpenID Connect client. And:

    :param server_url: ``https://HOST`` (``https://HOST/auth`` for the legacy
        distribution).
    :param realm: the realm's name.
    :param client_roles: also the roles of this client
        (``resource_access.{client_id}.roles``) besides the realm roles.
    """

    server_url: str
    realm: str
    client_roles: bool = True
    issuer: str = dataclasses.field(default="", init=False)
    roles_claim: str | Sequence[str] | None = "realm_access.roles"
    roles_from_access_token: bool = True
    name: str = "keycloak"

    def __post_init__(self) -> None:
        if not self.realm or "/" in self.realm:
            raise ValueError("realm must be a realm name")
        self.server_url = self.server_url.rstrip("/")
        self.issuer = f"{self.server_url}/realms/{quote(self.realm, safe='')}"
        super().__post_init__()

    def roles(self, identity: Mapping[str, t.Any]) -> frozenset[str]:
        """Realm roles, and this client's roles when ``client_roles``."""
        roles = super().roles(identity)
        if not self.client_roles:
            return roles
        # Looked up by key, not by a dotted path: client ids may hold dots.
        access = identity.get("resource_access")
        client = access.get(self.client_id) if isinstance(access, Mapping) else None
        granted = client.get("roles") if isinstance(client, Mapping) else None
        if isinstance(granted, list):
            roles |= {role for role in granted if isinstance(role, str) and role}
        return roles

    def role_claim_roots(self) -> set[str]:
        roots = super().role_claim_roots()
        return roots | {"resource_access"} if self.client_roles else roots
