"""``Grip-Sig``: proof that a request came through the gateway.

The gateway signs every request it forwards with a short JWT in the
``Grip-Sig`` header (Pushpin: HS256 with its ``sig_key``; Fastly Fanout:
ES256 with Fastly's key). Only a request that carries a valid one may be
answered with GRIP instructions, and only it may ask for a stream's next
part; anything else, a client talking to the workers directly or one that
made up the header, gets what a server without a gateway would answer.
"""

from __future__ import annotations

import base64
import logging
import threading
import time

from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwk import OctKey
from joserfc.jwk import RSAKey

log = logging.getLogger(__name__)

#: Longest ``Grip-Sig`` looked at; Pushpin's are about 150 bytes.
_MAX_TOKEN = 2048
#: Shortest shared secret accepted (256 bits, as RFC 7518 asks of HS256).
_MIN_SECRET = 32


class GripSignature:
    """Checks ``Grip-Sig`` tokens against one key.

    :param key: the shared secret (``base64:`` for binary ones), or a PEM
        public key (EC or RSA) for a gateway that signs asymmetrically.
    :param issuer: the required ``iss`` (Pushpin: ``pushpin``); ``None``
        accepts any.
    """

    def __init__(self, key: str | bytes, issuer: str | None = None) -> None:
        if isinstance(key, str) and key.startswith("base64:"):
            key = base64.b64decode(key[7:])
        raw = key.encode() if isinstance(key, str) else key
        if not raw:
            raise ValueError("the Grip-Sig key is empty")
        self._key: OctKey | ECKey | RSAKey
        if raw.lstrip().startswith(b"-----BEGIN"):
            try:
                self._key = ECKey.import_key(raw)
                self._algorithms = ["ES256"]
            except (JoseError, ValueError):
                self._key = RSAKey.import_key(raw)
                self._algorithms = ["RS256"]
        elif len(raw) < _MIN_SECRET:
            # Debian's pushpin.conf ships sig_key=changeme: anyone could sign.
            raise ValueError(
                f"the Grip-Sig key must be at least {_MIN_SECRET} bytes; set a"
                " random sig_key in pushpin.conf and the same MCP_GRIP_KEY"
            )
        else:
            self._key = OctKey.import_key(raw)
            self._algorithms = ["HS256"]
        self.issuer = issuer
        # The gateway signs every request of a second with the same token:
        # remember the last good one until it expires.
        self._lock = threading.Lock()
        self._last: tuple[str, float] | None = None

    def verify(self, token: str | None) -> bool:
        """Whether ``token`` is a valid, unexpired signature of the gateway."""
        if not token or len(token) > _MAX_TOKEN:
            return False
        now = time.time()
        with self._lock:
            last = self._last
        if last is not None and last[0] == token and now < last[1]:
            return True
        expires = self._check(token, now)
        if expires is None:
            return False
        with self._lock:
            self._last = (token, expires)
        return True

    def _check(self, token: str, now: float) -> float | None:
        """The token's expiry if it is good; ``None`` otherwise."""
        try:
            claims = jose_jwt.decode(token, self._key, self._algorithms).claims
        except (JoseError, ValueError) as exc:
            log.debug("Grip-Sig refused: %s", exc)
            return None
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            return None  # GRIP requires exp; a token without it never expires
        if now >= expires:
            return None
        if self.issuer is not None and claims.get("iss") != self.issuer:
            return None
        return float(expires)
