"""How every backend turns values into bytes and back: JSON, data only.

A store shared by several processes (or hosts) may hold bytes that this
code did not write: another program's key, an entry of an older release, a
value planted by whoever can reach the database. Reading such bytes must
never run code, so values are JSON text (what :func:`json.dumps` writes,
ASCII only) and nothing else: bytes that are not JSON read as a missing
entry, and they never turn into an exception either.

What can be stored is what JSON holds: ``dict`` (string keys), ``list``,
``str``, ``int``, ``float``, ``bool`` and ``None``. A tuple is written as a
list and reads back as one; :func:`dumps` raises :class:`TypeError` for
anything else (bytes, sets, dataclasses, datetimes), so each caller says how
its values become data. Counters written by Redis ``INCR`` are decimal
integers, which read back as JSON numbers.

Entries written by releases before 0.2 were pickles: they read as missing.
"""

from __future__ import annotations

import json
import logging
import typing as t

logger = logging.getLogger(__name__)

_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode


def dumps(value: t.Any) -> bytes:
    """The bytes stored for ``value``.

    :raises TypeError: when ``value`` holds something that is not JSON data.
    """
    return _encode(value).encode("ascii")


def loads(data: bytes | str | None) -> t.Any:
    """The value of ``data``, or ``None`` when it is not JSON text."""
    if not data:
        return None
    try:
        text = data.decode("ascii") if isinstance(data, bytes) else data
        return _decode(text)
    except (ValueError, RecursionError) as error:  # UnicodeError is a ValueError
        logger.debug("unreadable store entry (%s): treated as missing", error)
        return None
