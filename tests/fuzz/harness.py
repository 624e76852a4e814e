"""What every fuzzed request must satisfy, and the budget of the fuzz run.

* :func:`send` makes one request through Flask's test client and reads the
  whole body (a streamed body fails while it is read), recording the log.
* :func:`check_mcp` and :func:`check_oauth` assert the answer: never a 5xx,
  the right body format, no traceback logged.
* A failure has a *signature* (the exception and the function of flask_mcp
  it came from, else the broken rule). Signatures listed in
  :mod:`known` are failures already reported: they are counted, not raised,
  unless ``FLASK_MCP_FUZZ_KNOWN=1`` (then the fuzz shows them all).

Settings from the environment: ``FLASK_MCP_FUZZ_EXAMPLES`` (examples per
test, default 40: seconds; CI sets more), ``FLASK_MCP_FUZZ_KNOWN``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import traceback
import typing as t
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings

from .known import KNOWN

EXAMPLES = int(os.environ.get("FLASK_MCP_FUZZ_EXAMPLES", "40"))
SHOW_KNOWN = os.environ.get("FLASK_MCP_FUZZ_KNOWN", "") not in ("", "0")

#: Fixed seed (``derandomize``), no example database: every run is the same.
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

#: Requests sent, and known failures met, in this run (for the summary).
CASES = Counter[str]()
KNOWN_MET = Counter[str]()

_PACKAGE = str(Path(__file__).resolve().parents[2] / "flask_mcp")


class Failure(AssertionError):
    """A rule an answer broke; ``signature`` names the class of the failure."""

    def __init__(self, signature: str, detail: str) -> None:
        super().__init__(f"[{signature}] {detail}")
        self.signature = signature


class LogRecorder(logging.Handler):
    """Keeps the records of the current request (root logger, all levels)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Answer:
    """One answer, read to the end."""

    method: str
    status: int
    mimetype: str
    headers: dict[str, str]
    body: bytes
    records: list[logging.LogRecord]
    error: BaseException | None = None
    #: What about the request may explain a failure, added to its signature.
    note: str = ""


def send(client: FlaskClient, kind: str, method: str, path: str, **kw: t.Any) -> Answer:
    """One request; an exception while the body streams is kept in ``error``."""
    CASES[kind] += 1
    recorder = LogRecorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        response = client.open(path, method=method, **kw)
        error = None
        try:
            body = response.get_data()
        except Exception as exc:  # the stream broke: a failure to report
            body, error = b"", exc
        finally:
            response.close()
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous)
    return Answer(
        method,
        response.status_code,
        response.mimetype or "",
        dict(response.headers),
        body,
        recorder.records,
        error,
    )


# --------------------------------------------------------------------------
# signatures

_raising_known = False


@contextlib.contextmanager
def raising_known() -> t.Iterator[None]:
    """Within: known failures are raised too (for their reproducers)."""
    global _raising_known
    _raising_known = True
    try:
        yield
    finally:
        _raising_known = False


def _origin(exc: BaseException) -> str:
    """``Type in module.function``: the innermost flask_mcp frame of ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_PACKAGE)] or list(frames)
    if not ours:
        return type(exc).__name__
    frame = ours[-1]
    return f"{type(exc).__name__} in {Path(frame.filename).stem}.{frame.name}"


def _logged_exception(answer: Answer) -> tuple[str, str] | None:
    for record in answer.records:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = "".join(traceback.format_exception(*record.exc_info))
            return _origin(exc), f"{record.getMessage()}\n{text[-3000:]}"
        if "Traceback" in record.getMessage():
            return "traceback-in-message", record.getMessage()[-3000:]
    return None


def fail(answer: Answer, rule: str, detail: str) -> None:
    """Raise the failure (or count it if known): the logged exception, if any,
    names it; else ``rule``."""
    names = [f"{rule} on {answer.method}"]
    if answer.error is not None:
        names = ["stream: " + _origin(answer.error)]
        detail += "\n" + "".join(traceback.format_exception(answer.error))[-3000:]
    elif logged := _logged_exception(answer):
        names = [logged[0]]
        detail += "\n" + logged[1]
    elif answer.note:  # the odd part of the request may be the cause
        names.insert(0, f"{rule} ({answer.note})")
    known = [name for name in names if name in KNOWN]
    if known and not (SHOW_KNOWN or _raising_known):
        KNOWN_MET[known[0]] += 1
        return
    signature = names[0]
    raise Failure(signature, detail)


def _common(answer: Answer, what: str) -> bool:
    """No exception, no 5xx, no traceback; False if a failure was counted."""
    if answer.error is not None:
        fail(answer, "stream-error", f"{what}: the body broke while streaming")
        return False
    if answer.status >= 500:
        fail(answer, f"status-{answer.status}", f"{what} -> {answer.status}")
        return False
    if _logged_exception(answer):
        fail(answer, "traceback", f"{what} -> {answer.status} logged a traceback")
        return False
    return True


# --------------------------------------------------------------------------
# the rules


def check_mcp(answer: Answer, what: str) -> None:
    """The MCP endpoint answers JSON (JSON-RPC on errors), SSE, or nothing."""
    if not _common(answer, what):
        return
    head = f"{what} -> {answer.status} {answer.mimetype}"
    if answer.method == "HEAD":  # never a body: only its type can be wrong
        if answer.status >= 400 and answer.mimetype != "application/json":
            fail(answer, f"not-json-{answer.status}", head)
        return
    if answer.status in (202, 204):
        if answer.body:
            fail(answer, "body-on-empty-status", f"{head}: {answer.body[:200]!r}")
        return
    if answer.mimetype == "text/event-stream" and answer.status == 200:
        for line in answer.body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:") and line[5:].strip():
                _json_or_fail(answer, line[5:], head)
        return
    if answer.mimetype != "application/json":
        fail(answer, f"not-json-{answer.status}", f"{head}: {answer.body[:300]!r}")
        return
    message = _json_or_fail(answer, answer.body, head)
    if answer.status >= 400 and not _is_jsonrpc_error(message):
        fail(answer, "not-jsonrpc-error", f"{head}: {answer.body[:300]!r}")


def check_oauth(answer: Answer, what: str, *, browser: bool) -> None:
    """OAuth endpoints: JSON errors (:rfc:`6749#section-5.2`) for clients;
    an HTML page or a redirect for browsers."""
    if not _common(answer, what):
        return
    head = f"{what} -> {answer.status} {answer.mimetype}"
    if 300 <= answer.status < 400:
        if not answer.headers.get("Location"):
            fail(answer, "redirect-without-location", head)
        return
    if browser:
        if answer.status >= 400 and answer.mimetype != "text/html":
            fail(answer, f"not-html-{answer.status}", f"{head}: {answer.body[:300]!r}")
        return
    if answer.status in (200, 201) and not answer.body:
        return  # revocation answers 200 with an empty body
    if answer.mimetype != "application/json":
        fail(answer, f"not-json-{answer.status}", f"{head}: {answer.body[:300]!r}")
        return
    body = _json_or_fail(answer, answer.body, head)
    if answer.status >= 400 and not (
        isinstance(body, dict) and isinstance(body.get("error"), str)
    ):
        fail(answer, "not-oauth-error", f"{head}: {answer.body[:300]!r}")


def _json_or_fail(answer: Answer, data: bytes | str, head: str) -> t.Any:
    try:
        return json.loads(data)
    except ValueError:
        fail(answer, "invalid-json", f"{head}: {data[:300]!r}")
        return None


def _is_jsonrpc_error(message: t.Any) -> bool:
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    error = message.get("error")
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), int)
        and isinstance(error.get("message"), str)
    )
