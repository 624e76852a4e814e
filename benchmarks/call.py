"""The request every benchmark sends, and the answer it must get.

One ``tools/call`` of the ``echo`` tool (``tools_call.lua`` sends the same
body). Kept free of imports so that the load generator, ``pyload``, stays a
light process.
"""

PATH = "/mcp"
PROTOCOL = "2025-11-25"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": PROTOCOL,
}
BODY = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"}}}'
)
#: Opens a session (the variants named ``session*``).
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
EXPECTED = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}'
)
