"""The framework-free side of tasks: decisions, wire shapes, records and the
state machine, over an in-memory repository and a recording dispatcher."""

from __future__ import annotations

import json
import typing as t

import pytest

from flask_mcp import FlaskMCP
from flask_mcp.components.component import RegistrationError
from flask_mcp.components.tools import Tool
from flask_mcp.protocol.context import Context
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.protocol.jsonrpc import JsonRpcError
from flask_mcp.protocol.tasking import wire
from flask_mcp.protocol.tasking.lifecycle import Again
from flask_mcp.protocol.tasking.lifecycle import Asked
from flask_mcp.protocol.tasking.lifecycle import Completed
from flask_mcp.protocol.tasking.lifecycle import Failed
from flask_mcp.protocol.tasking.lifecycle import Lifecycle
from flask_mcp.protocol.tasking.lifecycle import TaskPolicy
from flask_mcp.protocol.tasking.ports import DispatchError
from flask_mcp.protocol.tasking.record import TaskRecord
from flask_mcp.protocol.tasking.support import plan
from support.task_records import task_record as record

EXT = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
QUESTION = elicitation("Go?", {"type": "object", "properties": {}})


def tool(task: t.Any = None, **options: t.Any) -> Tool:
    def handler(ctx: Context) -> str:
        return "ok"

    return Tool.from_function(handler, name="job", task=task, **options)


# -- registration ------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "support"),
    [(None, "forbidden"), (False, "forbidden"), (True, "optional")]
    + [(name, name) for name in ("forbidden", "optional", "required")],
)
def test_task_support_names(given: t.Any, support: str) -> None:
    assert tool(given).task == support


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"task": "sometimes"}, "task must be one of"),
        ({"task": 1}, "task must be one of"),
        ({"task": "optional", "retries": -1}, "retries"),
        ({"task": "optional", "retries": True}, "retries"),
        ({"ask_first": True}, "ask_first=True needs task="),
    ],
)
def test_task_options_are_checked_at_registration(
    options: dict[str, t.Any], message: str
) -> None:
    with pytest.raises(RegistrationError, match=message):
        tool(**options)


def test_ask_first_needs_a_context() -> None:
    mcp = FlaskMCP()
    with pytest.raises(RegistrationError, match="Context parameter"):

        @mcp.tool(task="required", ask_first=True)
        def no_context() -> str:
            return "never"


# -- whether a call becomes a task -------------------------------------------


def modern(support: str, capabilities: dict[str, t.Any], **params: t.Any) -> t.Any:
    return plan(
        tool(support),
        params,
        modern=True,
        version="2026-07-28",
        capabilities=capabilities,
    )


def legacy(support: str, version: str = "2025-11-25", **params: t.Any) -> t.Any:
    return plan(tool(support), params, modern=False, version=version, capabilities={})


def test_modern_calls_become_tasks_when_the_extension_is_declared() -> None:
    assert modern("optional", EXT) is not None
    assert modern("required", EXT) is not None
    assert modern("optional", {}) is None
    assert modern("forbidden", EXT) is None
    # The 2025 hint changes nothing on 2026-07-28.
    assert modern("forbidden", EXT, task={"ttl": 1}) is None
    assert modern("optional", {}, task={"ttl": 1}) is None


def test_a_required_task_without_the_extension_is_a_missing_capability() -> None:
    with pytest.raises(JsonRpcError) as refused:
        modern("required", {})
    assert refused.value.code == -32021
    assert refused.value.data == {"requiredCapabilities": EXT}


def test_legacy_calls_become_tasks_when_the_client_asks() -> None:
    assert legacy("optional") is None
    assert legacy("optional", task={}) is not None
    assert legacy("required", task={"ttl": 5000}).ttl_ms == 5000


