"""Managed keys at their edges: expiries no calendar holds, and records that
are not what the keyring wrote (a bug of another version, a hand edit, a
store someone else can write to). None may crash a request or the
operator's ``flask mcp keys list``, nor widen what a key may do."""

from __future__ import annotations

import logging
import math
import re
import typing as t

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import KeyRing
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_role
from flask_mcp.auth.keyring import KeyringError
from support.mcp_post import INIT
from support.mcp_post import post

KEY = re.compile(r"mcpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def app(tmp_path) -> Flask:
    app = Flask("key-edges", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    mcp = FlaskMCP(app, authenticate=managed_key_auth())

    @mcp.tool(can_access=require_role("admin"))
    def admin() -> str:
        return "admin"

    return app


def invoke(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["mcp", "keys", *args])


def ring_of(app: Flask) -> KeyRing:
    return KeyRing(app.extensions["mcp"]["mcp"].store)


def sign_in(app: Flask, key: str) -> t.Any:
    return post(app, INIT, **{"X-API-Key": key})


@pytest.mark.parametrize("days", ["inf", "1e300", "1e12", "36501"])
def test_an_expiry_past_any_calendar_is_refused(app, days):
    made = invoke(app, "create", "ci", "--expires", days)
    assert made.exit_code == 2 and "'--expires'" in made.output
    assert KEY.search(made.output) is None
    listed = invoke(app, "list")
    assert listed.exit_code == 0 and listed.output == "No keys.\n"
    for seconds in (math.inf, 1e300 * 86400, 101 * 365 * 86400):
        with pytest.raises(KeyringError, match="expire"):
            ring_of(app).create("ci", expires_in=seconds)


def test_a_key_for_a_century_is_listed(app):
    assert invoke(app, "create", "ci", "--expires", "36500").exit_code == 0
    listed = invoke(app, "list")
    assert listed.exit_code == 0 and listed.output.splitlines()[1].startswith("ci ")


def plant(app: Flask, **changes: t.Any) -> str:
    """Make a key, then rewrite its record with ``changes``."""
    ring = ring_of(app)
    key, managed = ring.create("bot", roles=["reader"])
    record = {**managed.to_record(), **changes}
    ring.store.set(f"managed-key:{managed.key_id}", record, 3600)
    if "name" in changes:
        ring.store.set("managed-keys", {changes["name"]: managed.key_id}, 3600)
    return key


PLANTED = {
    "non-ASCII digest": {"digest": "\u00e9" * 64},
    "digest of another length": {"digest": "0" * 63},
    "roles as one string": {"roles": "admin"},
    "roles as a mapping": {"roles": {"admin": True}},
    "a role with a control character": {"roles": ["admin\x1b[2J"]},
    "no expiry field": {"expires": "never"},
    "expiry NaN": {"expires": math.nan},
    "creation past year 9999": {"created": 1e300},
    "a name with an escape sequence": {"name": "\x1b[31mbot"},
    "an id that is not its own": {"id": "ffffffffffffffff"},
    "a boolean expiry": {"expires": True},
}


@pytest.mark.parametrize("changes", list(PLANTED.values()), ids=list(PLANTED))
def test_a_record_the_keyring_did_not_write_is_no_key(app, changes, caplog):
    caplog.set_level(logging.DEBUG)
    key = plant(app, **changes)
    refused = sign_in(app, key)
    assert refused.status_code == 401
    assert "Mcp-Session-Id" not in refused.headers
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    listed = invoke(app, "list")
    assert listed.exit_code == 0, listed.output
    assert "\x1b" not in listed.output
    assert listed.output == "No keys.\n"
    assert key.split("_")[1] not in caplog.text  # nor its id, nor its secret


def test_a_hand_edited_record_still_works_when_it_is_well_formed(app):
    key = plant(app, roles=["admin"], expires=None)
    assert sign_in(app, key).status_code == 200
    assert invoke(app, "list").output.splitlines()[1].split()[:2] == ["bot", "admin"]


def forgeries(key: str) -> list[str]:
    """``key`` changed the ways a hostile client would try."""
    key_id = key[5:21]
    return [
        key.replace(key_id, "\u0660" * 16),  # Arabic-Indic digits
        key.replace(key_id, "\uff10" * 16),  # fullwidth digits
        key.replace(key_id, key_id.upper()),
        key[:-1] + "\x00",
        key + "\x00",
        key + "\n" + key,
        key[:-1] + "\u00c5",
        key.replace("_", "-", 1),
        key * 2,
    ]


def test_forged_variants_of_a_real_key_are_refused(app):
    key, _ = ring_of(app).create("bot", roles=["admin"])
    for forged in forgeries(key):
        assert ring_of(app).check(forged) is None, repr(forged)
    # Through HTTP, surrounding whitespace is the header's, not the key's.
    assert sign_in(app, f"  {key}\t").status_code == 200
    refused = sign_in(app, key[:-1] + "\u00c5")
    assert refused.status_code == 401 and "Mcp-Session-Id" not in refused.headers
