"""An HTTPS server on loopback serving client metadata documents, for the
Client ID Metadata Document tests (tests/proxy and tests/oauth_e2e).

* :class:`TestCA`: a certificate authority made with ``cryptography`` and a
  server certificate it signs for ``localhost``, ``127.0.0.1`` and
  :data:`TEST_NAMES`; ``ca_file`` is what ``REQUESTS_CA_BUNDLE`` names.
* :class:`DocumentServer`: a threaded HTTPS server whose answers tests set
  per path (:meth:`DocumentServer.serve`, :meth:`DocumentServer.document`):
  status, headers, body, a delay before the answer, a body trickled slowly.
  It counts the requests of every path (:meth:`DocumentServer.hits`) and
  records their ``Host`` header.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Host names the server certificate names besides ``localhost``; tests make
#: them resolve to loopback through a resolver hook. ``xn--pple-43d.test`` is
#: ``аpple.test`` with a Cyrillic ``а``.
TEST_NAMES = ("cimd.test", "metadata.internal.test", "xn--pple-43d.test")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class TestCA:
    """A CA and a loopback server certificate, written to ``folder``."""

    __test__ = False  # not a test class

    def __init__(self, folder: Path, name: str = "flask_mcp test CA") -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [
            x509.DNSName(host) for host in ("localhost", *TEST_NAMES)
        ]
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("localhost"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(names), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = folder / "ca.pem"
        self.cert_file = folder / "server.pem"
        self.key_file = folder / "server.key"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


@dataclass
class Answer:
    """How the server answers one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering at all.
    delay: float = 0.0
    #: Seconds between the bytes of the body (a slow answer).
    trickle: float = 0.0
    #: Send ``Content-Length`` (else the body ends when the connection does).
    length: bool = True


class DocumentServer:
    """The HTTPS server; ``url(path, host="localhost")`` builds its URLs."""

    def __init__(self, ca: TestCA) -> None:
        self.answers: dict[str, Answer] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self._lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.cert_file, ca.key_file)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        # The handshake happens in the handler's thread, not in accept().
        self.httpd.socket = context.wrap_socket(
            self.httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> DocumentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def serve(self, path: str, answer: Answer) -> None:
        with self._lock:
            self.answers[path] = answer

    def document(
        self,
        path: str,
        host: str = "localhost",
        cache: str | None = "max-age=300",
        **fields: t.Any,
    ) -> str:
        """Serve a valid client metadata document at ``path`` (``fields``
        added or replacing; a field set to ``None`` is left out); its URL."""
        client_id = self.url(path, host)
        document = {
            "client_id": client_id,
            "client_name": "Document Client",
            "redirect_uris": ["http://127.0.0.1:8765/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **fields,
        }
        body = json.dumps({k: v for k, v in document.items() if v is not None})
        headers = {"Content-Type": "application/json"}
        if cache:
            headers["Cache-Control"] = cache
        self.serve(path, Answer(body=body.encode(), headers=headers))
        return client_id

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen, _ in self.requests if seen == path)

    def hosts(self, path: str) -> list[str]:
        with self._lock:
            return [host for seen, host in self.requests if seen == path]


def _handler(server: DocumentServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.partition("?")[0]
            with server._lock:
                server.requests.append((path, self.headers.get("Host", "")))
                answer = server.answers.get(path, Answer(status=404))
            try:
                self._answer(answer)
            except (OSError, ssl.SSLError):
                pass  # the client cut the connection (timeouts, size caps)

        def _answer(self, answer: Answer) -> None:
            time.sleep(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.length and "Content-Length" not in answer.headers:
                self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if not answer.trickle:
                self.wfile.write(answer.body)
                return
            for byte in answer.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(answer.trickle)

        def handle(self) -> None:
            try:
                super().handle()
            except (OSError, ssl.SSLError):
                pass  # a failed handshake (an untrusted certificate...)

        def log_message(self, format: str, *args: t.Any) -> None:
            pass

    return Handler