@pytest.mark.parametrize(
    ("support", "params", "code"),
    [
        ("required", {}, -32601),  # MUST, 2025-11-25 "Tool-Level Negotiation"
        ("forbidden", {"task": {}}, -32601),  # SHOULD
        ("optional", {"task": "yes"}, -32602),
        ("optional", {"task": {"ttl": -1}}, -32602),
        ("optional", {"task": {"ttl": True}}, -32602),
    ],
)
def test_legacy_refusals(support: str, params: dict[str, t.Any], code: int) -> None:
    with pytest.raises(JsonRpcError) as refused:
        legacy(support, **params)
    assert refused.value.code == code


def test_before_2025_11_25_there_are_no_tasks() -> None:
    assert legacy("optional", "2025-06-18", task={}) is None
    with pytest.raises(JsonRpcError, match="2025-11-25 or later"):
        legacy("required", "2025-06-18", task={})


# -- wire shapes ---------------------------------------------------------------


def test_timestamps_are_iso_8601_utc_with_milliseconds() -> None:
    assert wire.timestamp(1_785_234_600.25) == "2026-07-28T10:30:00.250Z"


def test_create_task_result_shapes() -> None:
    assert wire.created(record()) == {
        "resultType": "task",
        "taskId": "t1",
        "status": "working",
        "createdAt": "2026-07-28T10:30:00.250Z",
        "lastUpdatedAt": "2026-07-28T10:30:01.500Z",
        "ttlMs": 60_000,
        "pollIntervalMs": 500,
    }
    assert wire.legacy_created(record())["task"] == {
        "taskId": "t1",
        "status": "working",
        "createdAt": "2026-07-28T10:30:00.250Z",
        "lastUpdatedAt": "2026-07-28T10:30:01.500Z",
        "ttl": 60_000,
        "pollInterval": 500,
    }


def test_detailed_tasks_inline_what_their_status_carries() -> None:
    asking = record(status="input_required", asks={"go": QUESTION.to_dict()})
    assert wire.detailed(asking, None)["inputRequests"] == {"go": QUESTION.to_dict()}
    done = record(status="completed")
    result = {"content": [], "isError": True}
    assert wire.detailed(done, {"result": result})["result"] == result
    failed = record(status="failed", message="gone")
    error = {"code": -32603, "message": "broken"}
    assert wire.detailed(failed, {"error": error})["error"] == error
    # An error object that is gone is still an error object.
    assert wire.detailed(failed, None)["error"] == {"code": -32603, "message": "gone"}
    for shown in (wire.detailed(done, {"result": result}), wire.created(done)):
        assert "requestState" not in shown


def test_2025_reports_a_tool_error_as_failed() -> None:
    assert (
        wire.legacy_task(record(status="completed", is_error=True))["status"]
        == "failed"
    )
    assert wire.legacy_task(record(status="completed"))["status"] == "completed"


# -- records -------------------------------------------------------------------


def test_records_round_trip_as_json() -> None:
    original = record(answers={"go": ["digest", {"action": "accept"}]}, state={"n": 1})
    stored = json.loads(json.dumps(original.to_json()))
    assert TaskRecord.from_json(stored) == original


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "task",
        [],
        {"layout": 2},
        {"layout": 1, "id": "x"},
        {**record().to_json(), "ttl_ms": "forever"},
        {**record().to_json(), "asks": []},
        {**record().to_json(), "unknown": 1, "id": 5},
    ],
)
def test_a_value_this_code_did_not_write_reads_as_missing(junk: t.Any) -> None:
    assert TaskRecord.from_json(junk) is None


# -- the state machine ---------------------------------------------------------


