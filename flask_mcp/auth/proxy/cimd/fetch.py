"""Fetch a small JSON document from an attacker-chosen https URL, safely.

:class:`Fetcher` is ``requests`` with every door closed that such a URL
could open (CIMD draft section 6):

* https only, no redirects (a 3xx is refused: its target was not checked),
  no proxies or ``.netrc`` from the environment, ``Accept-Encoding:
  identity``; certificates are verified as ``requests`` does, so
  ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``) names the trusted CAs;
* only public addresses, resolved once and checked where connected
  (:mod:`.connection`, :class:`~.addresses.AddressPolicy`);
* ``timeout`` bounds the connection and the whole exchange: a watchdog cuts
  the connection when it ends, however slowly the answer trickles in;
* the body is read in a streaming way and refused past ``max_size`` bytes;
  it must be ``application/json`` (or ``application/*+json``) holding a JSON
  object.

How long the document may be kept follows its ``Cache-Control``
(``s-maxage``, ``max-age``, less ``Age``) or ``Expires``, within
``min_cache`` and ``max_cache``.
"""

from __future__ import annotations

import os
import time
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from urllib3.exceptions import NameResolutionError

from ....errors import FlaskMCPError
from ..client_metadata import parse_json_object
from .addresses import AddressPolicy
from .cimd_options import CIMDOptions
from .connection import Guard
from .connection import GuardedAdapter
from .connection import Refused

_CHUNK = 1024


class FetchError(FlaskMCPError):
    """The document could not be fetched, or was refused; the message says
    why and is safe to show to the client."""


@dataclass(frozen=True)
class Fetched:
    """A fetched JSON object and the seconds it may be kept."""

    data: dict[str, t.Any]
    lifetime: int


class Fetcher:
    """Fetches JSON documents under the rules of the module docstring."""

    def __init__(self, options: CIMDOptions) -> None:
        self.options = options
        self.policy = AddressPolicy(options)

    def fetch_json(self, url: str) -> Fetched:
        """The JSON object at ``url``.

        :raises FetchError: when it cannot be fetched or is refused.
        """
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError("only https URLs are fetched")
        guard = Guard(self.policy, self.options.timeout)
        with requests.Session() as session:
            # No proxy, .netrc or CA settings from the environment (the
            # address check needs the direct connection); the CA bundle
            # variables are honoured as requests does (verify below).
            session.trust_env = False
            session.mount("https://", GuardedAdapter(guard))
            try:
                with guard.watch():
                    return self._get(session, url)
            except Refused as refused:
                raise FetchError(str(refused)) from None
            except (requests.RequestException, OSError) as error:
                if guard.expired:
                    raise FetchError(
                        f"it did not answer within {self.options.timeout:g} seconds"
                    ) from None
                raise FetchError(_reason(error)) from None

    def _get(self, session: requests.Session, url: str) -> Fetched:
        timeout = self.options.timeout
        response = session.get(
            url,
            allow_redirects=False,
            stream=True,
            timeout=(timeout, timeout),
            verify=_ca_bundle(),
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
        )
        with response:
            if 300 <= response.status_code < 400:
                raise Refused(f"it answered with a redirect ({response.status_code})")
            if response.status_code != 200:
                raise Refused(f"it answered HTTP {response.status_code}")
            media = response.headers.get("Content-Type", "").partition(";")[0]
            media = media.strip().lower()
            if media != "application/json" and not (
                media.startswith("application/") and media.endswith("+json")
            ):
                raise Refused(f"it is not JSON (Content-Type {media or 'missing'!r})")
            body = self._body(response)
        try:
            data = parse_json_object(body)
        except InvalidClientMetadataError as error:
            raise Refused(f"it is not acceptable JSON: {error.description}") from None
        if data is None:
            raise Refused("it is not a JSON object")
        return Fetched(data, self.lifetime(response.headers))

    def _body(self, response: requests.Response) -> bytes:
        limit = self.options.max_size
        too_large = Refused(f"it is larger than {limit} bytes")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def lifetime(self, headers: t.Mapping[str, str]) -> int:
        """Seconds a response with ``headers`` may be kept, within the
        configured bounds."""
        low, high = self.options.min_cache, self.options.max_cache
        fresh = _freshness(headers)
        return low if fresh is None else max(low, min(high, int(fresh)))


def _freshness(headers: t.Mapping[str, str]) -> float | None:
    """Seconds of freshness the headers give (:rfc:`9111#section-4.2.1`),
    ``None`` without any (or for ``no-store`` / ``no-cache``)."""
    directives: dict[str, str] = {}
    for item in headers.get("Cache-Control", "").split(","):
        name, _, value = item.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    age = headers.get("Age", "")
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            return int(directives[name]) - (int(age) if age.isdigit() else 0)
    expires = headers.get("Expires")
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0  # an invalid date means "already expired"
    return None


def _ca_bundle() -> str | bool:
    """What ``requests`` verifies with when it reads the environment."""
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )


def _reason(error: BaseException) -> str:
    """A short, safe description of a failed request."""
    if isinstance(error, requests.exceptions.SSLError):
        return "its TLS certificate was not accepted"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, requests.exceptions.ConnectionError):
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, NameResolutionError):
                return "its host name does not resolve"
            cause = cause.__cause__ or cause.__context__
        return "the connection failed"
    return "the request failed"
