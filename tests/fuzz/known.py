"""Failures the fuzz found that are reported and not fixed yet.

Each key is a failure signature (see :mod:`harness`); the fuzz counts these
instead of failing, and ``test_known_failures.py`` replays a minimal
reproducer of each as a strict ``xfail``: once the library is fixed that
test passes, the xfail turns into a failure, and the entry goes from here.
``FLASK_MCP_FUZZ_KNOWN=1`` turns them all back into plain failures.
"""

from __future__ import annotations

#: signature -> what goes wrong (issue 7 names most of them)
KNOWN: dict[str, str] = {}
