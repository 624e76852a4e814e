"""The settings of the proxy's token grants beyond the authorization code:
:class:`GrantOptions`.

Set them with the arguments of :class:`~flask_mcp.auth.proxy.OAuthProxy`
of the same names, or else with the app config keys ``MCP_OAUTH_<FIELD>``
(``MCP_OAUTH_REFRESH_GRACE = 2``...), as
:class:`~flask_mcp.auth.proxy.OAuthLimits` reads its own.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from .enterprise import EnterpriseIdP

#: App config keys are this prefix and the field name in capitals.
CONFIG_PREFIX = "MCP_OAUTH_"


@dataclass(frozen=True)
class GrantOptions:
    """Which grants the token endpoint serves besides the authorization
    code and refresh grants, and how refreshes race.

    Every field is an app config key ``MCP_OAUTH_<FIELD>`` too.
    """

    #: Seconds during which a second refresh of the same refresh token gets
    #: the same new pair (two requests in flight, a client with two egress
    #: addresses); a reuse after them ends the whole token family. ``0``:
    #: every reuse ends it.
    refresh_grace: float = 5.0
    #: Serve the client credentials grant (machine clients, no user) to
    #: confidential clients registered with the registration token, for the
    #: scopes they registered. Needs ``registration_token``.
    client_credentials: bool = False
    #: Enterprise identity providers whose Identity Assertion JWT
    #: Authorization Grants (ID-JAG, the MCP enterprise-managed authorization
    #: extension) the token endpoint accepts with the JWT bearer grant: issuer
    #: URLs, or :class:`~flask_mcp.auth.proxy.EnterpriseIdP` for more
    #: settings. A comma-separated string is accepted too.
    enterprise_idps: tuple[EnterpriseIdP, ...] = ()

    def __post_init__(self) -> None:
        grace = self.refresh_grace
        if isinstance(grace, bool) or not isinstance(grace, (int, float)):
            raise ValueError("GrantOptions.refresh_grace must be a number of seconds")
        if not 0 <= grace <= 60:
            raise ValueError("GrantOptions.refresh_grace must be from 0 to 60")
        if not isinstance(self.client_credentials, bool):
            raise ValueError("GrantOptions.client_credentials must be True or False")
        object.__setattr__(self, "enterprise_idps", _idps(self.enterprise_idps))

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any], **given: t.Any) -> GrantOptions:
        """The options ``given`` (those not ``None``), else what the
        ``MCP_OAUTH_*`` keys of ``config`` set, else the defaults."""
        values = {}
        for f in dataclasses.fields(cls):
            value = given.get(f.name)
            if value is None:
                value = config.get(CONFIG_PREFIX + f.name.upper())
            if value is not None:
                values[f.name] = value
        return cls(**values)


def _idps(value: t.Any) -> tuple[EnterpriseIdP, ...]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (EnterpriseIdP, Mapping)):
        value = [value]
    idps = []
    for item in value:
        if isinstance(item, str):
            item = EnterpriseIdP(item)
        elif isinstance(item, Mapping):
            item = EnterpriseIdP(**item)
        elif not isinstance(item, EnterpriseIdP):
            raise ValueError(
                "GrantOptions.enterprise_idps takes issuer URLs or EnterpriseIdP"
            )
        idps.append(item)
    issuers = [idp.issuer for idp in idps]
    if len(set(issuers)) != len(issuers):
        raise ValueError(
            f"GrantOptions.enterprise_idps names an issuer twice: {issuers}"
        )
    return tuple(idps)
