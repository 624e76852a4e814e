"""Questions a handler asks the client: elicitation, sampling and roots.

One handler source serves both eras. On a legacy session each question is a
live server-to-client request. On a modern request (2026-07-28, "Multi
Round-Trip Requests") a question without an answer ends the run with an
``input_required`` result; the client retries with the answers, and the
handler runs again from the start. Answers from earlier rounds travel in
``requestState``, sealed by :class:`StateCodec` and bound to the principal,
the method, the call's arguments and an expiry, so a retry cannot be
replayed by another user, on another call, or late.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import typing as t
from collections import abc
from dataclasses import dataclass

from ..errors import FlaskMCPError
from .jsonrpc import INVALID_PARAMS
from .jsonrpc import JsonRpcError

#: The methods that may answer ``input_required`` (MRTR "Supported Requests").
INPUT_METHODS = frozenset({"tools/call", "prompts/get", "resources/read"})
#: Params that carry the MRTR exchange, left out of the call's digest.
_EXCHANGE_KEYS = frozenset({"_meta", "inputResponses", "requestState"})


@dataclass(frozen=True)
class InputRequest:
    """One question for the client, as the spec's request object."""

    method: str
    params: dict[str, t.Any]

    def to_dict(self) -> dict[str, t.Any]:
        return {"method": self.method, "params": self.params}

    def digest(self) -> str:
        """Identifies the question, so an answer is never reused for another."""
        return _digest(self.to_dict())


def elicitation(message: str, schema: abc.Mapping[str, t.Any]) -> InputRequest:
    """Ask the user to fill a form shaped by ``schema`` (flat object schema)."""
    return InputRequest(
        "elicitation/create",
        {"mode": "form", "message": message, "requestedSchema": dict(schema)},
    )


def url_elicitation(message: str, url: str) -> InputRequest:
    """Send the user to ``url`` for an interaction that must bypass the client."""
    return InputRequest(
        "elicitation/create", {"mode": "url", "message": message, "url": url}
    )


def sampling(
    messages: str | list[dict[str, t.Any]],
    *,
    max_tokens: int = 512,
    system_prompt: str | None = None,
    **params: t.Any,
) -> InputRequest:
    """Ask the client's model for a completion; ``params`` use the spec's names
    (``temperature``, ``modelPreferences``, ``tools``, ``toolChoice``...)."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
    body: dict[str, t.Any] = {"messages": messages, "maxTokens": max_tokens, **params}
    if system_prompt is not None:
        body["systemPrompt"] = system_prompt
    return InputRequest("sampling/createMessage", body)


def roots() -> InputRequest:
    """Ask for the client's roots (the folders or URIs it works in)."""
    return InputRequest("roots/list", {})


def required_capability(request: InputRequest) -> dict[str, t.Any]:
    """The ``ClientCapabilities`` fragment a question needs.

    Sampling with ``tools`` also needs ``sampling.tools``; URL elicitation
    needs ``elicitation.url`` (MCP 2025-11-25).
    """
    if request.method == "sampling/createMessage":
        if "tools" in request.params or "toolChoice" in request.params:
            return {"sampling": {"tools": {}}}
        return {"sampling": {}}
    if request.method == "elicitation/create":
        if request.params.get("mode") == "url":
            return {"elicitation": {"url": {}}}
        return {"elicitation": {}}
    return {"roots": {}}


def declares(
    capabilities: abc.Mapping[str, t.Any], needed: abc.Mapping[str, t.Any]
) -> bool:
    """Whether the client's capabilities include ``needed``.

    An empty ``elicitation`` object means form mode (the 2025-06-18 form).
    """
    for name, sub in needed.items():
        have = capabilities.get(name)
        if not isinstance(have, dict):
            return False
        for key in sub:
            if key in have:
                continue
            if name == "elicitation" and key == "form" and not have:
                continue
            return False
    return True


class InputRequired(FlaskMCPError):
    """Raised inside a modern handler: these questions have no answer yet."""

    def __init__(self, requests: dict[str, InputRequest]) -> None:
        super().__init__(", ".join(requests))
        self.requests = requests


class InvalidState(FlaskMCPError, ValueError):
    """A ``requestState`` that is forged, tampered with, expired or foreign."""


