"""The settings every provider shares: :class:`ProviderOptions`.

Providers are keyword-only dataclasses built on it: each one declares only
the settings it adds or whose default it changes (``GoogleProvider`` its
``hosted_domain`` and its default ``scopes``), and its constructor is
generated from them, so no constructor forwards a parameter list to its
parent. ``__post_init__`` checks and normalises the settings; each provider
chains to its parent's.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

#: Client authentication methods at the token endpoint (:rfc:`8414#section-2`).
AUTH_METHODS = ("client_secret_post", "client_secret_basic", "none")


@dataclass(kw_only=True, eq=False, repr=False)
class ProviderOptions:
    """This app as a client of the upstream provider.

    :param base_url: public URL of this Flask app; the redirect URI to
        register at the provider is ``{base_url}/oauth/callback``.
    :param client_id: this app's client id at the provider.
    :param client_secret: its client secret.
    :param scopes: scopes to request, joined with spaces.
    :param timeout: seconds to connect and for each read, on every call.
    :param extra_authorize_params: more query parameters of the authorization
        URL (``prompt``, ``audience``...).
    :param token_endpoint_auth_method: one of :data:`AUTH_METHODS`.
    :param name: short name, used in logs and store keys.
    :param display_name: the provider's name as people read it, on the OAuth
        proxy's consent page ("sign in with Google"); ``None``: the host of
        its issuer or sign-in page. Changing it changes no store key.
    """

    base_url: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    scopes: Sequence[str] = ()
    timeout: float = 10.0
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_endpoint_auth_method: str = "client_secret_post"
    name: str = "oauth"
    display_name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.scopes, str):
            raise TypeError("scopes must be a sequence of strings, not a string")
        if not self.base_url or not self.client_id:
            raise ValueError("a provider needs base_url and client_id")
        if self.token_endpoint_auth_method not in AUTH_METHODS:
            raise ValueError(f"unknown token_endpoint_auth_method: {AUTH_METHODS}")
        if self.token_endpoint_auth_method != "none" and not self.client_secret:
            raise ValueError(f"{self.token_endpoint_auth_method} needs a client_secret")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = self.base_url.rstrip("/")
        self.scopes = tuple(dict.fromkeys(self.scopes))
        self.extra_authorize_params = dict(self.extra_authorize_params or {})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} client_id={self.client_id!r}>"

    @property
    def redirect_uri(self) -> str:
        """``{base_url}/oauth/callback``: registered at the upstream provider."""
        return f"{self.base_url}/oauth/callback"
