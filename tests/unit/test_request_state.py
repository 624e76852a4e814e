"""The sealed ``requestState``: one spelling, one use (framework-free)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import typing as t

import pytest

from flask_mcp.protocol.inputs import AnswerBook
from flask_mcp.protocol.inputs import InvalidState
from flask_mcp.protocol.inputs import StateCodec
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.protocol.jsonrpc import JsonRpcError

QUESTION = elicitation("Go?", {"type": "object", "properties": {}})
BINDING = {"p": "alice", "m": "tools/call", "d": "digest"}


class Claims:
    """Spent nonces in a set, as the store keeps them."""

    def __init__(self) -> None:
        self.spent: set[str] = set()

    def claim(self, nonce: str, ttl: float) -> bool:
        assert ttl > 0
        if nonce in self.spent:
            return False
        self.spent.add(nonce)
        return True

    def release(self, nonce: str) -> None:
        self.spent.discard(nonce)


def book(
    codec: StateCodec, state: str | None, answers: dict | None = None
) -> AnswerBook:
    params: dict[str, t.Any] = {"inputResponses": answers or {}}
    if state is not None:
        params["requestState"] = state
    return AnswerBook(codec, lambda: BINDING, params)


def first_state(codec: StateCodec) -> str:
    return book(codec, None).request_state({"go": QUESTION})


def test_every_seal_has_its_own_nonce() -> None:
    codec = StateCodec(b"k", 60)
    assert codec.open(codec.seal({}))["n"] != codec.open(codec.seal({}))["n"]


def respell(state: str, encode: t.Callable[[bytes], bytes], strip: bool) -> str:
    parts = []
    for part in state.split("."):
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        text = encode(raw).decode()
        parts.append(text.rstrip("=") if strip else text)
    return ".".join(parts)


@pytest.mark.parametrize(
    "spelling",
    [
        lambda s: respell(s, base64.urlsafe_b64encode, strip=False),  # padded
        lambda s: respell(s, base64.b64encode, strip=True),  # standard alphabet
        lambda s: respell(s, base64.b64encode, strip=False),
        lambda s: s + "=",
        lambda s: " " + s,
        lambda s: s.replace(".", ".\n"),
    ],
)
def test_only_the_canonical_spelling_opens(spelling: t.Callable[[str], str]) -> None:
    codec = StateCodec(b"k", 60)
    state = codec.seal({"x": "?>?>~~~" * 5})  # bytes whose base64 uses - and _
    other = spelling(state)
    assert other != state
    with pytest.raises(InvalidState, match="not one this server issued"):
        codec.open(other)
    assert codec.open(state)["x"] == "?>?>~~~" * 5


def test_set_unused_bits_are_refused() -> None:
    codec = StateCodec(b"k", 60)
    state = codec.seal({})
    body, mac = state.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(mac) % 4  # 32 bytes: 43 characters, 2 unused bits at the end
    twin = mac[:-1] + alphabet[alphabet.index(mac[-1]) | 1]
    assert base64.urlsafe_b64decode(twin + "=") == base64.urlsafe_b64decode(mac + "=")
    with pytest.raises(InvalidState):
        codec.open(f"{body}.{twin}")


def test_a_state_is_spent_by_the_round_that_uses_it() -> None:
    claims = Claims()
    codec = StateCodec(b"k", 60, claims=claims)
    state = first_state(codec)
    answer = {"go": {"action": "accept"}}
    assert book(codec, state, answer).lookup("go", QUESTION) == {"action": "accept"}
    with pytest.raises(JsonRpcError, match="already used") as refused:
        book(codec, state, answer)
    assert refused.value.code == -32602


def test_a_round_that_asks_again_gives_its_state_back() -> None:
    claims = Claims()
    codec = StateCodec(b"k", 60, claims=claims)
    state = first_state(codec)
    again = book(codec, state)
    assert again.lookup("go", QUESTION) is None  # not answered: asks again
    again.release()
    assert claims.spent == set()
    book(codec, state)  # usable once more
    assert len(claims.spent) == 1


def test_without_claims_nothing_is_remembered() -> None:
    codec = StateCodec(b"k", 60)
    state = first_state(codec)
    book(codec, state)
    book(codec, state).release()  # a no-op


def test_a_state_without_a_nonce_is_refused() -> None:
    """States sealed before nonces existed (or forged without one)."""
    codec = StateCodec(b"k", 60, claims=Claims())
    legacy = codec.seal({})
    payload = codec.open(legacy)
    del payload["n"]
    with pytest.raises(InvalidState):
        codec.open(_reseal(codec, payload))


def _reseal(codec: StateCodec, payload: dict) -> str:
    body = json.dumps(payload, separators=(",", ":")).encode()
    mac = hmac.new(codec._key, body, hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    return f"{b64(body)}.{b64(mac)}"
