"""Fixtures of the provider tests: the loopback upstream, signing keys, a
fresh discovery cache, a real issuer, and a check that no secret is logged."""

from __future__ import annotations

import logging
import traceback
import typing as t

import pytest

from flask_mcp.auth.discovery import DiscoveryDocumentCache
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from support.issuer import MockIssuer
from support.issuer import mock_issuer as start_mock_issuer
from support.slow_upstream import dripping_upstream  # noqa: F401  (fixture)
from support.slow_upstream import huge_upstream  # noqa: F401  (fixture)

from .upstream import SECRETS
from .upstream import Keys
from .upstream import Upstream


@pytest.fixture
def upstream() -> t.Iterator[Upstream]:
    """The loopback stand-in for the providers (one per test)."""
    server = Upstream()
    yield server
    server.close()


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Test RSA keys by kid, shared by the session (generating them is slow)."""
    return Keys()


@pytest.fixture
def discovery() -> DiscoveryDocumentCache:
    """A discovery cache over a fresh process-local store."""
    return DiscoveryDocumentCache(store=Store(MemoryStoreBackend(), "p:"), timeout=5)


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> t.Iterator[None]:
    """Capture every log record (DEBUG and up, urllib3 included) and fail the
    test if one carries a token, code, verifier or client secret."""
    caplog.set_level(logging.DEBUG)
    yield
    # caplog.records would be the teardown's (none yet): read setup and call.
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"secret logged by {record.name}: {record.getMessage()!r}"


@pytest.fixture(scope="session")
def mock_issuer() -> t.Iterator[MockIssuer]:
    """A real OpenID Connect issuer on loopback (Node 22 from tools/)."""
    with start_mock_issuer() as issuer:
        yield issuer
