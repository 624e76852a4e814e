"""Names as the consent page shows them to people.

* Host names: a name in another script can imitate one the user knows
  (``аpple.com`` with a Cyrillic ``а`` is fetched from ``xn--pple-43d.com``).
  :func:`shown_host` gives both forms of an internationalised name, the
  Unicode one and the ASCII one the network uses (IDNA, as ``requests``
  encodes it to connect), so the page can show them side by side with a
  warning.
* The upstream provider: :func:`provider_display_name` is its
  ``display_name`` setting, else something a person recognises, never the
  internal ``name`` that keys the store.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna


@dataclass(frozen=True)
class ShownHost:
    """One host (and port), in the two forms a page may show."""

    #: The Unicode form, as people read it (``аpple.com:8443``).
    text: str
    #: The ASCII form the network uses (``xn--pple-43d.com:8443``).
    ascii: str

    @property
    def international(self) -> bool:
        """Whether the forms differ: the name is not plain ASCII, and may
        imitate another one."""
        return self.text != self.ascii

    @property
    def ascii_if_different(self) -> str | None:
        """The ASCII form when it is not :attr:`text`: what the page shows
        beside the name, with the warning."""
        return self.ascii if self.international else None

    def __str__(self) -> str:
        return self.text


def shown_host(netloc: str) -> ShownHost:
    """Both forms of ``netloc`` (``host`` or ``host:port``; IPv6 literals in
    brackets stay as they are).

    A name that IDNA cannot encode or decode is shown escaped
    (``\\u0430pple.com``) in the ASCII form: the warning is shown either way.
    """
    host, port = _split(netloc)
    suffix = f":{port}" if port else ""
    if host.startswith("["):
        return ShownHost(netloc, netloc)
    unicode_form, ascii_form = _forms(host)
    return ShownHost(unicode_form + suffix, ascii_form + suffix)


def _split(netloc: str) -> tuple[str, str]:
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else ""
    host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    return host, port


def _forms(host: str) -> tuple[str, str]:
    """``(unicode, ascii)`` of a host name."""
    if host.isascii():
        ascii_form = host.lower()
        if not any(label.startswith("xn--") for label in ascii_form.split(".")):
            return ascii_form, ascii_form
        try:
            return idna.decode(ascii_form), ascii_form
        except (idna.IDNAError, UnicodeError, ValueError):
            return ascii_form, ascii_form  # shown as the network uses it
    try:
        return host, idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return host, host.encode("ascii", "backslashreplace").decode("ascii")


def provider_display_name(provider: t.Any) -> str:
    """How the consent page names the upstream provider ("sign in with ..."):
    its ``display_name`` setting (the ready-made providers default to their
    company's name); else the host of its issuer or sign-in page, which is
    what the user will see in the address bar; else its ``name``."""
    value = getattr(provider, "display_name", None)
    if isinstance(value, str) and value.strip():
        return value.strip()
    for name in ("issuer", "authorize_url"):
        value = getattr(provider, name, None)
        if isinstance(value, str) and urlsplit(value).netloc:
            return shown_host(urlsplit(value).netloc).text
    return str(provider.name)
