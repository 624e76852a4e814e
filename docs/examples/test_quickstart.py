from app import app
from app import mcp


def test_add():
    with mcp.test_client(app) as client:
        result = client.call_tool("add", {"a": 2, "b": 3})
    assert result["content"] == [{"type": "text", "text": "5"}]


def test_note():
    with mcp.test_client(app) as client:
        result = client.read_resource("notes://1")
    assert result["contents"][0]["text"] == "Buy milk"
