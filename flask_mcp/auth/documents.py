"""Read one JSON document over HTTP, bounded in size and time.

The standard library does it by default: a worker that verifies tokens need
not hold ``requests`` (about 5 MB) for the one fetch of a JWK Set an hour.
A ``requests.Session`` given by the app (proxies, a CA bundle of its own) is
used instead when there is one, made bounded as every upstream call is
(:func:`~flask_mcp.auth.bounded_http.bounded_session`). Either way the whole
fetch ends within ``timeout`` (a :class:`~.deadline.Deadline`), and a body
over :data:`MAX_DOCUMENT_BYTES` is refused.
"""

from __future__ import annotations

import contextvars
import http.client
import socket
import typing as t
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ..errors import FlaskMCPError
from .deadline import Deadline

if t.TYPE_CHECKING:
    import requests

#: Documents larger than this are refused: metadata is a few kilobytes.
MAX_DOCUMENT_BYTES = 1 << 20
_CHUNK = 16 * 1024

#: The deadline of the fetch this thread is making (see :class:`_Tracked`).
_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "flask_mcp_document_deadline", default=None
)


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
    deadline = Deadline(timeout)
    token = _CURRENT.set(deadline)
    try:
        with deadline.watch(), _OPENER.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise FetchError("unexpected status", response.status)
            body = _read_capped(response)
        if deadline.expired:  # the cut socket read as the end of the body
            raise TimeoutError
    except urllib.error.HTTPError as error:
        error.close()
        raise FetchError("unexpected status", error.code) from None
    except TimeoutError:
        raise FetchError(f"timed out after {timeout} s") from None
    except FetchError:
        if deadline.expired:
            raise FetchError(f"timed out after {timeout} s") from None
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if deadline.expired or isinstance(getattr(error, "reason", None), TimeoutError):
            raise FetchError(f"timed out after {timeout} s") from None
        raise FetchError(f"request failed ({type(error).__name__})") from None
    finally:
        _CURRENT.reset(token)
    return body


def _read_capped(response: http.client.HTTPResponse) -> bytes:
    """The body, as it arrives (``read1``: a dripping server cannot make one
    read wait for a full chunk), refused past :data:`MAX_DOCUMENT_BYTES`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise FetchError("document larger than 1 MiB", 200)
    body = bytearray()
    while chunk := response.read1(_CHUNK):
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise FetchError("document larger than 1 MiB", 200)
    return bytes(body)


def _with_session(url: str, timeout: float, session: requests.Session) -> bytes:
    import requests

    from .bounded_http import AnswerTooLarge
    from .bounded_http import BoundedAdapter
    from .bounded_http import bounded_session

    if not isinstance(session.get_adapter("https://"), BoundedAdapter):
        bounded_session(MAX_DOCUMENT_BYTES, session)  # once per session
    try:
        response = session.get(
            url, timeout=timeout, headers={"Accept": "application/json"}
        )
    except AnswerTooLarge:
        raise FetchError("document larger than 1 MiB", 200) from None
    except requests.Timeout:
        raise FetchError(f"timed out after {timeout} s") from None
    except requests.RequestException as error:
        raise FetchError(f"request failed ({type(error).__name__})") from None
    if response.status_code != 200:
        raise FetchError("unexpected status", response.status_code)
    return response.content


class _Tracked:
    """A mixin of :mod:`http.client` connections: the socket each opens is
    cut by the deadline of the fetch in progress."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        deadline = _CURRENT.get()
        if deadline is not None and self.sock is not None:
            deadline.track(self.sock)


class _HTTPConnection(_Tracked, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Tracked, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req)


def _opener() -> urllib.request.OpenerDirector:
    """An opener for http and https only (no file:, ftp: or data: URLs, also
    not through a redirect); proxies from the environment, as requests."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        _HTTPHandler(),
        _HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _opener()
