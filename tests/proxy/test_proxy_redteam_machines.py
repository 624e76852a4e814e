"""Second look at the grants without a browser (client credentials, ID-JAG):
clients that never log in through the browser, and what outlives them."""

from __future__ import annotations

import pytest

from . import test_proxy_enterprise as enterprise
from . import test_proxy_machine as machine

DAY = 86400


@pytest.fixture
def app(make_app, idp):
    return make_app(
        client_credentials=True,
        registration_token=machine.TOKEN,
        enterprise_idps=[idp.issuer],
    )


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture(scope="module")
def idp():
    from support.oidc import OIDCIssuer

    with OIDCIssuer(alg="ES256") as server:
        yield server


def register_for_assertions(http):
    reply = http.post(
        "/oauth/register",
        json={
            "client_name": "Corp Assistant",
            "grant_types": [enterprise.JWT_BEARER],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        headers={"Authorization": f"Bearer {machine.TOKEN}"},
    )
    assert reply.status_code == 201, reply.text
    return reply.json


def test_a_machine_client_in_use_outlives_the_unused_client_ttl(http, later):
    """A CI job's registration is renewed by its use, as a login renews a
    browser client's: it still works on day three, not only on day one."""
    client = machine.register(http)
    for _ in range(3):
        reply = machine.token(http, client)
        assert reply.status_code == 200, reply.text
        later(DAY - 60)
    assert machine.token(http, client).status_code == 200


def test_an_assertion_client_in_use_outlives_the_unused_client_ttl(http, idp, later):
    client = register_for_assertions(http)
    for _ in range(3):
        reply = enterprise.exchange(http, client, enterprise.mint(idp, client))
        assert reply.status_code == 200, reply.text
        later(DAY - 60)
    reply = enterprise.exchange(http, client, enterprise.mint(idp, client))
    assert reply.status_code == 200, reply.text


def test_a_machine_client_never_used_still_expires(http, later):
    client = machine.register(http)
    later(DAY + 1)
    enterprise.refused(machine.token(http, client), "invalid_client", 401)
