"""Client ID Metadata Documents (CIMD): clients identified by an https URL.

A client hosts a small JSON document at a URL it controls and uses that URL
as its ``client_id``; the proxy fetches the document (safely: the URL is
chosen by whoever sends the request), checks it, and treats the client like
a registered one. The MCP specification prefers this to dynamic
registration (draft-ietf-oauth-client-id-metadata-document-00).

* :mod:`.options`: the settings (:class:`CIMDOptions`);
* :mod:`.addresses` and :mod:`.fetch`: the fetch and its SSRF defences;
* :mod:`.document`: what makes a URL and a document acceptable;
* :mod:`.clients`: documents become clients, cached in the shared store;
* :mod:`.assertion`: ``private_key_jwt`` client authentication.
"""

from __future__ import annotations

from .cimd_options import CIMDOptions
from .clients import ClientDocuments

__all__ = ["CIMDOptions", "ClientDocuments"]
