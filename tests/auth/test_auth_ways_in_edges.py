"""Several ways in at their edges: names of ways in that meet, and the
credential of one way presented to another."""

from __future__ import annotations

import typing as t

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import any_of
from flask_mcp.auth import bearer_auth
from support.mcp_post import INIT
from support.mcp_post import post


def tokens(table: dict[str, str]) -> t.Callable[[str], t.Any]:
    def verify(token: str) -> t.Any:
        if token not in table:
            raise Unauthorized("unknown token", error="invalid_token")
        return {"sub": table[token]}

    return verify


STAFF = bearer_auth(tokens({"staff-alice": "alice"}))
PARTNERS = bearer_auth(tokens({"partner-alice": "alice"}))
VENDORS = bearer_auth(tokens({"vendor-alice": "alice"}))


def test_a_named_way_in_never_takes_the_name_given_to_another():
    # The second bearer way is named bearer#2; so is the third, by hand.
    ways = any_of(STAFF, PARTNERS, ("bearer#2", VENDORS))
    assert len(set(ways.sources)) == 3
    assert ways.sources[:2] == ("bearer", "bearer#2")


def test_alice_of_two_ways_named_alike_shares_no_session(tmp_path):
    app = Flask("names", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    FlaskMCP(app, authenticate=[STAFF, PARTNERS, ("bearer#2", VENDORS)])
    started = post(app, INIT, Authorization="Bearer partner-alice")
    session = {
        "Mcp-Session-Id": started.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": "2025-11-25",
    }
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    same = post(app, ping, Authorization="Bearer partner-alice", **session)
    assert same.status_code == 200
    other = post(app, ping, Authorization="Bearer vendor-alice", **session)
    assert other.status_code == 404
