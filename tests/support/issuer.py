"""A real JWT issuer for tests: oauth2-mock-server, run by tests/auth/mock_issuer.mjs.

Its admin routes mint tokens with any claims, rotate keys and count hits, so
tests can exercise verifiers against a live JWKS and discovery document.
"""

from __future__ import annotations

import contextlib
import json
import typing as t

import requests

from .processes import REPO_ROOT
from .processes import NodeProcess

MOCK_ISSUER_SCRIPT = REPO_ROOT / "tests" / "auth" / "mock_issuer.mjs"


class MockIssuer:
    """A running mock issuer; ``issuer`` (alias ``url``) is its issuer URL."""

    def __init__(self, process: NodeProcess, issuer: str) -> None:
        self.process = process
        self.issuer = issuer
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return self.issuer

    def mint(
        self,
        claims: dict[str, t.Any] | None = None,
        *,
        kid: str | None = None,
        header: dict[str, t.Any] | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A token signed by the issuer (key ``kid``, else round robin);
        a claim set to ``None`` is removed."""
        body: dict[str, t.Any] = {"claims": claims or {}, "header": header or {}}
        if kid is not None:
            body["kid"] = kid
        if expires_in is not None:
            body["expiresIn"] = expires_in
        response = self.http.post(f"{self.issuer}/admin/token", json=body, timeout=10)
        response.raise_for_status()
        return t.cast(str, response.json()["token"])

    def add_key(self, alg: str = "RS256", kid: str | None = None) -> dict[str, t.Any]:
        """Rotate in a new signing key; returns its public JWK."""
        body = {"alg": alg} | ({"kid": kid} if kid else {})
        response = self.http.post(f"{self.issuer}/admin/keys", json=body, timeout=10)
        response.raise_for_status()
        return t.cast(dict[str, t.Any], response.json())

    def hits(self, name: str) -> int:
        """How many requests reached ``name`` (``jwks``, ``openid_configuration``)."""
        stats = self.http.get(f"{self.issuer}/admin/stats", timeout=10).json()
        return int(stats.get(name, 0))

    def jwks(self) -> dict[str, t.Any]:
        response = self.http.get(f"{self.issuer}/jwks", timeout=10)
        return t.cast(dict[str, t.Any], response.json())


@contextlib.contextmanager
def mock_issuer() -> t.Iterator[MockIssuer]:
    """Start an issuer on a free port (Node 22 from tools/: fails, never skips)."""
    process = NodeProcess(
        MOCK_ISSUER_SCRIPT, "--port", "0", ready=r"^READY (\{.*\})$", cwd=REPO_ROOT
    )
    with process:
        assert process.match is not None
        issuer = MockIssuer(process, json.loads(process.match.group(1))["issuer"])
        try:
            yield issuer
        finally:
            issuer.http.close()
