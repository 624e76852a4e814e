"""Draw the tasks sequence diagram (2026-07-28, legs on Celery) as an SVG.

Drawn by :mod:`sequence`'s function, from the steps below, into
``docs/_static/tasks-flow.svg``. After changing a step, run::

    python docs/_diagrams/tasks_flow.py

The docs tests check that the committed file is what this script draws.
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from sequence import STATIC  # noqa: E402
from sequence import draw as draw_sequence  # noqa: E402

OUTPUT = STATIC / "tasks-flow.svg"

PARTICIPANTS = [
    ("client", "MCP client"),
    ("web", "gunicorn worker"),
    ("worker", "Celery worker"),
    ("store", "Shared store"),
]

#: As in sequence.py: (from, to, label, dashed).
STEPS: list[tuple[str, str, str, bool]] = [
    ("", "", "1. The call becomes a task", False),
    ("client", "web", "tools/call, the tasks extension declared", False),
    ("web", "store", "task record: working, leg 1 queued (durable)", False),
    ("web", "worker", "leg 1 on the broker", False),
    (
        "web",
        "client",
        'CreateTaskResult {resultType: "task", taskId, pollIntervalMs}',
        True,
    ),
    ("", "", "2. Leg 1: work, then a question", False),
    ("worker", "store", "claim leg 1; renew its lease while it runs", False),
    ("worker", "store", "progress: statusMessage", False),
    ("client", "web", "tasks/get (Mcp-Name: taskId)", False),
    ("web", "client", "working, statusMessage", True),
    (
        "worker",
        "worker",
        "ctx.elicit(...) has no answer: the leg ends, nobody waits",
        False,
    ),
    ("worker", "store", "input_required, inputRequests", False),
    ("", "", "3. The answer starts leg 2", False),
    ("client", "web", "tasks/get", False),
    ("web", "client", "input_required, inputRequests", True),
    ("client", "web", "tasks/update {inputResponses}", False),
    ("web", "store", "answers kept; leg 2 queued", False),
    ("web", "worker", "leg 2 on the broker", False),
    ("web", "client", '{resultType: "complete"}', True),
    (
        "worker",
        "worker",
        "runs from the top; ctx.elicit(...) returns the answer",
        False,
    ),
    ("worker", "store", "completed, result", False),
    ("", "", "4. The result", False),
    ("client", "web", "tasks/get (or notifications/tasks on a listen stream)", False),
    ("web", "client", "completed, result inlined", True),
]


def draw() -> str:
    return draw_sequence(PARTICIPANTS, STEPS, "Sequence diagram of a task")


def main() -> int:
    OUTPUT.write_text(draw(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
