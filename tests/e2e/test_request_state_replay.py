"""A final-round ``requestState`` runs its tool at most once, on any host.

Two gunicorns (2 sync workers each) share one Redis, as two hosts would.
The tool asks one question, then appends a line to a file: the number of
lines is the number of times the work was done. Every retry is built as a
conforming 2026-07-28 client builds it.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import typing as t
from pathlib import Path

import pytest
import requests
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from support import GunicornServer

E2E_DIR = Path(__file__).resolve().parent
TESTS_DIR = E2E_DIR.parent
MODERN = "2026-07-28"
CONFIRM = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}


def create_app() -> Flask:
    """A server whose one tool asks, then records that it did its work."""
    app = Flask(__name__, instance_path=os.environ["EXAMPLE_INSTANCE_PATH"])
    app.config["SECRET_KEY"] = "one secret for both hosts"
    app.config["MCP_STORE_URL"] = os.environ["MCP_STORE_URL"]
    mcp = FlaskMCP(name="replay")

    @mcp.tool()
    def transfer(ledger: str, ctx: Context) -> str:
        """Asks for a confirmation, then writes one line to ``ledger``."""
        ctx.elicit("Transfer?", CONFIRM, key="go")
        with open(ledger, "a", encoding="utf-8") as file:
            file.write("transferred\n")
        return "transferred"

    @mcp.tool()
    def two_steps(ledger: str, ctx: Context) -> str:
        """Asks twice, then writes one line to ``ledger``."""
        ctx.elicit("First?", CONFIRM, key="first")
        ctx.elicit("Second?", CONFIRM, key="second")
        with open(ledger, "a", encoding="utf-8") as file:
            file.write("done\n")
        return "done"

    mcp.init_app(app)
    return app


@pytest.fixture(scope="module")
def hosts(
    redis_server: t.Any, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[tuple[str, str]]:
    store = redis_server.url.rsplit("/", 1)[0] + "/5"
    servers = []
    try:
        for name in ("a", "b"):
            env = {
                "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp(name)),
                "MCP_STORE_URL": store,
            }
            server = GunicornServer(
                app="test_request_state_replay:create_app()",
                env=env,
                workers=2,
                args=["--pythonpath", f"{E2E_DIR},{TESTS_DIR}"],
                clean_log=True,
            )
            servers.append(server.start())
        yield servers[0].mcp_url, servers[1].mcp_url
    finally:
        for server in servers:
            server.close()


def call(name: str, ledger: Path, request_id: int = 1, **params: t.Any) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {
            "name": name,
            "arguments": {"ledger": str(ledger)},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            },
            **params,
        },
    }


def send(url: str, body: dict) -> tuple[int, dict]:
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": body["params"]["name"],
    }
    response = requests.post(url, data=json.dumps(body), headers=headers, timeout=30)
    return response.status_code, response.json()


def ask(url: str, name: str, ledger: Path) -> dict:
    status, message = send(url, call(name, ledger))
    assert status == 200 and message["result"]["resultType"] == "input_required"
    return t.cast(dict, message["result"])


def answer(name: str, ledger: Path, asked: dict, request_id: int = 2) -> dict:
    responses = {
        key: {"action": "accept", "content": {"ok": True}}
        for key in asked["inputRequests"]
    }
    return call(
        name,
        ledger,
        request_id,
        inputResponses=responses,
        requestState=asked["requestState"],
    )


def runs(ledger: Path) -> int:
    return len(ledger.read_text().splitlines()) if ledger.exists() else 0


def test_a_final_round_state_runs_the_tool_once(
    hosts: tuple[str, str], tmp_path: Path
) -> None:
    first, second = hosts
    ledger = tmp_path / "ledger"
    final = answer("transfer", ledger, ask(first, "transfer", ledger))
    assert send(first, final) == (
        200,
        {"jsonrpc": "2.0", "id": 2, "result": _complete("transferred")},
    )
    for url in (first, first, second):  # the same worker pool, then another host
        status, message = send(url, final)
        assert status == 400
        assert message["error"]["code"] == -32602
        assert "already used" in message["error"]["message"]
    assert runs(ledger) == 1


def test_racing_replays_run_the_tool_once(
    hosts: tuple[str, str], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    final = answer("transfer", ledger, ask(hosts[0], "transfer", ledger))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: send(hosts[i % 2], final), range(8)))
    assert sorted(status for status, _ in answers) == [200] + [400] * 7
    assert runs(ledger) == 1


def test_an_intermediate_state_may_be_sent_again(
    hosts: tuple[str, str], tmp_path: Path
) -> None:
    """A client whose response was lost retries the round: the round only
    asked, so it is answered again, and the request still finishes once."""
    ledger = tmp_path / "ledger"
    asked = ask(hosts[0], "two_steps", ledger)
    middle = answer("two_steps", ledger, asked)
    rounds = [send(url, middle) for url in (hosts[0], hosts[1])]
    for status, message in rounds:
        assert status == 200
        assert list(message["result"]["inputRequests"]) == ["second"]
    final = answer("two_steps", ledger, rounds[1][1]["result"], request_id=3)
    final["params"]["inputResponses"]["first"] = {
        "action": "accept",
        "content": {"ok": True},
    }
    status, message = send(hosts[0], final)
    assert status == 200 and message["result"]["content"][0]["text"] == "done"
    assert send(hosts[1], final)[0] == 400
    assert runs(ledger) == 1


def reencodings(state: str) -> list[str]:
    """The same bytes as ``state``, spelled as this server never spells them."""
    parts = state.split(".")
    raw = [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in parts]
    padded = ".".join(base64.urlsafe_b64encode(r).decode() for r in raw)
    standard = ".".join(base64.b64encode(r).decode().rstrip("=") for r in raw)
    spellings = [padded, standard]
    # A last character whose unused low bits are set decodes to the same bytes.
    body, mac = parts
    if len(mac) % 4:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        index = alphabet.index(mac[-1])
        spellings.append(f"{body}.{mac[:-1]}{alphabet[index | 1]}")
    return [s for s in spellings if s != state]


def test_only_the_canonical_encoding_is_accepted(
    hosts: tuple[str, str], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    asked = ask(hosts[0], "transfer", ledger)
    state = asked["requestState"]
    final = answer("transfer", ledger, asked)
    variants = reencodings(state)
    assert len(variants) >= 2
    for variant in variants:
        forged = json.loads(json.dumps(final))
        forged["params"]["requestState"] = variant
        status, message = send(hosts[1], forged)
        assert (status, message["error"]["code"]) == (400, -32602), variant
        assert "not one this server issued" in message["error"]["message"]
    assert runs(ledger) == 0
    # None of them spent the real one.
    assert send(hosts[1], final)[0] == 200
    assert runs(ledger) == 1


def _complete(text: str) -> dict:
    return {
        "content": [{"type": "text", "text": text}],
        "resultType": "complete",
        "_meta": {
            "io.modelcontextprotocol/serverInfo": {"name": "replay", "version": "0.1.0"}
        },
    }
