"""Read one JSON document over HTTP, bounded in size and time.

The standard library does it by default: a worker that verifies tokens need
not hold ``requests`` (about 5 MB) for the one fetch of a JWK Set an hour.
A ``requests.Session`` given by the app (proxies, a CA bundle of its own) is
used instead when there is one.
"""

from __future__ import annotations

import http.client
import typing as t
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ..errors import FlaskMCPError

if t.TYPE_CHECKING:
    import requests

#: Documents larger than this are refused: metadata is a few kilobytes.
MAX_DOCUMENT_BYTES = 1 << 20


class FetchError(FlaskMCPError):
    """A document could not be read: why, and the status if one came."""

    def __init__(self, reason: str, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def read(url: str, timeout: float, session: requests.Session | None = None) -> bytes:
    """The body at ``url`` (status 200 only).

    :raises FetchError: another status, a body over 1 MiB, a timeout, a
        connection that failed, a URL that is not http or https.
    """
    if session is not None:
        return _with_session(url, timeout, session)
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("request failed (not an http or https URL)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise FetchError("unexpected status", response.status)
            body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()
        raise FetchError("unexpected status", error.code) from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout} s") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        if isinstance(getattr(error, "reason", None), TimeoutError):
            raise FetchError(f"timed out after {timeout} s") from None
        raise FetchError(f"request failed ({type(error).__name__})") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FetchError("document larger than 1 MiB", 200)
    return body


def _with_session(url: str, timeout: float, session: requests.Session) -> bytes:
    import requests

    body = bytearray()
    try:
        with session.get(
            url, timeout=timeout, headers={"Accept": "application/json"}, stream=True
        ) as response:
            if response.status_code != 200:
                raise FetchError("unexpected status", response.status_code)
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FetchError("document larger than 1 MiB", 200)
    except requests.Timeout:
        raise FetchError(f"timed out after {timeout} s") from None
    except requests.RequestException as error:
        raise FetchError(f"request failed ({type(error).__name__})") from None
    return bytes(body)


def _opener() -> urllib.request.OpenerDirector:
    """An opener for http and https only (no file:, ftp: or data: URLs, also
    not through a redirect); proxies from the environment, as requests."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _opener()