class StateCodec:
    """Seals ``requestState``: JSON, HMAC-SHA256 over the server's secret.

    The state is signed, not encrypted: it holds the client's own answers
    and what the handler put in ``ctx.state``, never server secrets.

    :param key: the secret, or a function giving it on first use (the app's
        ``SECRET_KEY``, or a key generated once in the shared store).
    :param ttl: seconds a state stays valid.
    """

    def __init__(self, key: bytes | t.Callable[[], bytes], ttl: float) -> None:
        self._source = key
        self._derived: bytes | None = None
        self.ttl = ttl

    @property
    def _key(self) -> bytes:
        if self._derived is None:
            secret = self._source() if callable(self._source) else self._source
            self._derived = hashlib.sha256(
                b"flask_mcp requestState\x00" + secret
            ).digest()
        return self._derived

    def seal(self, payload: dict[str, t.Any]) -> str:
        body = json.dumps(
            {**payload, "exp": int(time.time() + self.ttl)}, separators=(",", ":")
        ).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return f"{_b64(body)}.{_b64(mac)}"

    def open(self, token: object) -> dict[str, t.Any]:
        """The payload of a state this server sealed and that is still valid.

        :raises InvalidState: otherwise.
        """
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 1 << 22:
            raise InvalidState("requestState is not one this server issued")
        body_part, mac_part = token.split(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
        except (binascii.Error, ValueError):
            raise InvalidState("requestState is not one this server issued") from None
        expected = hmac.new(self._key, body, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise InvalidState("requestState failed its integrity check")
        payload = json.loads(body)
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
            raise InvalidState("requestState is not one this server issued")
        if payload["exp"] < time.time():
            raise InvalidState("requestState has expired; start the request again")
        return payload


class AnswerBook:
    """The answers one run of a modern handler can draw on.

    Built from the request's ``requestState`` (answers of earlier rounds and
    the questions left open) and ``inputResponses`` (answers to those).

    :param binding: gives the principal, method and call digest the state
        must match; called only when a state is read or sealed, so a call
        that asks nothing never digests its arguments.
    """

    def __init__(
        self,
        codec: StateCodec,
        binding: t.Callable[[], dict[str, t.Any]],
        params: abc.Mapping[str, t.Any],
    ) -> None:
        self._codec = codec
        self._binding_of = binding
        self._bound: dict[str, t.Any] | None = None
        responses = params.get("inputResponses")
        if responses is None:
            responses = {}
        if not isinstance(responses, dict) or not all(
            isinstance(v, dict) for v in responses.values()
        ):
            raise JsonRpcError(
                INVALID_PARAMS,
                "Invalid params: inputResponses must map keys to results",
            )
        token = params.get("requestState")
        answered: dict[str, list[t.Any]] = {}
        pending: dict[str, str] | None = None
        user_state: dict[str, t.Any] = {}
        if token is not None:
            try:
                payload = codec.open(token)
            except InvalidState as exc:
                raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {exc}") from None
            if payload.get("b") != self._binding:
                raise JsonRpcError(
                    INVALID_PARAMS,
                    "Invalid params: requestState belongs to another request or user",
                )
            answered = dict(payload.get("a") or {})
            pending = dict(payload.get("q") or {})
            user_state = dict(payload.get("s") or {})
        self._answered = answered
        self._pending = pending
        self._responses = responses
        #: What the handler keeps across rounds (``ctx.state``).
        self.state = user_state
        self._asked: dict[str, InputRequest] = {}

    @property
    def _binding(self) -> dict[str, t.Any]:
        if self._bound is None:
            self._bound = self._binding_of()
        return self._bound

    def lookup(self, key: str, request: InputRequest) -> dict[str, t.Any] | None:
        """The answer to ``request`` under ``key``, or ``None`` if unanswered."""
        digest = request.digest()
        if key in self._asked and self._asked[key].digest() != digest:
            raise ValueError(f"input key {key!r} is used for two different questions")
        self._asked[key] = request
        recorded = self._answered.get(key)
        if recorded is not None and recorded[0] == digest:
            return t.cast(dict[str, t.Any], recorded[1])
        response = self._responses.get(key)
        # Without a state the client answers a first round it was never sent a
        # state for; with one, only the questions it left open count.
        if response is not None and (
            self._pending is None or self._pending.get(key) == digest
        ):
            self._answered[key] = [digest, response]
            return t.cast(dict[str, t.Any], response)
        return None

    def request_state(self, open_questions: dict[str, InputRequest]) -> str:
        """The sealed state to send with an ``input_required`` result."""
        return self._codec.seal(
            {
                "b": self._binding,
                "a": self._answered,
                "q": {key: request.digest() for key, request in open_questions.items()},
                "s": self.state,
            }
        )


def call_digest(method: str, params: abc.Mapping[str, t.Any]) -> str:
    """Identifies a call (its target and arguments), ignoring the exchange."""
    return _digest(
        {"m": method, **{k: v for k, v in params.items() if k not in _EXCHANGE_KEYS}}
    )


def _digest(value: t.Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
