"""The providers package: its public names, module sizes, and that every
provider implements the Provider protocol of base.py. Its layer (no flask, no
proxy) is an import-linter contract in pyproject.toml."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import flask_mcp.auth.providers as providers
from flask_mcp.auth.providers import Auth0Provider
from flask_mcp.auth.providers import CognitoProvider
from flask_mcp.auth.providers import GitHubProvider
from flask_mcp.auth.providers import GitLabProvider
from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.providers import KeycloakProvider
from flask_mcp.auth.providers import MicrosoftProvider
from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.providers import OAuthSession
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.providers import OktaProvider
from flask_mcp.auth.providers import Provider

PACKAGE = Path(providers.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
PROVIDERS = [
    OAuthProvider,
    OIDCProvider,
    GoogleProvider,
    GitHubProvider,
    MicrosoftProvider,
    KeycloakProvider,
    OktaProvider,
    Auth0Provider,
    CognitoProvider,
    GitLabProvider,
]

COMMON = {
    "base_url": "https://mcp.example.com",
    "client_id": "c",
    "client_secret": "s",
}
ARGUMENTS: dict[type, dict[str, str]] = {
    OAuthProvider: COMMON | {"authorize_url": "https://a/", "token_url": "https://t/"},
    OIDCProvider: COMMON | {"issuer": "https://issuer.example.com"},
    GoogleProvider: COMMON,
    GitHubProvider: COMMON,
    MicrosoftProvider: COMMON,
    KeycloakProvider: COMMON | {"server_url": "https://kc", "realm": "acme"},
    OktaProvider: COMMON | {"domain": "dev-1.okta.com"},
    Auth0Provider: COMMON | {"domain": "acme.us.auth0.com"},
    CognitoProvider: COMMON
    | {"user_pool_id": "us-east-1_Abc", "domain": "acme.auth.amazoncognito.com"},
    GitLabProvider: COMMON,
}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_are_small(path):
    assert len(path.read_text().splitlines()) < 300


def test_all_is_complete():
    assert sorted(providers.__all__) == sorted(
        [
            "OAuthProvider",
            "OIDCProvider",
            "GoogleProvider",
            "GitHubProvider",
            "MicrosoftProvider",
            "OAuthSession",
            "GoogleSession",
            "GitHubSession",
            "MicrosoftSession",
            "AzureProvider",
            "KeycloakProvider",
            "OktaProvider",
            "Auth0Provider",
            "CognitoProvider",
            "GitLabProvider",
            "GitLabSession",
            "UpstreamTokens",
            "UpstreamError",
            "Provider",
        ]
    )
    for name in providers.__all__:
        assert getattr(providers, name).__module__.startswith(
            "flask_mcp.auth.providers"
        )


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda c: c.__name__)
def test_providers_implement_the_protocol(cls):
    for name, member in vars(Provider).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            assert isinstance(getattr(cls, name), property), name
        elif callable(member):
            expected = inspect.signature(member)
            actual = inspect.signature(getattr(cls, name))
            assert list(actual.parameters) == list(expected.parameters), name
            for param in expected.parameters.values():
                assert actual.parameters[param.name].kind == param.kind, (name, param)
    instance = cls(**ARGUMENTS[cls])
    for attribute in Provider.__annotations__:
        assert hasattr(instance, attribute), attribute
    assert instance.redirect_uri == "https://mcp.example.com/oauth/callback"
    assert issubclass(cls.session_class, OAuthSession)
    assert cls.name and cls.name != "oauth" or cls is OAuthProvider
