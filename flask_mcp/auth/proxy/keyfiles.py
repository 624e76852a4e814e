"""Secrets generated once and kept in the app's instance folder.

Every gunicorn worker runs ``init_app`` at the same time, so "generate a key
unless there is one" must have exactly one winner. :func:`read_or_create`
writes the new secret to a private temporary file first and then
:func:`os.link`\\ s it to its final name: ``link`` fails if the name exists,
so the name only ever points at a complete file, and every loser reads the
winner's secret.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import typing as t

#: Sub-folder of the instance folder holding generated keys.
KEY_FOLDER = "flask_mcp_keys"


def key_path(instance_path: str, name: str, kind: str) -> str:
    """Where the generated ``kind`` key of the proxy ``name`` lives."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return os.path.join(instance_path, KEY_FOLDER, f"{safe}.{kind}")


def read_or_create(path: str, create: t.Callable[[], bytes]) -> bytes:
    """The content of ``path``; if absent, ``create()`` it atomically (mode 0600).

    Of several processes racing, the first ``link`` wins and all of them
    return its content.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    data = create()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".new-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read(path)
        return data
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise RuntimeError(f"the key file {path} is empty: delete it to regenerate")
    return data
