"""How secrets are kept: as SHA-256 digests, never as they were given."""

from __future__ import annotations

import hashlib


def digest(value: str) -> str:
    """SHA-256 hex digest: how API keys, codes, refresh tokens and client
    secrets are stored and compared (any string, lone surrogates too)."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
