"""Access checks, session helpers and TokenSession."""

from __future__ import annotations

import dataclasses
import pickle
from types import SimpleNamespace

import pytest

from flask_mcp.auth import AuthenticationRequired
from flask_mcp.auth import AuthError
from flask_mcp.auth import ClaimNames
from flask_mcp.auth import TokenSession
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_all
from flask_mcp.auth import require_any
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.auth import roles_of
from flask_mcp.auth import scopes_of


@pytest.mark.parametrize(
    "session",
    [
        {"scopes": ["read", "write"]},
        {"scopes": ("read", "write")},
        {"scopes": {"read", "write"}},
        {"scopes": frozenset({"read", "write"})},
        {"scope": "read write"},
        {"scope": "  read   write "},
        {"scopes": None, "scope": "read write"},
        SimpleNamespace(scopes=["read", "write"]),
        SimpleNamespace(scope="read write"),
        TokenSession(subject="u", scopes=frozenset({"read", "write"})),
    ],
)
def test_scopes_of_formats(session):
    assert scopes_of(session) == {"read", "write"}


@pytest.mark.parametrize(
    "session", [None, {}, {"scope": None}, {"scopes": 42}, object(), {"scope": b"a"}]
)
def test_scopes_of_nothing(session):
    assert scopes_of(session) == frozenset()


def test_roles_of():
    assert roles_of({"role": "admin"}) == {"admin"}
    assert roles_of({"roles": ["a", "b"]}) == {"a", "b"}
    assert roles_of({"roles": "a b"}) == {"a", "b"}
    assert roles_of({"role": "x", "roles": ["a"]}) == {"a", "x"}
    assert roles_of(SimpleNamespace(role="admin")) == {"admin"}
    assert roles_of(SimpleNamespace(roles=("a",))) == {"a"}
    assert roles_of({"role": ["a", "b"]}) == {"a", "b"}
    assert roles_of(None) == frozenset()
    assert roles_of({"role": ""}) == frozenset()


def test_require_auth_is_a_check_not_a_factory():
    assert require_auth({}) is True
    assert require_auth(SimpleNamespace()) is True
    assert require_auth(None) is False
    assert require_auth.required_scopes == ()
    assert repr(require_auth) == "require_auth"


def test_require_scopes_needs_all():
    check = require_scopes("read", "write")
    assert check({"scope": "read write admin"})
    assert not check({"scope": "read"})
    assert not check({})
    assert not check(None)
    assert check(SimpleNamespace(scopes=["write", "read"]))
    assert check.required_scopes == ("read", "write")
    assert repr(check) == "require_scopes('read', 'write')"


def test_require_role_needs_any():
    check = require_role("admin", "moderator")
    assert check({"role": "moderator"})
    assert check({"roles": ["user", "admin"]})
    assert check(SimpleNamespace(role="admin"))
    assert not check({"role": "user"})
    assert not check(None)
    assert check.required_scopes == ()


@pytest.mark.parametrize("factory", [require_scopes, require_role])
def test_factories_need_arguments(factory):
    with pytest.raises(ValueError):
        factory()
    with pytest.raises(ValueError):
        factory("")


def test_require_all():
    check = require_all(
        require_auth, require_role("admin"), require_scopes("a"), require_scopes("b")
    )
    assert check({"role": "admin", "scope": "a b"})
    assert not check({"role": "admin", "scope": "a"})
    assert not check({"scope": "a b"})
    assert not check(None)
    assert check.required_scopes == ("a", "b")


def test_require_all_unions_scopes_without_duplicates():
    check = require_all(require_scopes("a", "b"), require_scopes("b", "c"))
    assert check.required_scopes == ("a", "b", "c")


def test_require_any():
    check = require_any(require_role("admin"), require_scopes("write"))
    assert check({"role": "admin"})
    assert check({"scope": "write"})
    assert not check({"role": "user", "scope": "read"})
    assert not check(None)
    assert check.required_scopes == ()
    assert require_any(require_scopes("x")).required_scopes == ("x",)


def test_combinators_take_plain_callables_and_nest():
    def anonymous_ok(session):
        return True

    assert require_any(anonymous_ok, require_auth)(None)
    assert not require_all(anonymous_ok, require_auth)(None)
    nested = require_any(
        require_all(require_role("admin"), require_scopes("a")),
        require_all(require_role("owner"), require_scopes("b")),
    )
    assert nested({"role": "owner", "scope": "b"})
    assert not nested({"role": "owner", "scope": "a"})
    with pytest.raises(ValueError):
        require_all()
    with pytest.raises(ValueError):
        require_any()


def test_checks_work_with_token_sessions():
    session = TokenSession(
        subject="u1", scopes=frozenset({"read"}), roles=frozenset({"admin"})
    )
    assert require_all(require_auth, require_role("admin"), require_scopes("read"))(
        session
    )
    assert not require_scopes("write")(session)


def test_get_auth_session():
    session = {"sub": "u1"}
    assert get_auth_session(session) is session
    token_session = TokenSession(subject="u1")
    assert get_auth_session(token_session, TokenSession) is token_session


def test_get_auth_session_without_session_is_a_401():
    with pytest.raises(AuthenticationRequired) as caught:
        get_auth_session(None)
    error = caught.value
    assert isinstance(error, Unauthorized) and isinstance(error, AuthError)
    assert error.status_code == 401
    assert error.error is None
    assert "authenticated" in str(error)
    assert error.challenge() == "Bearer"


def test_get_auth_session_type_check():
    with pytest.raises(TypeError, match="TokenSession"):
        get_auth_session({"sub": "u1"}, TokenSession)


def test_token_session_from_claims_and_mapping_access():
    claims = {
        "sub": "u1",
        "scp": ["a", "b"],
        "roles": "admin ops",
        "email": "u1@example.com",
        "azp": "client-1",
        "exp": 2_000_000_000,
        "tenant": "t1",
    }
    session = TokenSession.from_claims(claims, token="raw.jwt.value")
    assert session.subject == "u1"
    assert session.scopes == {"a", "b"}
    assert session.roles == {"admin", "ops"}
    assert session.email == "u1@example.com"
    assert session.client_id == "client-1"
    assert session.expires_at == 2_000_000_000
    assert session.access_token == "raw.jwt.value"
    assert session["sub"] == "u1"
    assert session["subject"] == "u1"
    assert session["tenant"] == "t1"
    assert session.get("missing", 5) == 5
    assert "tenant" in session and "missing" not in session
    with pytest.raises(KeyError):
        session["missing"]
    assert "raw.jwt.value" not in repr(session)
    assert not session.is_expired(now=1_000_000_000)
    assert session.is_expired(now=2_000_000_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.subject = "other"  # type: ignore[misc]
    assert hash(session) == hash(TokenSession.from_claims(claims, token="x"))
    assert pickle.loads(pickle.dumps(session)) == session


def test_claim_names_nested_and_namespaced():
    names = ClaimNames(
        subject="oid",
        roles=("https://example.com/roles", "realm_access.roles"),
        scopes="permissions",
        email=("upn", "email"),
    )
    keycloak = {"oid": "o1", "realm_access": {"roles": ["r1"]}, "permissions": ["p"]}
    session = TokenSession.from_claims(keycloak, names=names)
    assert (session.subject, session.roles, session.scopes) == ("o1", {"r1"}, {"p"})
    auth0 = {"oid": "o2", "https://example.com/roles": ["r2"], "email": "a@b.c"}
    session = TokenSession.from_claims(auth0, names=names)
    assert session.roles == {"r2"} and session.email == "a@b.c"
