"""Microsoft Entra ID (the Microsoft identity platform v2.0) as the upstream
identity provider (OpenID Connect).

The issuer is ``https://login.microsoftonline.com/{tenant}/v2.0``. For the
multi-tenant authorities (``common``, ``organizations``) the discovery
document's issuer is a template, ``.../{tenantid}/v2.0``: an ID token's
``iss`` is then checked against that template filled with the token's own
``tid``. Microsoft has no :rfc:`7009` revocation endpoint.

NOTE: Entra ID does not verify the ``email`` claim (anyone can set it on an
account in their own tenant): authorize users by ``oid`` and ``tenant_id``
(or ``sub``), never by :attr:`~MicrosoftSession.email`.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence

from .oidc import OIDCProvider
from .provider import OAuthSession
from .provider import UpstreamError
from .upstream_responses import str_or_none

#: The global Azure cloud's authority host.
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
#: A tenant id, as ``tid`` carries it.
_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclasses.dataclass(frozen=True)
class MicrosoftSession(OAuthSession):
    """The session of a user who signed in with a Microsoft account."""

    #: ``upn`` when the token has it, else ``preferred_username`` (a sign-in
    #: name for display, not a stable key).
    upn: str | None = None
    #: The tenant that signed the user in (``tid``).
    tenant_id: str | None = None
    #: The user's object id in that tenant, stable across apps (``oid``).
    oid: str | None = None


@dataclasses.dataclass(kw_only=True, eq=False, repr=False)
class MicrosoftProvider(OIDCProvider):
    """Sign in with Microsoft Entra ID or a personal Microsoft account.

    Takes the settings of :class:`~.oidc.OIDCProvider` but ``issuer``, which
    follows from ``authority`` and ``tenant``; register
    ``{base_url}/oauth/callback`` as a Web redirect URI of the app. And:

    :param tenant: ``common``, ``organizations``, ``consumers``, a tenant id or
        a verified domain.
    :param scopes: scopes to request; ``offline_access`` gets a refresh token.
    :param allowed_tenants: with a multi-tenant authority, let in only users of
        these tenant ids.
    :param authority: the cloud's login host; another URL only for national
        clouds and tests.

    App roles assigned to the user (the ID token's ``roles``) are the
    session's :attr:`~flask_mcp.auth.providers.OAuthSession.roles`. Entra has
    no :rfc:`8693` token exchange; its on-behalf-of flow gives downstream
    tokens instead.
    Also importable as ``AzureProvider``, FastMCP's name for it.
    """

    tenant: str = "common"
    scopes: Sequence[str] = (
        "openid",
        "email",
        "profile",
        "offline_access",
        "User.Read",
    )
    allowed_tenants: Collection[str] | None = None
    authority: str = MICROSOFT_AUTHORITY
    issuer: str = dataclasses.field(default="", init=False)
    name: str = "microsoft"
    display_name: str | None = "Microsoft"

    session_class: t.ClassVar[type[OAuthSession]] = MicrosoftSession
    # The v2.0 token endpoint wants the scopes again when refreshing.
    refresh_with_scope = True

    def __post_init__(self) -> None:
        if not self.tenant or "/" in self.tenant:
            raise ValueError("tenant must be a tenant id, a domain or an alias")
        self.authority = self.authority.rstrip("/")
        if self.allowed_tenants is not None:
            self.allowed_tenants = frozenset(self.allowed_tenants)
        self.issuer = f"{self.authority}/{self.tenant}/v2.0"
        super().__post_init__()

    def check_metadata(self, document: Mapping[str, t.Any]) -> None:
        # A tenant named by domain, or an alias, answers with the tenant id
        # (or the {tenantid} template) in its issuer: accept any v2.0 issuer
        # of this authority.
        issuer = document.get("issuer")
        if not (
            isinstance(issuer, str)
            and issuer.startswith(self.authority + "/")
            and issuer.endswith("/v2.0")
        ):
            raise UpstreamError(
                "server_error", f"{self.name} metadata names another issuer"
            )

    def accepted_issuers(self, claims: Mapping[str, t.Any]) -> tuple[str, ...]:
        template = t.cast(str, self.metadata()["issuer"])
        if "{tenantid}" not in template:
            return (template,)
        tid = claims.get("tid")
        if not isinstance(tid, str) or not _TENANT_ID.fullmatch(tid):
            return ()
        return (template.replace("{tenantid}", tid),)

    def check_identity(self, identity: dict[str, t.Any]) -> dict[str, t.Any]:
        if (
            self.allowed_tenants is not None
            and identity.get("tid") not in self.allowed_tenants
        ):
            raise UpstreamError(
                "access_denied", "the Microsoft account's tenant is not allowed"
            )
        return identity

    def session_fields(self, identity: Mapping[str, t.Any]) -> dict[str, t.Any]:
        return {
            "upn": str_or_none(identity.get("upn"))
            or str_or_none(identity.get("preferred_username")),
            "tenant_id": str_or_none(identity.get("tid")),
            "oid": str_or_none(identity.get("oid")),
        }


#: The name FastMCP gives this provider (Azure AD, now Entra ID): the same class.
AzureProvider = MicrosoftProvider
