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
    "RecursionError in server.data": (
        "JSON nested ~1,000 levels deep on POST /oauth/register: 500, traceback"
    ),
    "ValueError in authorize.authorize": (
        "GET /oauth/authorize whose error description would quote a control"
        " character (response_type=%00): authlib refuses to build the error"
        " redirect, 500 and a traceback"
    ),
    "UnicodeDecodeError in server.authenticate_client": (
        "Basic credentials that are not UTF-8 on /oauth/token or /oauth/revoke:"
        " 500 and a traceback"
    ),
    "TypeError in registration.extract_client_metadata": (
        "POST /oauth/register with a non-string item in grant_types (or"
        " response_types): 500 and a traceback"
    ),
    "TypeError in consent.check_csrf": (
        "POST /oauth/consent with a non-ASCII csrf_token: hmac.compare_digest"
        " refuses str with non-ASCII characters, 500 and a traceback"
    ),
    "AttributeError in registration.extract_client_metadata": (
        "POST /oauth/register with null in response_types: 500 and a traceback"
    ),
    "ValueError in server.authenticate_client": (
        "an Authorization header that is not a well-formed Basic one (a lone"
        " space) on /oauth/token or /oauth/revoke: 500 and a traceback"
    ),
    "RecursionError in base.set": (
        "initialize whose capabilities nest a few hundred levels deep (under"
        " the parser's limit): saving the session recurses, 500 and a traceback"
    ),
}
