"""Failures the fuzz found that are reported and not fixed yet.

Each key is a failure signature (see :mod:`harness`); the fuzz counts these
instead of failing, and ``test_known_failures.py`` replays a minimal
reproducer of each as a strict ``xfail``: once the library is fixed that
test passes, the xfail turns into a failure, and the entry goes from here.
``FLASK_MCP_FUZZ_KNOWN=1`` turns them all back into plain failures.
"""

from __future__ import annotations

#: signature -> what goes wrong (issue 7 names most of them)
KNOWN: dict[str, str] = {
    "RecursionError in jsonrpc.decode": (
        "JSON nested ~1,000 levels deep (2 KB) on POST /mcp: 500 and a traceback"
    ),
    "not-json-405 on OPTIONS": "OPTIONS /mcp: werkzeug's HTML 405 page, not JSON",
    "not-json-400 (invalid Host)": (
        "a Host header werkzeug cannot parse (a 64-character label, ``[``, a"
        " space...): werkzeug's HTML 400 page on /mcp, not JSON"
    ),
    "TypeError in server._complete": (
        "completion/complete with a non-string argument name ([] or {}):"
        " 'Internal error' and a logged traceback"
    ),
    "JsonRpcError in streaming.request": (
        "a tool call whose elicitation or sampling request is never answered:"
        " 'Internal error' and a traceback, not a timeout error"
    ),
    "ValueError in events.parse_event_id": (
        "a Last-Event-ID whose sequence is a non-ASCII digit ('x.²') or has"
        " more than 4,300 digits: 500 and a traceback"
    ),
}
