"""WWW-Authenticate formatting (RFC 6750 section 3, RFC 9728 section 5.1) and
the errors that produce it."""

from __future__ import annotations

import pytest

from flask_mcp.auth import AuthError
from flask_mcp.auth import Forbidden
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import bearer_challenge

PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


def test_no_parameters():
    assert bearer_challenge() == "Bearer"


def test_no_credentials_has_no_error():
    assert (
        bearer_challenge(resource_metadata=PRM, scope="files:read files:write")
        == f'Bearer resource_metadata="{PRM}", scope="files:read files:write"'
    )


def test_all_parameters_in_order():
    assert bearer_challenge(
        realm="mcp",
        resource_metadata=PRM,
        scope=["a", "b", "a"],
        error="invalid_token",
        error_description="The access token expired",
    ) == (
        f'Bearer realm="mcp", resource_metadata="{PRM}", scope="a b",'
        ' error="invalid_token", error_description="The access token expired"'
    )


def test_realm_is_escaped_as_quoted_pairs():
    assert bearer_challenge(realm='say "hi" \\o/') == (
        'Bearer realm="say \\"hi\\" \\\\o/"'
    )


def test_description_is_made_safe():
    value = bearer_challenge(
        error="invalid_token",
        error_description='bad "token"\r\nSet-Cookie: x=1 \\ é',
    )
    assert value == (
        'Bearer error="invalid_token", error_description="bad \'token\''
        ' Set-Cookie: x=1 / ?"'
    )
    assert "\r" not in value and "\n" not in value


@pytest.mark.parametrize(
    "kwargs",
    [
        {"error": 'invalid"token'},
        {"error": "invalid token"},
        {"error": ""},
        {"scope": ['a"b']},
        {"scope": ["a\\b"]},
        {"scope": ["é"]},
        {"resource_metadata": "https://h/\r\nX: y"},
        {"realm": "caf\u00e9"},
    ],
)
def test_unsendable_values_are_refused(kwargs):
    with pytest.raises(ValueError):
        bearer_challenge(**kwargs)


def test_empty_scope_is_left_out():
    assert bearer_challenge(scope=[]) == "Bearer"
    assert bearer_challenge(scope="") == "Bearer"


def test_unauthorized_without_credential():
    error = Unauthorized("no token")
    assert error.status_code == 401
    assert error.error is None
    assert error.challenge(resource_metadata=PRM) == f'Bearer resource_metadata="{PRM}"'
    assert error.to_dict() == {"error_description": "no token"}


def test_unauthorized_invalid_token():
    error = Unauthorized("the access token has expired", error="invalid_token")
    assert error.challenge(resource_metadata=PRM) == (
        f'Bearer resource_metadata="{PRM}", error="invalid_token",'
        ' error_description="the access token has expired"'
    )
    assert error.to_dict() == {
        "error": "invalid_token",
        "error_description": "the access token has expired",
    }
    assert "invalid_token" in repr(error)


def test_forbidden_insufficient_scope():
    error = Forbidden("needs more", scopes=["files:write", "files:read"])
    assert error.status_code == 403
    assert error.error == "insufficient_scope"
    assert error.scopes == ("files:write", "files:read")
    assert error.challenge(resource_metadata=PRM) == (
        f'Bearer resource_metadata="{PRM}", scope="files:write files:read",'
        ' error="insufficient_scope", error_description="needs more"'
    )
    assert isinstance(error, AuthError)


def test_forbidden_without_scopes_has_no_error_code():
    error = Forbidden("not yours")
    assert error.error is None and error.status_code == 403


def test_status_code_override():
    assert AuthError("x", status_code=400).status_code == 400
    assert AuthError().status_code == 401
    assert str(AuthError()) == "AuthError"
