import time

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp import ToolError

app = Flask(__name__)
# Legs run in threads of the web processes unless Celery is configured:
# app.config["MCP_TASKS_CELERY"] = "redis://localhost:6379/1"
mcp = FlaskMCP(app, name="Reports")


# -- a long tool: a task when the client can follow one -------------------------


@mcp.tool(task="optional")
def build_report(ctx: Context, month: str, rows: int = 100) -> dict:
    """Build the monthly report, row by row."""
    total = 0
    for row in range(1, rows + 1):
        if ctx.cancelled:  # tasks/cancel reaches the leg, on whatever host
            raise ToolError(f"The {month} report was cancelled at row {row}")
        total += row  # the real work
        ctx.report_progress(row, rows, f"row {row} of {rows}")  # statusMessage
    return {"month": month, "rows": rows, "total": total}


# -- a question in the middle of a task ---------------------------------------------

SENT: list[str] = []
CONFIRM = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}


@mcp.tool(task="required", retries=2)
def send_invoices(ctx: Context, customer: str) -> str:
    """Prepare the invoices, ask before sending them, then send them."""
    draft = f"invoices for {customer}"  # prepared again on every leg: cheap
    answer = ctx.elicit(f"Send the {draft}?", CONFIRM, key="send")
    if answer["action"] != "accept" or not answer["content"]["ok"]:
        return "Nothing was sent."
    SENT.append(customer)  # the side effect comes after the last question
    time.sleep(0.01)
    return f"Sent the {draft}."


# -- questions first, then the task ------------------------------------------------


@mcp.tool(task="required", ask_first=True)
def wipe_archive(ctx: Context, year: int) -> str:
    """Delete an archive, once the user confirmed it (on the call itself)."""
    answer = ctx.elicit(f"Delete the {year} archive?", CONFIRM, key="confirm")
    if answer["action"] != "accept" or not answer["content"]["ok"]:
        return "The archive was kept."  # answered at once: no task
    ctx.start_task()  # the task is created here; the rest runs as its legs
    return f"The {year} archive was deleted."
