"""How every backend turns values into bytes and back.

Values are pickles (protocol 5, so they start with byte ``0x80``). Bytes that
do not unpickle (an empty or truncated file, another program's data) read as
a missing entry: a corrupt entry never turns into an exception.
"""

from __future__ import annotations

import logging
import pickle
import typing as t

logger = logging.getLogger(__name__)

#: First byte of every pickle this module writes.
PICKLE_MARK = 0x80


def dumps(value: t.Any) -> bytes:
    """The bytes stored for ``value``."""
    return pickle.dumps(value, protocol=5)


def loads(data: bytes) -> t.Any:
    """The value of ``data``, or ``None`` when it is not a readable pickle."""
    if not data or data[0] != PICKLE_MARK:
        return None
    try:
        return pickle.loads(data)
    except Exception as error:  # any bytes may come back: none may raise
        logger.debug("unreadable store entry (%s): treated as missing", error)
        return None
