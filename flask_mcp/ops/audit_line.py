"""What an audit line is made of, made cheaply: it is made once per call.

* :class:`AuditLine`, the record's message: its values, turned into JSON
  text the first time a handler asks for it (``str``). A handler that
  writes on the request's thread pays for that there; the
  :class:`~flask_mcp.ops.AuditFileHandler` has its writer thread do it, a
  batch of lines at a time.
* JSON encoders built once (:class:`json.JSONEncoder` builds its C encoder
  again for every ``encode``), for the line and for the canonical JSON the
  arguments' digest is taken of. The JSON is the same as
  :func:`json.dumps` gives with the same options.
* A log record filled in from a template: :meth:`logging.Logger.makeRecord`
  computes per record what is the same for every audit line (the source
  file's name split up, the level's name, the process's name).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
import typing as t

from .process_id import current_pid

_Encode = t.Callable[[t.Any], str]


def _encoder(*, sort_keys: bool, separators: tuple[str, str]) -> _Encode:
    """``json.dumps(value, ensure_ascii=False, default=str, ...)``, made once."""
    item_separator, key_separator = separators
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or quote is None:  # an interpreter without _json
        return json.JSONEncoder(
            sort_keys=sort_keys,
            separators=separators,
            ensure_ascii=False,
            check_circular=False,
            default=str,
        ).encode
    # No circular check: the values come from decoded JSON, which has none.
    chunks = make(
        None, str, quote, None, key_separator, item_separator, sort_keys, False, True
    )

    def encode(value: t.Any) -> str:
        return "".join(chunks(value, 0))

    return encode


#: An audit line's JSON (``json.dumps`` defaults: ``", "`` and ``": "``).
encode_line = _encoder(sort_keys=False, separators=(", ", ": "))
#: Canonical JSON: keys sorted, no spaces (the digest's input).
canonical = _encoder(sort_keys=True, separators=(",", ":"))


def arguments_digest(arguments: t.Any) -> str | None:
    """``arguments_sha256`` of an audit line: the SHA-256 of ``arguments`` as
    canonical JSON, in hex; ``None`` for a call without arguments."""
    if arguments is None:
        return None
    data = canonical(arguments).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


class AuditLine:
    """One audit line: ``str(line)`` is its JSON object.

    :param fields: every field, in order; ``time`` is :func:`time.time`
        (written as ISO 8601) and ``arguments_sha256`` is filled in from
        ``digest_of`` when the text is made.
    :param digest_of: the arguments whose digest the line carries.
    """

    __slots__ = ("fields", "digest_of", "_text")

    def __init__(self, fields: dict[str, t.Any], digest_of: t.Any = None) -> None:
        self.fields = fields
        self.digest_of = digest_of
        self._text: str | None = None

    def __str__(self) -> str:
        text = self._text
        if text is None:
            fields = self.fields
            if isinstance(fields["time"], float):
                fields["time"] = iso_time(fields["time"])
            if self.digest_of is not None:
                self.fields["arguments_sha256"] = arguments_digest(self.digest_of)
            text = self._text = encode_line(self.fields)
        return text

    def __repr__(self) -> str:
        return f"AuditLine({self})"


def iso_time(seconds: float) -> str:
    """UTC, ISO 8601 with milliseconds: ``2026-12-07T09:14:03.120Z``."""
    whole = int(seconds)
    return f"{_second(whole)}.{int((seconds - whole) * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    """The part of the time that changes once a second, made once."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


class RecordMaker:
    """Log records of one logger at ``INFO``, as :meth:`~logging.Logger.makeRecord`
    makes them, with what never changes computed once.

    A record factory installed with :func:`logging.setLogRecordFactory` (to
    add fields to every record) is honoured: records are then made by it.
    """

    def __init__(self, logger: logging.Logger, pathname: str) -> None:
        self.logger = logger
        self.pathname = pathname
        self._template: dict[str, t.Any] = {}
        self._pid = -1

    def __call__(self, message: t.Any) -> logging.LogRecord:
        if logging.getLogRecordFactory() is not logging.LogRecord:
            return self._made(message)
        pid = current_pid()
        if pid != self._pid:  # first use, or a forked worker
            self._template = vars(self._made(""))
            self._pid = pid
        record = logging.LogRecord.__new__(logging.LogRecord)
        fields = record.__dict__
        fields.update(self._template)
        now = time.time_ns()
        fields["msg"] = message
        fields["created"] = now / 1e9
        fields["msecs"] = (now % 1_000_000_000) // 1_000_000 + 0.0
        fields["relativeCreated"] = (now - _START) / 1e6
        fields["thread"] = threading.get_ident()
        fields["threadName"] = threading.current_thread().name
        return record

    def _made(self, message: t.Any) -> logging.LogRecord:
        return self.logger.makeRecord(
            self.logger.name, logging.INFO, self.pathname, 0, message, (), None
        )


def _start_ns() -> int:
    """When logging started, in ns, for ``relativeCreated`` (Python 3.13
    keeps it in ns, earlier versions in seconds)."""
    start = getattr(logging, "_startTime", None)
    if isinstance(start, int):
        return start
    return int((start if start is not None else time.time()) * 1e9)


_START = _start_ns()
