"""What bearer JWT verification costs per MCP ``tools/call`` under gunicorn.

Four servers run at once, each ``gunicorn -w 2 --no-control-socket`` (sync
workers) on its own loopback port, all serving the same ``echo`` tool, and are
loaded in interleaved rounds so that the noise of a shared machine hits every
variant alike:

* ``stateless``: FlaskMCP with ``MCP_STATELESS = True``, no authentication;
* ``stateless_jwt``: the same behind
  ``bearer_auth(JWTVerifier(issuer=..., audience=..., jwks_uri=...))``;
* ``session`` and ``session_jwt``: the same pair with sessions in the default
  file store (skipped with ``--no-sessions``).

``--inprocess`` adds ``stateless_static``, whose ``authenticate`` returns a
prebuilt session without verifying anything: the transport's own share of an
authenticated request.

The issuer is this process: it makes a key pair (RS256 or ES256) with joserfc,
serves the public JWK Set on loopback with a threaded ``http.server`` and mints
one access token (valid one hour, with ``sub`` and ``scope``), which wrk sends
as ``Authorization: Bearer ...`` from a Lua wrapper around ``tools_call.lua``.

Run from the repository root::

    python -m benchmarks.bench_auth [--rounds 6] [--duration 5] [--alg RS256]
    python -m benchmarks.bench_auth --inprocess [--profile stateless_jwt]

It prints a markdown table, an in-process breakdown of one ``verify`` call
(skip it with ``--no-breakdown``) and writes ``benchmarks/results/auth.json``.
``--inprocess`` runs no servers: it calls the four apps' WSGI callables
directly (see ``profile_tools_call.py``) and prints µs per call, the
breakdown, and with ``--profile`` a cProfile. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import requests

from benchmarks import apps
from benchmarks import profile_tools_call
from benchmarks.bench_tools_call import LUA
from benchmarks.bench_tools_call import Variant
from benchmarks.bench_tools_call import add_run_arguments
from benchmarks.bench_tools_call import measure
from benchmarks.bench_tools_call import record
from benchmarks.bench_tools_call import summarize
from benchmarks.bench_tools_call import write_result
from benchmarks.call import BODY
from benchmarks.call import HEADERS
from benchmarks.call import PATH
from benchmarks.profile_tools_call import per_call_us
from benchmarks.profile_tools_call import print_profile

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "auth.json"
AUDIENCE = "urn:flask-mcp:bench"
SUBJECT = "bench-user"
SCOPE = "mcp:tools mcp:resources"
TOKEN_LIFETIME = 3600
#: Issue target: authenticated throughput relative to the unauthenticated one.
TARGET = 0.80
#: Authenticated variant -> the unauthenticated variant it is compared with.
BASELINES = {"stateless_jwt": "stateless", "session_jwt": "session"}
FACTORIES: dict[str, t.Callable[[], t.Any]] = {
    "stateless": apps.stateless_app,
    "stateless_jwt": apps.stateless_jwt_app,
    "session": apps.session_app,
    "session_jwt": apps.session_jwt_app,
}
#: In-process only: the transport's auth work without a JWT to verify.
STATIC = {"stateless_static": apps.stateless_static_auth_app}


# -- the issuer --------------------------------------------------------------


class Issuer:
    """A key pair, its public JWK Set served on loopback, and minted tokens.

    The JWK Set is fetched once by the first worker that sees a token and then
    read from the app's store by every worker, so ``fetches`` stays small.
    """

    def __init__(self, alg: str = "RS256") -> None:
        from joserfc.jwk import ECKey
        from joserfc.jwk import RSAKey

        parameters: t.Any = {"kid": f"bench-{alg.lower()}", "use": "sig", "alg": alg}
        if alg == "RS256":
            self.key: t.Any = RSAKey.generate_key(2048, parameters=parameters)
        elif alg == "ES256":
            self.key = ECKey.generate_key("P-256", parameters=parameters)
        else:
            raise ValueError(f"unsupported algorithm {alg!r}")
        self.alg = alg
        self.jwks = json.dumps({"keys": [self.key.as_dict(private=False)]}).encode()
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                issuer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(issuer.jwks)))
                self.end_headers()
                self.wfile.write(issuer.jwks)

            def log_message(self, format: str, *args: t.Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.jwks_url = f"{self.url}/jwks.json"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Issuer:
        self._thread.start()
        # The apps read these; gunicorn inherits them from os.environ.
        os.environ["BENCH_JWT_ISSUER"] = self.url
        os.environ["BENCH_JWT_AUDIENCE"] = AUDIENCE
        os.environ["BENCH_JWKS_URL"] = self.jwks_url
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def mint(self, lifetime: int = TOKEN_LIFETIME, **claims: t.Any) -> str:
        from joserfc import jwt

        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": SUBJECT,
            "client_id": "bench-client",
            "scope": SCOPE,
            "iat": now,
            "exp": now + lifetime,
            "jti": os.urandom(8).hex(),
            **claims,
        }
        header = {"alg": self.alg, "kid": self.key.kid, "typ": "at+jwt"}
        return jwt.encode(header, payload, self.key)


def write_script(folder: Path, name: str, headers: dict[str, str]) -> Path:
    """A wrk script: ``tools_call.lua`` plus ``headers`` on every request."""
    lines = [f"dofile({json.dumps(str(LUA))})"]
    for key, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
    path = folder / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def check_refused(variant: Variant, issuer: Issuer) -> None:
    """The JWT server refuses no token, a bad signature and an expired token."""
    stranger = Issuer(issuer.alg)  # same kid, another key: a forged signature
    stranger.url = issuer.url
    cases = {
        "no token": {},
        "forged": {"Authorization": f"Bearer {stranger.mint()}"},
        "expired": {"Authorization": f"Bearer {issuer.mint(lifetime=-120)}"},
        "other audience": {"Authorization": f"Bearer {issuer.mint(aud='other')}"},
    }
    stranger.server.server_close()
    for case, extra in cases.items():
        headers = {**HEADERS, **extra}
        if variant.session_id:
            headers["Mcp-Session-Id"] = variant.session_id
        response = requests.post(variant.url, data=BODY, headers=headers, timeout=10)
        if response.status_code != 401:
            raise RuntimeError(
                f"{variant.name}: {case} answered {response.status_code}, not 401"
            )


# -- where the time of one verification goes (in-process) --------------------


def _per_call(fn: t.Callable[[], t.Any], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def verify_breakdown(
    issuer: Issuer, token: str, calls: int = 2000, rounds: int = 7
) -> list[dict[str, t.Any]]:
    """CPU µs of each step of ``JWTVerifier.verify``, timed one by one.

    Runs inside the app context of :func:`apps.stateless_jwt_app`, so the
    verifier's JWK Set comes from the same file store as in a worker. The
    steps are the library's own calls (see ``flask_mcp/auth/jwt.py`` and
    ``jwks.py``), in the order ``verify`` makes them.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from flask import request
    from joserfc import jwt as jose_jwt
    from joserfc.jws import extract_compact

    from flask_mcp.auth import JWTVerifier
    from flask_mcp.auth import TokenSession
    from flask_mcp.auth import bearer_auth
    from flask_mcp.store import Store
    from flask_mcp.store.backends import MemoryStoreBackend

    app = apps.stateless_jwt_app()
    verifier = JWTVerifier(issuer.url, AUDIENCE, jwks_uri=issuer.jwks_url)
    in_memory = JWTVerifier(
        issuer.url,
        AUDIENCE,
        jwks_uri=issuer.jwks_url,
        store=Store(MemoryStoreBackend(), "bench:"),
    )
    authenticate = bearer_auth(verifier)
    uri, alg, kid = issuer.jwks_url, issuer.alg, issuer.key.kid
    head, _, sig64 = token.rpartition(".")
    signing_input = head.encode("ascii")
    signature = base64.urlsafe_b64decode(sig64 + "=" * (-len(sig64) % 4))
    public = issuer.key.get_op_key("verify")
    if alg == "RS256":

        def raw_verify() -> None:
            public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        half = len(signature) // 2
        der = encode_dss_signature(
            int.from_bytes(signature[:half], "big"),
            int.from_bytes(signature[half:], "big"),
        )

        def raw_verify() -> None:
            public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))

    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    with app.test_request_context(PATH, method="POST", headers=headers, data=BODY):
        request_class, environ = request.__class__, request.environ
        authenticate(request_class(environ))  # fetches the JWK Set once
        in_memory.verify(token)
        document = verifier.discovery.get(uri)
        key = verifier._keys.find(uri, alg, kid)[0]
        claims = jose_jwt.decode(token, key, registry=verifier._registry).claims

        def fingerprint() -> str:
            return hashlib.sha256(
                json.dumps(document, sort_keys=True, default=str).encode()
            ).hexdigest()

        def claims_check() -> None:
            jose_jwt.JWTClaimsRegistry(
                leeway=verifier.leeway,
                iss={"essential": True, "value": verifier.issuer},
                aud={"essential": True, "values": list(verifier.audiences)},
                exp={"essential": True},
            ).validate(claims)

        def fresh_request() -> None:
            # A new request object each time, as in a worker: ``args`` and
            # ``headers`` are parsed lazily once per request.
            authenticate(request_class(environ))

        steps: list[tuple[str, str, t.Callable[[], t.Any]]] = [
            (
                "total",
                "bearer_auth(verifier)(request), new request object each call",
                fresh_request,
            ),
            (
                "request_object",
                "Request(environ) alone (part of total; a worker makes it anyway)",
                lambda: request_class(environ),
            ),
            ("verify", "JWTVerifier.verify(token)", lambda: verifier.verify(token)),
            (
                "verify_memory_store",
                "the same with store=Store(MemoryStoreBackend())",
                lambda: in_memory.verify(token),
            ),
            (
                "jwks_find",
                "jwks.py JWKSet.find: store read + fingerprint + _matching",
                lambda: verifier._keys.find(uri, alg, kid),
            ),
            (
                "jwks_store_read",
                "discovery.py DiscoveryDocumentCache.get: FileStoreBackend.get",
                lambda: verifier.discovery.get(uri),
            ),
            (
                "jwks_fingerprint",
                "jwks.py JWKSet.keys: sha256(json.dumps(document, sort_keys))",
                fingerprint,
            ),
            (
                "header_parse",
                "jwt.py _verified_claims: extract_compact(token).headers()",
                lambda: extract_compact(token.encode("ascii")).headers(),
            ),
            (
                "jose_decode",
                "jwt.py _decode: joserfc jwt.decode (parse again + signature)",
                lambda: jose_jwt.decode(token, key, registry=verifier._registry),
            ),
            (
                "signature_only",
                f"cryptography {alg} verify of the signing input (the floor)",
                raw_verify,
            ),
            (
                "claims_registry",
                "jwt.py: JWTClaimsRegistry(...) built + validate(claims)",
                claims_check,
            ),
            (
                "token_session",
                "sessions.py TokenSession.from_claims",
                lambda: TokenSession.from_claims(
                    claims, token=token, names=verifier.claim_names
                ),
            ),
        ]
        times: dict[str, list[float]] = {name: [] for name, _, _ in steps}
        for _, _, fn in steps:
            _per_call(fn, calls // 10)  # warm up
        for _ in range(rounds):
            for name, _, fn in steps:
                times[name].append(_per_call(fn, calls))
    return [
        {
            "step": name,
            "what": what,
            "us": round(statistics.median(times[name]), 1),
            "us_min": round(min(times[name]), 1),
        }
        for name, what, _ in steps
    ]


def breakdown_table(rows: list[dict[str, t.Any]]) -> str:
    lines = [
        "| step | what is timed | CPU µs/call (median) | min |",
        "|---|---|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['step']} | {row['what']} | {row['us']:.1f} | {row['us_min']:.1f} |"
        )
    return "\n".join(lines)


# -- the whole app, in-process -----------------------------------------------


def prepare(name: str, token: str) -> tuple[t.Any, dict[str, t.Any]]:
    """The app and a ready environ for one ``tools/call`` (session opened)."""
    auth = {} if name in BASELINES.values() else {"Authorization": f"Bearer {token}"}
    return profile_tools_call.prepare(name, {**FACTORIES, **STATIC}[name], auth)


def inprocess(args: argparse.Namespace, issuer: Issuer, token: str) -> int:
    names = [n for n in FACTORIES if args.sessions or not n.startswith("session")]
    names.insert(1, "stateless_static")
    prepared = {name: prepare(name, token) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    for app, environ in prepared.values():
        per_call_us(app, environ, args.calls // 10)  # warm up
    for _ in range(args.inprocess_rounds):
        for name, (app, environ) in prepared.items():
            times[name].append(per_call_us(app, environ, args.calls))
    baselines = {**BASELINES, "stateless_static": "stateless"}
    print("| variant | µs/call (median) | + vs no auth | x no auth |")
    print("|---|---:|---:|---:|")
    for name in names:
        us = statistics.median(times[name])
        base = statistics.median(times[baselines.get(name, name)])
        print(f"| {name} | {us:.1f} | {us - base:+.1f} | {us / base:.2f} |")
    if not args.no_breakdown:
        print(f"\nOne {issuer.alg} verification, step by step:\n")
        print(
            breakdown_table(
                verify_breakdown(issuer, token, args.calls, args.inprocess_rounds)
            )
        )
    if args.profile:
        app, environ = prepared[args.profile]
        print_profile(args.profile, app, environ, args.calls, args.sort, args.top)
    return 0


# -- report ------------------------------------------------------------------


def table(summary: dict[str, dict[str, t.Any]]) -> str:
    lines = [
        "| variant | req/s (median) | req/s min-max | p50 ms | p99 ms"
        " | server CPU µs/call | + CPU µs/call | req/s vs no auth"
        " | CPU eff. vs no auth | worker RSS MB | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in summary.items():
        base = s.get("baseline")
        if base is None:
            added, rps_ratio, cpu_ratio, verdict = "-", "1", "1", "-"
        else:
            added = f"{s['added_cpu_us_per_call']:+.0f}"
            rps_ratio = f"{s['rps_ratio']:.3f}"
            cpu_ratio = f"{s['cpu_ratio']:.3f}"
            ok = "ok" if s["meets_ratio"] else "MISSED"
            verdict = f"≥{s['target_ratio']:.2f}: {ok}"
        lines.append(
            f"| {name} | {s['rps_median']:.0f} | {s['rps_min']:.0f}-{s['rps_max']:.0f}"
            f" | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_us_per_call']:.0f}"
            f" | {added} | {rps_ratio} | {cpu_ratio}"
            f" | {' / '.join(f'{x:.1f}' for x in s['worker_rss_mb'])} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.add_argument(
        "--alg", choices=("RS256", "ES256"), default="RS256", help="token algorithm"
    )
    parser.add_argument(
        "--no-sessions",
        dest="sessions",
        action="store_false",
        help="only the stateless pair",
    )
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the in-process breakdown"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="JSON results file"
    )
    parser.add_argument(
        "--inprocess",
        action="store_true",
        help="no servers: µs/call of the WSGI apps called directly",
    )
    parser.add_argument(
        "--calls", type=int, default=3000, help="calls per in-process round"
    )
    parser.add_argument(
        "--inprocess-rounds", type=int, default=7, help="in-process rounds"
    )
    parser.add_argument("--profile", choices=sorted(FACTORIES), help="cProfile this")
    parser.add_argument("--top", type=int, default=30, help="rows of the profile")
    parser.add_argument(
        "--sort", default="tottime", help="pstats sort key (tottime, cumulative)"
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk") and not args.inprocess:
        parser.error("wrk is needed (apt-get install wrk): pyload sends no token")

    tmp = Path(tempfile.mkdtemp(prefix="flask_mcp_bench_auth_"))
    instance = tmp / "instance"
    instance.mkdir()
    os.environ.setdefault("BENCH_INSTANCE_PATH", str(instance))  # in-process apps
    try:
        with Issuer(args.alg) as issuer:
            token = issuer.mint()
            if args.inprocess:
                return inprocess(args, issuer, token)
            return run(args, issuer, token, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, issuer: Issuer, token: str, tmp: Path) -> int:
    bearer = {"Authorization": f"Bearer {token}"}
    script = write_script(tmp, "bearer", bearer)
    variants = [
        Variant("stateless", "stateless_app"),
        Variant(
            "stateless_jwt", "stateless_jwt_app", script=script, extra_headers=bearer
        ),
    ]
    if args.sessions:
        variants += [
            Variant("session", "session_app", stateful=True),
            Variant(
                "session_jwt",
                "session_jwt_app",
                stateful=True,
                script=script,
                extra_headers=bearer,
            ),
        ]

    def refuses(variant: Variant) -> None:
        if variant.extra_headers:
            check_refused(variant, issuer)

    print(
        f"issuer {issuer.url} alg={issuer.alg} token {len(token)} bytes",
        file=sys.stderr,
    )
    measure(variants, args, client="wrk", ready=refuses)
    fetches = issuer.fetches  # before the breakdown, which fetches again
    names = {v.name for v in variants}
    baselines = {k: v for k, v in BASELINES.items() if k in names}
    summary = summarize(
        variants,
        baselines=baselines,
        targets=dict.fromkeys(baselines, TARGET),
        rss_target=None,
    )
    for name, base in baselines.items():
        summary[name]["added_cpu_us_per_call"] = round(
            summary[name]["cpu_us_per_call"] - summary[base]["cpu_us_per_call"], 1
        )
    report = table(summary)
    print(report)

    breakdown = None
    if not args.no_breakdown:
        breakdown = verify_breakdown(issuer, token)
        print(f"\nOne {issuer.alg} verification, in-process, step by step:\n")
        print(breakdown_table(breakdown))

    from importlib.metadata import version

    result = record("auth", args, variants, "wrk")
    result["versions"].update({n: version(n) for n in ("joserfc", "cryptography")})
    result["settings"].update(
        {
            "baselines": baselines,
            "alg": issuer.alg,
            "token_bytes": len(token),
            "jwks_fetches": fetches,
        }
    )
    result.update(
        {
            "targets": {f"{name}_ratio": TARGET for name in baselines},
            "summary": summary,
            "rounds": {v.name: v.rounds for v in variants},
            "table": report,
            "verify_breakdown_us": breakdown,
        }
    )
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
