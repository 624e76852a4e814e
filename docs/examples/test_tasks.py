from tasks import SENT
from tasks import app
from tasks import mcp


def approve(params):
    return {"action": "accept", "content": {"ok": True}}


def test_send_invoices():
    with mcp.test_client(
        app, protocol_version="2026-07-28", elicitation=approve
    ) as client:
        task = client.call_tool_as_task("send_invoices", {"customer": "ACME"})
        done = client.wait_for_task(task["taskId"])  # answers questions on the way
    assert done["status"] == "completed"
    assert done["result"]["content"][0]["text"] == "Sent the invoices for ACME."
    assert SENT == ["ACME"]
