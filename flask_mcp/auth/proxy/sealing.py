"""Encryption at rest for upstream tokens, and keys derived for cookies/CSRF.

Upstream tokens are the user's credentials at the provider; the store only
ever sees them sealed with AES-256-GCM. The associated data names the record
(``grant:<id>``), so a sealed value copied into another record does not open.
The key comes from the ``encryption_key`` setting (32 bytes, raw or URL-safe
base64 such as a Fernet key), else it is generated once and kept in the
instance folder, *not* in the store it protects.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import typing as t

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ...errors import FlaskMCPError
from .keyfiles import read_or_create

_VERSION = "v1."


class SealError(FlaskMCPError):
    """A sealed value that does not open: wrong key, wrong record or tampered."""


class Sealer:
    """Seals JSON values with AES-256-GCM.

    :param key: 32 raw bytes.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the encryption key must be 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    @classmethod
    def from_config(cls, value: str | bytes) -> Sealer:
        """32 raw bytes, or their URL-safe base64 (padding optional)."""
        if isinstance(value, bytes) and len(value) == 32:
            return cls(value)
        text = value.decode("ascii") if isinstance(value, bytes) else value
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise ValueError("the encryption key is not URL-safe base64") from None
        return cls(raw)

    @classmethod
    def persisted(cls, path: str) -> Sealer:
        """The generated key kept at ``path``, created on first use."""

        def create() -> bytes:
            return base64.urlsafe_b64encode(os.urandom(32))

        return cls.from_config(read_or_create(path, create))

    def seal(self, value: t.Any, *, context: str) -> str:
        """Encrypt the JSON of ``value``, bound to ``context``."""
        nonce = os.urandom(12)
        plain = json.dumps(value, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plain, context.encode())
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, *, context: str) -> t.Any:
        """Decrypt what :meth:`seal` made with the same ``context``.

        :raises SealError: when it does not open.
        """
        if not isinstance(sealed, str) or not sealed.startswith(_VERSION):
            raise SealError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError("the sealed value does not open") from None
        return json.loads(plain)

    def derive(self, label: str) -> bytes:
        """A 32-byte key for another purpose (cookie signing, CSRF tokens)."""
        return hmac.new(self._key, b"flask_mcp:" + label.encode(), "sha256").digest()
