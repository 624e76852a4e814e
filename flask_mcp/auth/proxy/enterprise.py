"""Enterprise-managed authorization: Identity Assertion JWT Authorization
Grants (ID-JAG) from a company's identity provider.

The MCP extension ``io.modelcontextprotocol/enterprise-managed-authorization``
(SEP-990) applies draft-ietf-oauth-identity-assertion-authz-grant: the MCP
client trades the user's ID token at the company's IdP for an ID-JAG (token
exchange, :rfc:`8693`), a short JWT in which the IdP says "this user may use
this client with that MCP server", and presents it at our token endpoint
with the JWT bearer grant (:rfc:`7523`). No browser, no consent page: the
IdP's policy decides. :class:`EnterpriseIdP` configures one trusted IdP;
:class:`AssertionVerifier` checks an ID-JAG as the extension and the draft
require, each refusal an OAuth error naming what failed (details in the
log):

* the header: ``typ`` ``oauth-id-jag+jwt`` (:rfc:`8725#section-3.11`), an
  asymmetric ``alg`` the IdP is allowed;
* ``iss``: a configured IdP; the signature: one of its keys, from the JWK
  Set its discovery document names (:rfc:`8414`, then OpenID Connect
  Discovery), cached in the shared store like any JWK Set;
* ``aud``: this authorization server's issuer, alone (a string, or an array
  of exactly that one);
* ``client_id``: the client that authenticated the request;
* ``resource``: present (the MCP extension requires it), naming an MCP
  endpoint behind this proxy (checked by the grant: ``invalid_target``);
* ``sub``, ``jti``, ``exp``, ``iat`` present; not expired, not issued in
  the future, living at most ``max_lifetime`` seconds;
* ``jti`` used once: remembered in the shared store until the assertion
  expires, so a replay is refused on every worker of every host
  (:meth:`AssertionVerifier.consume`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import urlsplit

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749 import InvalidGrantError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from flask_mcp.store import Store

from ..claims import invalid_dates
from ..discovery import DiscoveryDocumentCache
from ..discovery import DiscoveryError
from ..hashing import digest
from ..jwks import KEY_TYPES
from ..jwks import AllowListRegistry
from ..jwks import JWKSet
from ..jwks import discover_jwks_uri
from ..jwks import forbidden_alg
from ..jwt import DEFAULT_ALGORITHMS
from .cimd.clients import TryLater

log = logging.getLogger(__name__)

#: ``grant_type`` of the JWT bearer grant (:rfc:`7523#section-2.1`).
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: ``authorization_grant_profiles_supported`` value of ID-JAG.
ID_JAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"
#: The ``typ`` header of an ID-JAG (with or without ``application/``).
ID_JAG_TYPES = ("oauth-id-jag+jwt", "application/oauth-id-jag+jwt")
#: Claims every ID-JAG must carry (``resource``: the MCP extension).
REQUIRED_CLAIMS = ("iss", "sub", "aud", "client_id", "jti", "exp", "iat", "resource")
#: Longest ``jti`` remembered.
MAX_JTI = 256
#: Seconds an IdP whose keys could not be fetched is not asked again: its
#: token requests are refused at once meanwhile (``Retry-After``), instead
#: of each holding a worker for the whole fetch deadline.
KEYS_RETRY = 5


@dataclass(frozen=True)
class EnterpriseIdP:
    """An enterprise identity provider whose ID-JAGs the proxy accepts.

    :param issuer: its issuer identifier, exactly as its ID-JAGs' ``iss``;
        its keys are found through its discovery document.
    :param clients: the client ids that may present its assertions;
        ``None``: any confidential client of this server (the assertion
        names the client, and the client must authenticate as it).
    :param scopes: the most scopes its assertions may grant; ``None``: any
        scope of the proxy.
    :param algorithms: the signature algorithms accepted (asymmetric only).
    :param max_lifetime: the longest ``exp`` - ``iat`` accepted, in seconds
        (ID-JAGs are meant to live minutes).
    :param leeway: seconds of clock skew tolerated.
    :param jwks_uri: its JWK Set URL, when it has no discovery document.
    """

    issuer: str
    clients: tuple[str, ...] | None = None
    scopes: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    max_lifetime: int = 600
    leeway: int = 30
    jwks_uri: str | None = field(default=None)

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer) if isinstance(self.issuer, str) else None
        if (
            parts is None
            or parts.scheme not in ("https", "http")
            or not parts.netloc
            or parts.fragment
            or parts.query
            or not is_secure_transport(self.issuer)
        ):
            raise ValueError(
                "EnterpriseIdP.issuer must be an https URL (http only on"
                f" loopback), not {self.issuer!r}"
            )
        for name in ("clients", "scopes", "algorithms"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"EnterpriseIdP.{name} must be a sequence of strings")
            object.__setattr__(self, name, tuple(value))
        bad = [a for a in self.algorithms if forbidden_alg(a) or a not in KEY_TYPES]
        if bad or not self.algorithms:
            raise ValueError(f"EnterpriseIdP.algorithms: {bad or 'none'} not allowed")
        for name in ("max_lifetime", "leeway"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"EnterpriseIdP.{name} must be an integer >= 0")


class TemporarilyUnavailable(TryLater):
    """The IdP's keys cannot be had now: 503, try again in a few seconds."""

    status_code = 503
    message = "the identity provider's keys cannot be fetched now; try again"


