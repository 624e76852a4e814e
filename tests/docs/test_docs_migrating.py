"""The example of the migration guide."""

from __future__ import annotations


def test_ported_fastmcp_server(load_example):
    example = load_example("from_fastmcp")
    model = lambda params: {  # noqa: E731
        "role": "assistant",
        "content": {"type": "text", "text": "Short."},
        "model": "m",
    }
    with example.mcp.test_client(example.app, sampling=model) as client:
        assert client.call_tool("greet", {"name": "Ada"})["content"][0]["text"] == (
            "Hello, Ada!"
        )
        assert client.call_tool("greet", {"name": " "})["isError"] is True
        summary = client.call_tool("summarize", {"text": "A long story."})
        assert summary["content"][0]["text"] == "Short."
        assert client.read_resource("config://version")["contents"][0]["text"] == (
            "1.2.0"
        )
        messages = client.get_prompt("explain", {"topic": "MRTR"})["messages"]
        assert "MRTR" in messages[0]["content"]["text"]
    assert example.app.test_client().get("/health").get_json() == {"status": "ok"}
