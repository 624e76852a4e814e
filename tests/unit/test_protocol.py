"""The framework-free protocol layer: JSON-RPC, versions, pagination, content."""

from __future__ import annotations

import pytest

from flask_mcp import Audio
from flask_mcp import EmbeddedResource
from flask_mcp import Image
from flask_mcp.components.content import to_blocks
from flask_mcp.components.registry import InvalidCursor
from flask_mcp.components.registry import paginate
from flask_mcp.components.resources import ResourceTemplate
from flask_mcp.protocol import jsonrpc
from flask_mcp.protocol.versions import LATEST_VERSION
from flask_mcp.protocol.versions import allows_batching
from flask_mcp.protocol.versions import negotiate
from flask_mcp.protocol.versions import reports_invalid_arguments_as_result


def test_decode_rejects_non_json() -> None:
    with pytest.raises(jsonrpc.JsonRpcError) as info:
        jsonrpc.decode(b"{nope")
    assert info.value.code == jsonrpc.PARSE_ERROR


@pytest.mark.parametrize(
    "message",
    [
        [],
        "text",
        {"id": 1, "method": "ping"},
        {"jsonrpc": "1.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
        {"jsonrpc": "2.0", "id": True, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": 3},
        {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": [1]},
        {"jsonrpc": "2.0", "id": 1},
    ],
)
def test_invalid_requests(message: object) -> None:
    with pytest.raises(jsonrpc.JsonRpcError) as info:
        jsonrpc.parse_message(message)
    assert info.value.code == jsonrpc.INVALID_REQUEST


def test_message_kinds() -> None:
    request = jsonrpc.parse_message({"jsonrpc": "2.0", "id": "a", "method": "ping"})
    assert request == jsonrpc.Request("a", "ping", {})
    note = jsonrpc.parse_message(
        {"jsonrpc": "2.0", "method": "notifications/initialized"}
    )
    assert note == jsonrpc.Notification("notifications/initialized", {})
    reply = jsonrpc.parse_message({"jsonrpc": "2.0", "id": "s1", "result": {}})
    assert isinstance(reply, jsonrpc.Response) and reply.id == "s1"


def test_error_message_echoes_readable_id_only() -> None:
    error = jsonrpc.JsonRpcError(jsonrpc.INVALID_REQUEST, "bad")
    assert jsonrpc.error_message(None, error) == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "bad"},
    }
    assert jsonrpc.readable_id({"id": 7}) == 7
    assert jsonrpc.readable_id({"id": None}) is None
    assert jsonrpc.readable_id({"id": False}) is None


def test_version_rules() -> None:
    assert negotiate("2025-06-18") == "2025-06-18"
    assert negotiate("2099-01-01") == LATEST_VERSION
    assert negotiate(None) == LATEST_VERSION
    assert allows_batching("2025-03-26") and not allows_batching("2025-06-18")
    assert reports_invalid_arguments_as_result("2025-11-25")
    assert not reports_invalid_arguments_as_result("2025-06-18")


def test_pagination_round_trip() -> None:
    items = list(range(7))
    page, cursor = paginate("tools", items, None, 3)
    seen = list(page)
    while cursor is not None:
        page, cursor = paginate("tools", items, cursor, 3)
        seen += page
    assert seen == items


@pytest.mark.parametrize("cursor", ["garbage!", 5, "eyJrIjoicHJvbXB0cyIsIm8iOjN9", ""])
def test_foreign_cursor_is_refused(cursor: object) -> None:
    # The third one is a valid cursor of the *prompts* list.
    with pytest.raises(InvalidCursor):
        paginate("tools", [1, 2, 3, 4], cursor, 2)


def test_template_matching() -> None:
    template = ResourceTemplate(
        name="t", fn=lambda id: id, description="", uri="test://template/{id}/data"
    )
    assert template.match("test://template/123/data") == {"id": "123"}
    assert template.match("test://template/a%20b/data") == {"id": "a b"}
    assert template.match("test://template/1/2/data") is None
    assert template.match("test://template/123/data/x") is None


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 8
WAV = b"RIFF\x00\x00\x00\x00WAVEfmt "


def test_return_values_to_blocks() -> None:
    assert to_blocks("hi") == [{"type": "text", "text": "hi"}]
    assert to_blocks(PNG)[0]["mimeType"] == "image/png"
    assert to_blocks(WAV)[0] == {
        "type": "audio",
        "data": "UklGRgAAAABXQVZFZm10IA==",
        "mimeType": "audio/wav",
    }
    blocks = to_blocks(
        ["a", Image(PNG), Audio(WAV), EmbeddedResource("x://y", text="t")]
    )
    assert [b["type"] for b in blocks] == ["text", "image", "audio", "resource"]
    assert to_blocks(b"\x00\x01")[0]["type"] == "resource"
    assert to_blocks(None) == []
