"""Shared pytest fixtures.

Helpers to run real servers live in ``tests/support`` (``from support import
GunicornServer, RedisServer, ...``); see its docstring for the API.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Make `import support` work whatever the rootdir/package layout of tests/ is.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from support import RedisServer  # noqa: E402


@pytest.fixture(scope="session")
def redis_server():
    """One throwaway redis-server for the whole session (``.url``, ``.flushall()``).

    Tests that need an empty database call ``redis_server.flushall()`` first.
    """
    with RedisServer() as server:
        yield server


# ---------------------------------------------------------------------------
# Fixtures added by other test areas go below this line, one block per area,
# each with a docstring.
# ---------------------------------------------------------------------------
