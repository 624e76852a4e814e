"""Tools that take a while: they run as tasks, off the web workers.

With ``EXAMPLE_CELERY_BROKER=redis://...`` their legs run on Celery workers
(``make worker``); otherwise in threads of the web processes.
"""

from __future__ import annotations

import time

from flask_mcp import Context
from flask_mcp import FlaskMCP

APPROVAL = {
    "type": "object",
    "properties": {"approve": {"type": "boolean", "title": "Send the export"}},
    "required": ["approve"],
}


def register(mcp: FlaskMCP) -> None:
    """Add the long-running tools to ``mcp``."""

    @mcp.tool(task="optional", read_only=True)
    def slow_report(ctx: Context, rows: int = 20, seconds_per_row: float = 0.1) -> dict:
        """Build a report row by row, reporting progress; a task when the
        client can follow one, cancellable at any row.

        :param rows: how many rows the report has.
        :param seconds_per_row: how long each row takes.
        """
        total = 0
        for row in range(1, rows + 1):
            if ctx.cancelled:
                break
            time.sleep(seconds_per_row)
            total += row
            ctx.report_progress(row, rows, f"row {row} of {rows}")
        return {"rows": rows, "total": total, "complete": not ctx.cancelled}

    @mcp.tool(task="required")
    def export_with_approval(ctx: Context, dataset: str) -> str:
        """Prepare an export, ask whether to send it, then send it.

        The question comes mid-task: the task waits in ``input_required``
        (no worker waits with it) and goes on once the user answered.

        :param dataset: the dataset to export.
        """
        ctx.report_progress(1, 3, f"{dataset}: prepared")
        answer = ctx.elicit(f"Send the export of {dataset}?", APPROVAL, key="approve")
        approved = answer.get("action") == "accept" and (
            (answer.get("content") or {}).get("approve") is True
        )
        if not approved:
            return f"Export of {dataset} kept, not sent"
        time.sleep(0.2)
        return f"Export of {dataset} sent"
