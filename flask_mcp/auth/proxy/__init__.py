"""The OAuth proxy: an authorization server for MCP clients that delegates
the login to an upstream provider.

Built on authlib's server components: the authorization code grant with PKCE
(:rfc:`6749`, :rfc:`7636`), refresh token rotation, dynamic client
registration (:rfc:`7591`), Client ID Metadata Documents (:mod:`.cimd`),
``private_key_jwt`` for those clients (:rfc:`7523`), revocation
(:rfc:`7009`), JWT access tokens (:rfc:`9068`), server metadata
(:rfc:`8414`), resource indicators (:rfc:`8707`) and the ``iss`` response
parameter (:rfc:`9207`); for machines, the client credentials grant, and
for companies, ID-JAGs of their identity provider with the JWT bearer grant
(enterprise-managed authorization, :mod:`.enterprise`). Every record lives
in the shared store, so any worker of any host serves any step.
"""

from __future__ import annotations

from .cimd import CIMDOptions
from .enterprise import EnterpriseIdP
from .grant_options import GrantOptions
from .grant_sessions import EnterpriseSession
from .grant_sessions import MachineSession
from .keys import SigningKeys
from .limits import OAuthLimits
from .oauth_proxy import OAuthProxy
from .proxy_state import ProxyState
from .redirects import RedirectPattern
from .sealing import Sealer

__all__ = [
    "CIMDOptions",
    "EnterpriseIdP",
    "EnterpriseSession",
    "GrantOptions",
    "MachineSession",
    "OAuthLimits",
    "OAuthProxy",
    "ProxyState",
    "RedirectPattern",
    "Sealer",
    "SigningKeys",
]