@dataclass(frozen=True)
class IdentityAssertion:
    """A verified ID-JAG (its ``jti`` not yet spent)."""

    idp: EnterpriseIdP
    claims: dict[str, t.Any]

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def resources(self) -> list[str]:
        """Its ``resource`` claim, as a list."""
        value = self.claims["resource"]
        return [value] if isinstance(value, str) else list(value)

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """Its ``scope`` claim, split; ``None`` without one."""
        value = self.claims.get("scope")
        return None if value is None else tuple(str(value).split())

    def identity(self) -> dict[str, t.Any]:
        """What a grant keeps of it (sealed): every claim but the assertion's
        own bookkeeping."""
        return {
            k: v
            for k, v in self.claims.items()
            if k not in ("jti", "exp", "iat", "nbf")
        }


class AssertionVerifier:
    """Checks ID-JAGs of the configured IdPs (see the module docstring).

    :param idps: the trusted IdPs.
    :param audience: this authorization server's issuer identifier.
    :param discovery: fetches and caches the IdPs' discovery documents and
        JWK Sets in the shared store.
    :param store: where used ``jti`` values are remembered.
    """

    def __init__(
        self,
        idps: Sequence[EnterpriseIdP],
        *,
        audience: str,
        discovery: DiscoveryDocumentCache,
        store: Store,
    ) -> None:
        self.idps = {idp.issuer: idp for idp in idps}
        self.audience = audience
        self.discovery = discovery
        self.store = store.child("idjag-jti:")
        self.failures = store.child("idjag-keys-failed:")
        self._keys = JWKSet(discovery)
        self._jwks_uris: dict[str, str] = {}
        self._mutex = threading.Lock()

    def verify(self, assertion: t.Any, client_id: str) -> IdentityAssertion:
        """The checked ID-JAG that ``client_id`` presented.

        :raises InvalidGrantError: naming the check that failed.
        :raises TemporarilyUnavailable: when the IdP's keys cannot be had.
        """
        header, unverified = _parts(assertion)
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ID_JAG_TYPES:
            raise _refused(
                "the assertion is not an ID-JAG (its typ must be oauth-id-jag+jwt)",
                f"typ {typ!r}",
            )
        issuer = unverified.get("iss")
        idp = self.idps.get(issuer) if isinstance(issuer, str) else None
        if idp is None:
            raise _refused(
                "the assertion's issuer is not trusted by this server",
                f"iss {issuer!r} is not a configured enterprise IdP",
            )
        claims = self._signed_claims(assertion, header, idp)
        self._check_claims(claims, idp, client_id)
        return IdentityAssertion(idp, claims)

    def consume(self, assertion: IdentityAssertion) -> None:
        """Spend the assertion's ``jti``: the one caller on any worker of any
        host sharing the store that gets it through; every other use is
        refused until the assertion has expired.

        :raises InvalidGrantError: for a ``jti`` already used.
        """
        claims = assertion.claims
        idp = assertion.idp
        ttl = max(1.0, float(claims["exp"]) + idp.leeway - time.time())
        key = f"{digest(idp.issuer)}:{digest(str(claims['jti']))}"
        if not self.store.add(key, 1, ttl):
            raise _refused(
                "the assertion was already used (each ID-JAG is good for one"
                " token request)",
                f"jti {claims['jti']!r} of {idp.issuer} replayed",
            )

    # -- the steps ---------------------------------------------------------

    def _signed_claims(
        self, assertion: str, header: Mapping[str, t.Any], idp: EnterpriseIdP
    ) -> dict[str, t.Any]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in idp.algorithms or forbidden_alg(alg):
            raise _refused(
                "the assertion's signature algorithm is not accepted", f"alg {alg!r}"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _refused("the assertion is malformed", "kid is not a string")
        failed = digest(idp.issuer)
        until = self.failures.get(failed)
        if isinstance(until, (int, float)):
            raise TemporarilyUnavailable(until - time.time())
        try:
            keys = self._keys.find(self._jwks_uri(idp), alg, kid)
        except DiscoveryError as error:
            log.warning("cannot get the signing keys of %s: %s", idp.issuer, error)
            self.failures.set(failed, time.time() + KEYS_RETRY, KEYS_RETRY)
            raise TemporarilyUnavailable(KEYS_RETRY) from None
        if not keys:
            raise _refused(
                "no key of the identity provider matches the assertion",
                f"no {alg} key with kid {kid!r} at {idp.issuer}",
            )
        registry = AllowListRegistry(algorithms=[alg], strict_check_header=False)
        for key in keys:
            try:
                return dict(jwt.decode(assertion, key, registry=registry).claims)
            except (JoseError, ValueError):
                continue
        raise _refused(
            "the assertion's signature is not valid", f"signature ({idp.issuer})"
        )

    def _jwks_uri(self, idp: EnterpriseIdP) -> str:
        if idp.jwks_uri:
            return idp.jwks_uri
        with self._mutex:
            known = self._jwks_uris.get(idp.issuer)
        if known is None:
            known = discover_jwks_uri(idp.issuer, self.discovery)
            with self._mutex:
                self._jwks_uris[idp.issuer] = known
        return known

    def _check_claims(
        self, claims: dict[str, t.Any], idp: EnterpriseIdP, client_id: str
    ) -> None:
        missing = [name for name in REQUIRED_CLAIMS if name not in claims]
        if missing:
            raise _refused(
                f"the assertion lacks the {', '.join(missing)} claim"
                f"{'s' if len(missing) > 1 else ''}",
                f"missing {missing}",
            )
        unusable = invalid_dates(claims)
        if unusable:
            raise _refused(
                "the assertion's times are not valid", f"{unusable} not NumericDates"
            )
        for name in ("sub", "client_id", "jti"):
            value = claims[name]
            if not isinstance(value, str) or not value or len(value) > MAX_JTI:
                raise _refused(
                    f"the assertion's {name} is not valid", f"{name} {value!r}"
                )
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        if audience != self.audience:
            raise _refused(
                "the assertion is meant for another authorization server (aud)",
                f"aud {claims['aud']!r}, expected {self.audience!r}",
            )
        if claims["client_id"] != client_id:
            raise _refused(
                "the assertion was issued for another client (client_id)",
                f"client_id {claims['client_id']!r} presented by {client_id!r}",
            )
        if idp.clients is not None and client_id not in idp.clients:
            raise _refused(
                "this client may not use this identity provider's assertions",
                f"{client_id!r} is not among the clients of {idp.issuer}",
            )
        self._check_times(claims, idp)
        resource = claims["resource"]
        if not (
            isinstance(resource, str)
            or isinstance(resource, list)
            and resource
            and all(isinstance(r, str) for r in resource)
        ):
            raise _refused("the assertion's resource is not valid", f"{resource!r}")
        scope = claims.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise _refused("the assertion's scope is not a string", f"{scope!r}")

    @staticmethod
    def _check_times(claims: Mapping[str, t.Any], idp: EnterpriseIdP) -> None:
        now = time.time()
        expires, issued = float(claims["exp"]), float(claims["iat"])
        if expires + idp.leeway <= now:
            raise _refused("the assertion has expired", f"exp {expires} <= {now}")
        if issued - idp.leeway > now:
            raise _refused("the assertion was issued in the future", f"iat {issued}")
        not_before = claims.get("nbf")
        if isinstance(not_before, (int, float)) and not_before - idp.leeway > now:
            raise _refused("the assertion is not valid yet", f"nbf {not_before}")
        if expires - issued > idp.max_lifetime:
            raise _refused(
                f"the assertion lives longer than {idp.max_lifetime} seconds",
                f"exp - iat = {expires - issued}",
            )


def _parts(assertion: t.Any) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """The header and the (unverified) claims of a compact JWS."""
    if not isinstance(assertion, str) or assertion.count(".") != 2:
        raise _refused("the assertion is not a JWT", "not a compact JWS")
    try:
        token = extract_compact(assertion.encode("ascii"))
        claims = json.loads(token.payload)
    except (JoseError, ValueError, UnicodeError, RecursionError):
        raise _refused("the assertion is not a JWT", "unreadable") from None
    if not isinstance(claims, dict):
        raise _refused("the assertion is not a JWT", "claims not an object")
    return dict(token.headers()), claims


def _refused(public: str, detail: str) -> InvalidGrantError:
    """``invalid_grant`` with ``public`` as its description; ``detail`` goes
    to the log."""
    log.info("ID-JAG refused: %s (%s)", public, detail)
    return InvalidGrantError(public)
