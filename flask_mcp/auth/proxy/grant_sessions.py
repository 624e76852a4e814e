"""The sessions of grants that never went to the upstream provider.

A user who signed in upstream gets the provider's session (``GoogleSession``,
with the upstream tokens). Two other kinds of grant carry no upstream token:

* :class:`EnterpriseSession`: a user an enterprise identity provider vouched
  for with an Identity Assertion JWT Authorization Grant (ID-JAG);
* :class:`MachineSession`: a machine client acting on its own behalf
  (client credentials).

Each names its principal with where it came from (:attr:`principal`), so the
same ``sub`` from the upstream provider, from an enterprise IdP and as a
client id never share an MCP session.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from ..providers.provider import OAuthSession


@dataclass(frozen=True)
class EnterpriseSession(OAuthSession):
    """A user an enterprise IdP vouched for (the ``sub`` of its ID-JAG).

    ``access_token`` is empty: the user never signed in at the upstream
    provider, so there is no upstream token to call its APIs with.
    :attr:`claims` are the ID-JAG's (``email``, ``tenant``, ``aud_sub``...).
    """

    access_token: str = field(default="", repr=False)
    #: The IdP that issued the assertion (its ``iss``).
    issuer: str = ""

    @property
    def principal(self) -> str:
        """The IdP and the subject: the binding key of MCP sessions."""
        return f"idjag iss={self.issuer!r} sub={self.subject!r}"

    @classmethod
    def from_identity(
        cls, identity: Mapping[str, t.Any], *, scopes: frozenset[str], client_id: str
    ) -> EnterpriseSession:
        email = identity.get("email")
        name = identity.get("name")
        return cls(
            subject=str(identity["sub"]),
            issuer=str(identity.get("iss", "")),
            scopes=scopes,
            email=email if isinstance(email, str) else None,
            name=name if isinstance(name, str) else None,
            client_id=client_id,
            claims=dict(identity),
        )


@dataclass(frozen=True)
class MachineSession(OAuthSession):
    """A machine client on its own behalf: its ``subject`` is its client id."""

    access_token: str = field(default="", repr=False)

    @property
    def principal(self) -> str:
        return f"client={self.client_id!r}"

    @classmethod
    def from_identity(
        cls, identity: Mapping[str, t.Any], *, scopes: frozenset[str], client_id: str
    ) -> MachineSession:
        return cls(
            subject=client_id, scopes=scopes, client_id=client_id, claims=dict(identity)
        )