class MemoryTasks:
    """A repository in a dict (one process, no locks needed)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, t.Any]] = {}
        self.outcomes: dict[str, dict[str, t.Any]] = {}
        self.leases: set[str] = set()
        self.cancels: set[str] = set()
        self.notes: dict[str, dict[str, t.Any]] = {}

    def create(self, record: TaskRecord) -> None:
        self.records[record.id] = record.to_json()

    def get(self, task_id: str) -> TaskRecord | None:
        return TaskRecord.from_json(self.records.get(task_id))

    def change(self, task_id, edit, outcome=None):  # type: ignore[no-untyped-def]
        record = self.get(task_id)
        if record is None or not edit(record):
            return record
        if outcome is not None:
            self.outcomes[task_id] = outcome
        self.records[task_id] = record.to_json()
        return record

    def outcome(self, task_id: str) -> dict[str, t.Any] | None:
        return self.outcomes.get(task_id)

    def note(self, task_id: str, progress: dict[str, t.Any], ttl: float) -> None:
        self.notes[task_id] = progress

    def progress(self, task_id: str) -> dict[str, t.Any] | None:
        return self.notes.get(task_id)

    def lease_alive(self, task_id: str) -> bool:
        return task_id in self.leases

    def request_cancel(self, task_id: str, ttl: float) -> None:
        self.cancels.add(task_id)

    def index(self, scope: str, task_id: str, ttl: float) -> None:
        pass

    def listed(self, scope: str) -> list[str]:
        return []


class Dispatcher:
    name = "thread"
    holds_leases = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, float]] = []
        self.down = False

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        if self.down:
            raise DispatchError("broker down")
        self.sent.append((task_id, leg, delay))


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    def changed(self, record: TaskRecord, outcome: t.Any) -> None:
        self.seen.append((record.status, record.message))


class Clock:
    def __init__(self) -> None:
        self.now = 1_785_234_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parts() -> tuple[Lifecycle, MemoryTasks, Dispatcher, Events, Clock]:
    repo, dispatcher, events, clock = MemoryTasks(), Dispatcher(), Events(), Clock()
    policy = TaskPolicy(lease=10.0, max_result=1000)
    return (
        Lifecycle(repo, dispatcher, events, policy, clock),
        repo,
        dispatcher,
        events,
        clock,
    )


def opened(lifecycle: Lifecycle, clock: Clock) -> TaskRecord:
    return lifecycle.open(record(created=clock.now, updated=clock.now))


def test_a_leg_runs_once_however_often_it_is_delivered(parts: t.Any) -> None:
    lifecycle, repo, dispatcher, _, clock = parts
    opened(lifecycle, clock)
    assert dispatcher.sent == [("t1", 1, 0.0)]
    assert lifecycle.begin("t1", 1, "a") is not None
    assert lifecycle.begin("t1", 1, "b") is None  # redelivered elsewhere
    assert lifecycle.begin("t1", 2, "a") is None  # not that leg
    lifecycle.end("t1", 1, "b", Completed({"content": []}))  # not its owner
    assert repo.get("t1").status == "working"
    lifecycle.end("t1", 1, "a", Completed({"content": [], "isError": True}))
    done = repo.get("t1")
    assert (done.status, done.is_error) == ("completed", True)
    assert repo.outcome("t1") == {"result": {"content": [], "isError": True}}
    assert lifecycle.begin("t1", 1, "a") is None  # finished


def test_a_cancelled_task_stays_cancelled(parts: t.Any) -> None:
    lifecycle, repo, _, events, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    assert lifecycle.cancel("t1").status == "cancelled"
    assert repo.cancels == {"t1"}
    lifecycle.end("t1", 1, "a", Completed({"content": []}))
    assert repo.get("t1").status == "cancelled"
    assert repo.outcome("t1") is None
    assert lifecycle.cancel("t1").status == "cancelled"  # again: no change
    assert [s for s, _ in events.seen] == ["cancelled"]  # one change announced


def test_questions_wait_for_every_answer(parts: t.Any) -> None:
    lifecycle, repo, dispatcher, _, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    asked = Asked({"one": QUESTION, "two": QUESTION}, {}, {"round": 1})
    lifecycle.end("t1", 1, "a", asked)
    waiting = repo.get("t1")
    assert (waiting.status, sorted(waiting.asks)) == ("input_required", ["one", "two"])
    lifecycle.answer("t1", {"never-asked": {"action": "accept"}})
    lifecycle.answer("t1", {"one": {"action": "accept"}})
    partly = repo.get("t1")
    assert (partly.status, list(partly.asks), partly.leg) == (
        "input_required",
        ["two"],
        1,
    )
    assert len(dispatcher.sent) == 1
    lifecycle.answer("t1", {"two": {"action": "decline"}, "one": {"action": "x"}})
    resumed = repo.get("t1")
    assert (resumed.status, resumed.leg, resumed.phase) == ("working", 2, "queued")
    assert resumed.answers["one"] == [QUESTION.digest(), {"action": "accept"}]
    assert resumed.state == {"round": 1}
    assert dispatcher.sent[-1] == ("t1", 2, 0.0)
    lifecycle.answer("t1", {"two": {"action": "accept"}})  # answered already
    assert repo.get("t1").answers["two"][1] == {"action": "decline"}


def test_a_leg_whose_process_stopped_is_failed_after_its_lease(parts: t.Any) -> None:
    lifecycle, repo, _, _, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    clock.now += 5
    assert lifecycle.find("t1").status == "working"  # claimed a moment ago
    repo.leases.add("t1")
    clock.now += 60
    assert lifecycle.find("t1").status == "working"  # its lease is renewed
    repo.leases.clear()  # the process stopped renewing it
    lost = lifecycle.find("t1")
    assert lost.status == "failed"
    assert "stopped" in repo.outcome("t1")["error"]["message"]


def test_a_task_waiting_for_answers_needs_no_lease(parts: t.Any) -> None:
    lifecycle, repo, _, _, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    lifecycle.end("t1", 1, "a", Asked({"go": QUESTION}, {}, {}))
    clock.now += 3600
    assert lifecycle.find("t1").status == "input_required"


def test_a_result_too_large_fails_the_task(parts: t.Any) -> None:
    lifecycle, repo, _, _, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    big = {"content": [{"type": "text", "text": "x" * 2000}]}
    lifecycle.end("t1", 1, "a", Completed(big))
    assert repo.get("t1").status == "failed"
    assert "larger than this server keeps" in repo.outcome("t1")["error"]["message"]


def test_a_failed_dispatch_fails_the_task_and_the_call(parts: t.Any) -> None:
    lifecycle, repo, dispatcher, _, clock = parts
    dispatcher.down = True
    with pytest.raises(DispatchError):
        opened(lifecycle, clock)
    assert repo.get("t1").status == "failed"


def test_a_retried_leg_is_queued_again_with_its_delay(parts: t.Any) -> None:
    lifecycle, repo, dispatcher, _, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    lifecycle.end("t1", 1, "a", Again(2.0))
    assert repo.get("t1").phase == "queued"
    assert dispatcher.sent[-1] == ("t1", 1, 2.0)
    again = lifecycle.begin("t1", 1, "b")
    assert again is not None and again.attempt == 2


def test_a_protocol_error_fails_the_task(parts: t.Any) -> None:
    lifecycle, repo, _, events, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    lifecycle.end("t1", 1, "a", Failed({"code": -32603, "message": "boom"}))
    assert (repo.get("t1").status, repo.get("t1").message) == ("failed", "boom")
    assert events.seen[-1] == ("failed", "boom")


def test_progress_is_a_note_beside_the_record(parts: t.Any) -> None:
    """Reported without the task's lock; readers see it as the message, and
    it keeps the leg's grace fresh."""
    lifecycle, repo, _, events, clock = parts
    opened(lifecycle, clock)
    lifecycle.begin("t1", 1, "a")
    clock.now += 8
    lifecycle.progress("t1", 1, "a", "row 3 of 9")
    lifecycle.progress("t1", 1, "b", "not its leg")  # another owner: ignored
    assert repo.get("t1").message is None  # the stored record is untouched
    clock.now += 8  # 16 s after the claim, 8 s after the progress
    found = lifecycle.find("t1")
    assert (found.status, found.message) == ("working", "row 3 of 9")
    assert events.seen == [("working", "row 3 of 9")]
    lifecycle.end("t1", 1, "a", Completed({"content": []}))
    assert lifecycle.find("t1").message is None  # a finished task has no progress
