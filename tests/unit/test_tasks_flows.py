"""Tasks through the whole stack, in process: both eras, every method, the
edges (refusals, foreign ids, answers never asked, retries, limits).

Legs run in the app's thread executor; the file store lives in the test's
instance folder. Raw requests are used where a test breaks the wire.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t

import pytest
from flask import Flask
from flask import g

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp.auth import get_auth_session
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.testing import MCPError
from flask_mcp.testing import MCPTestClient

MODERN, LEGACY = "2026-07-28", "2025-11-25"
EXT = "io.modelcontextprotocol/tasks"
NAME = {"type": "object", "properties": {"name": {"type": "string"}}}
KEYS = {"key-alice": {"sub": "alice"}, "key-bob": {"sub": "bob"}}


def accept(params: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


@pytest.fixture
def mcp_config() -> dict[str, t.Any]:
    return {"MCP_TASKS_MAX_RESULT": 10_000, "MCP_TASKS_POLL_INTERVAL_MS": 50}


@pytest.fixture
def mcp() -> FlaskMCP:
    def authenticate(request: t.Any) -> t.Any:
        return KEYS.get(request.headers.get("X-Key", ""), {"sub": "anonymous"})

    server = FlaskMCP(name="tasks", authenticate=authenticate)
    allowed = {"alice", "bob", "anonymous"}
    gate = threading.Event()
    runs: list[str] = []

    @server.tool(task="optional")
    def slow(ctx: Context, seconds: float = 0.2) -> str:
        """Works a while, reporting progress; stops when cancelled."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if ctx.cancelled:
                return "stopped"
            ctx.report_progress(1, 2, "halfway")
            time.sleep(0.02)
        return f"slept {seconds}"

    @server.tool(task="required")
    def ask_name(ctx: Context) -> str:
        """Asks a name mid-task."""
        answer = ctx.elicit("Name?", NAME, key="name")
        return f"Hello, {answer['content']['name']}!"

    @server.tool(task="optional")
    def two_questions(ctx: Context) -> str:
        """Asks two things at once."""
        answers = ctx.ask({"a": elicitation("A?", NAME), "b": elicitation("B?", NAME)})
        return " and ".join(a["content"]["name"] for a in answers.values())

    @server.tool(task="required", ask_first=True)
    def confirm_then_work(ctx: Context, ledger: str) -> str:
        """Asks before the task exists, then works as a task."""
        answer = ctx.elicit("Go?", NAME, key="go")
        ctx.start_task()
        runs.append(ledger)
        return f"worked for {answer['content']['name']}"

    @server.tool(task="optional")
    def whoami(ctx: Context) -> dict:
        """The caller, as the leg sees it."""
        return {
            "auth": ctx.auth,
            "g": g.mcp_auth,
            "session": get_auth_session(ctx.auth)["sub"],
            "task": ctx.task_id is not None,
        }

    @server.tool(task="optional", retries=1)
    def flaky(marker: str) -> str:
        """Raises on its first attempt."""
        if marker not in runs:
            runs.append(marker)
            raise RuntimeError("first attempt fails")
        return "second attempt worked"

    @server.tool(task="optional")
    def crashes() -> str:
        """Always raises."""
        raise RuntimeError("secret detail")

    @server.tool(task="optional")
    def tool_error() -> str:
        """Reports a tool error."""
        raise ToolError("bad input")

    @server.tool(task="optional")
    def huge() -> str:
        """Returns more than the server keeps."""
        return "x" * 20_000

    @server.tool(task="optional")
    def changes_its_question(ctx: Context) -> str:
        """Asks something else under an answered key."""
        ctx.state["round"] = ctx.state.get("round", 0) + 1
        ctx.elicit(f"Round {ctx.state['round']}?", NAME, key="q")
        return "never"

    @server.tool(task="optional", can_access=lambda auth: auth["sub"] in allowed)
    def guarded() -> str:
        """Visible while the caller is allowed."""
        gate.wait(5)
        return "guarded"

    @server.tool()
    def plain() -> str:
        """Never a task."""
        return "plain"

    server.allowed = allowed  # type: ignore[attr-defined]
    server.gate = gate  # type: ignore[attr-defined]
    server.runs = runs  # type: ignore[attr-defined]
    return server


def client(
    mcp: FlaskMCP, app: Flask, version: str, key: str = "key-alice", **options: t.Any
) -> MCPTestClient:
    options.setdefault("elicitation", accept)
    return mcp.test_client(
        app, protocol_version=version, headers={"X-Key": key}, **options
    )


def raw(app: Flask, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    response = app.test_client().post(
        "/mcp",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept": "application/json, text/event-stream", **headers},
    )
    return response.status_code, t.cast(dict, response.get_json())


def modern_body(method: str, params: dict, capabilities: dict | None = None) -> dict:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": (
            {"extensions": {EXT: {}}} if capabilities is None else capabilities
        ),
    }
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "method": method,
        "params": {**params, "_meta": meta},
    }


def modern_headers(body: dict, name: str | None = None) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": body["method"]}
    target = name if name is not None else body["params"].get("taskId")
    if target is not None:
        headers["Mcp-Name"] = target
    return headers


# -- both eras ---------------------------------------------------------------


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_a_task_completes_with_its_result(
    mcp: FlaskMCP, app: Flask, version: str
) -> None:
    with client(mcp, app, version) as c:
        task = c.call_tool_as_task("slow", {"seconds": 1.0})
        assert task["status"] == "working"
        seen = c.get_task(task["taskId"])  # at once: the record is durable
        assert seen["taskId"] == task["taskId"]
        deadline = time.monotonic() + 5
        while c.get_task(task["taskId"]).get("statusMessage") != "halfway":
            assert time.monotonic() < deadline, "progress never became the message"
            time.sleep(0.02)
        done = c.wait_for_task(task["taskId"])
        assert done["status"] == "completed"
        assert "statusMessage" not in done
        if version == MODERN:
            assert done["result"]["content"][0]["text"] == "slept 1.0"
        else:
            result = c.task_result(task["taskId"])
            assert result["content"][0]["text"] == "slept 1.0"
            related = result["_meta"]["io.modelcontextprotocol/related-task"]
            assert related == {"taskId": task["taskId"]}


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_a_question_mid_task_waits_for_the_client(
    mcp: FlaskMCP, app: Flask, version: str
) -> None:
    asked: list[dict] = []

    def answer(params: dict[str, t.Any]) -> dict[str, t.Any]:
        asked.append(params)
        return accept(params)

    with client(mcp, app, version, elicitation=answer) as c:
        task = c.call_tool_as_task("ask_name")
        deadline = time.monotonic() + 5
        while (found := c.get_task(task["taskId"]))["status"] != "input_required":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if version == MODERN:
            assert found["inputRequests"]["name"]["method"] == "elicitation/create"
        done = c.wait_for_task(task["taskId"])
        assert done["status"] == "completed"
    assert len(asked) == 1
    if version == LEGACY:  # a live request tied to its task
        assert asked[0]["_meta"]["io.modelcontextprotocol/related-task"] == {
            "taskId": task["taskId"]
        }


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_cancellation_reaches_the_running_code(
    mcp: FlaskMCP, app: Flask, version: str
) -> None:
    with client(mcp, app, version) as c:
        task = c.call_tool_as_task("slow", {"seconds": 30})
        time.sleep(0.2)
        started = time.monotonic()
        answer = c.cancel_task(task["taskId"])
        if version == MODERN:
            assert "taskId" not in answer and answer["resultType"] == "complete"
        else:
            assert answer["status"] == "cancelled"
        assert c.wait_for_task(task["taskId"])["status"] == "cancelled"
        # The handler itself stopped: its thread is free well before 30 s.
        pool = mcp.state(app).tasks.executor
        deadline = time.monotonic() + 5
        while pool.heartbeat._held:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the handler never stopped"
            time.sleep(0.05)
        assert time.monotonic() - started < 5


def test_cancel_after_completion(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, MODERN) as modern, client(mcp, app, LEGACY) as legacy:
        for c in (modern, legacy):
            task = c.call_tool_as_task("slow", {"seconds": 0})
            c.wait_for_task(task["taskId"])
            if c is modern:  # idempotent acknowledgement (2026-07-28)
                assert modern.cancel_task(task["taskId"])["resultType"] == "complete"
                assert modern.get_task(task["taskId"])["status"] == "completed"
            else:  # MUST refuse (2025-11-25 "Task Cancellation")
                with pytest.raises(MCPError, match="already in terminal status") as no:
                    legacy.cancel_task(task["taskId"])
                assert no.value.code == -32602


def test_answers_to_questions_never_asked_are_ignored(
    mcp: FlaskMCP, app: Flask
) -> None:
    with client(mcp, app, MODERN) as c:
        task = c.call_tool_as_task("two_questions")
        deadline = time.monotonic() + 5
        while c.get_task(task["taskId"])["status"] != "input_required":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        ack = c.update_task(task["taskId"], {"zzz": {"action": "accept"}})
        assert ack["resultType"] == "complete"
        c.update_task(
            task["taskId"], {"a": {"action": "accept", "content": {"name": "A"}}}
        )
        partly = c.get_task(task["taskId"])
        assert (partly["status"], list(partly["inputRequests"])) == (
            "input_required",
            ["b"],
        )
        c.update_task(
            task["taskId"], {"b": {"action": "accept", "content": {"name": "B"}}}
        )
        done = c.wait_for_task(task["taskId"])
        assert done["result"]["content"][0]["text"] == "A and B"
        # Answers after the end change nothing.
        assert c.update_task(task["taskId"], {"a": {"action": "decline"}}) == {
            "resultType": "complete",
            "_meta": done["_meta"],
        }


# -- refusals ------------------------------------------------------------------


def test_required_without_a_task(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, MODERN, capabilities={"extensions": {}}) as c:
        with pytest.raises(MCPError) as modern:
            c.call_tool("ask_name")
    assert (modern.value.code, modern.value.status) == (-32021, 400)
    assert modern.value.data == {"requiredCapabilities": {"extensions": {EXT: {}}}}
    with client(mcp, app, LEGACY) as c:
        with pytest.raises(MCPError) as legacy:
            c.call_tool("ask_name")
    assert legacy.value.code == -32601


def test_forbidden_with_a_task(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, LEGACY) as c:
        with pytest.raises(MCPError) as refused:
            c.call_tool_as_task("plain")
        assert refused.value.code == -32601
    with client(mcp, app, MODERN) as c:  # the server decides: a plain answer
        result = c.request("tools/call", {"name": "plain", "task": {"ttl": 1000}})
        assert result["content"][0]["text"] == "plain" and "taskId" not in result


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_unknown_expired_and_foreign_ids_look_alike(
    mcp: FlaskMCP, app: Flask, version: str
) -> None:
    with (
        client(mcp, app, version) as alice,
        client(mcp, app, version, "key-bob") as bob,
    ):
        task = alice.call_tool_as_task("slow", {"seconds": 0})
        errors = []
        for who, task_id in (
            (bob, task["taskId"]),  # another principal's task
            (alice, "unknown-task-id"),
            (alice, "x" * 500),
            (alice, task["taskId"] + "x"),
        ):
            for method in ("tasks/get", "tasks/cancel"):
                with pytest.raises(MCPError) as refused:
                    who.request(method, {"taskId": task_id})
                errors.append((refused.value.code, refused.value.message))
        assert set(errors) == {(-32602, "Failed to retrieve task: Task not found")}
        # ...and it is still there for its owner.
        assert alice.wait_for_task(task["taskId"])["status"] == "completed"


def test_a_task_of_a_tool_the_caller_may_no_longer_use_is_gone(
    mcp: FlaskMCP, app: Flask
) -> None:
    with client(mcp, app, MODERN) as c:
        task = c.call_tool_as_task("guarded")
        mcp.allowed.discard("alice")  # type: ignore[attr-defined]
        with pytest.raises(MCPError, match="Task not found"):
            c.get_task(task["taskId"])
        mcp.allowed.add("alice")  # type: ignore[attr-defined]
        mcp.gate.set()  # type: ignore[attr-defined]
        assert c.wait_for_task(task["taskId"])["status"] == "completed"


def test_task_methods_need_the_extension_on_each_request(app: Flask) -> None:
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        params = {"taskId": "gate", "inputResponses": {}}
        body = modern_body(method, params, capabilities={})
        status, message = raw(app, body, modern_headers(body))
        assert (status, message["error"]["code"]) == (400, -32021), method


def test_removed_methods_are_not_found_on_2026(app: Flask) -> None:
    for method in ("tasks/result", "tasks/list"):
        body = modern_body(method, {"taskId": "t"})
        status, message = raw(app, body, modern_headers(body, name=""))
        assert (status, message["error"]["code"]) == (404, -32601), method


def test_task_requests_carry_the_task_id_in_mcp_name(app: Flask) -> None:
    body = modern_body("tasks/get", {"taskId": "abc"})
    for name in ("other", None):
        headers = modern_headers(body)
        if name is None:
            del headers["Mcp-Name"]
        else:
            headers["Mcp-Name"] = name
        status, message = raw(app, body, headers)
        assert (status, message["error"]["code"]) == (400, -32020)
    status, message = raw(app, body, modern_headers(body))
    assert (status, message["error"]["code"]) == (400, -32602)  # unknown, routed


def test_older_sessions_have_no_tasks(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, "2025-06-18") as c:
        assert "tasks" not in c.initialize()["capabilities"]
        with pytest.raises(MCPError) as refused:
            c.request("tasks/get", {"taskId": "x"})
        assert refused.value.code == -32601
        assert all("execution" not in tool for tool in c.list_tools())


def test_capabilities_and_tool_listings_by_era(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, LEGACY) as c:
        capabilities = c.initialize()["capabilities"]
        assert capabilities["tasks"] == {
            "list": {},
            "cancel": {},
            "requests": {"tools": {"call": {}}},
        }
        listed = {tool["name"]: tool.get("execution") for tool in c.list_tools()}
        assert listed["ask_name"] == {"taskSupport": "required"}
        assert listed["slow"] == {"taskSupport": "optional"}
        assert listed["plain"] is None
    with client(mcp, app, MODERN) as c:
        discovered = c.request("server/discover")
        assert discovered["capabilities"]["extensions"] == {EXT: {}}
        assert "tasks" not in discovered["capabilities"]
        assert all("execution" not in tool for tool in c.list_tools())


# -- the caller, retries, limits -----------------------------------------------


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_a_leg_runs_as_its_caller(mcp: FlaskMCP, app: Flask, version: str) -> None:
    with client(mcp, app, version, "key-bob") as c:
        task = c.call_tool_as_task("whoami")
        c.wait_for_task(task["taskId"])
        result = (
            c.get_task(task["taskId"])["result"]
            if version == MODERN
            else c.task_result(task["taskId"])
        )
    assert result["structuredContent"] == {
        "auth": {"sub": "bob"},
        "g": {"sub": "bob"},
        "session": "bob",
        "task": True,
    }


def test_list_shows_a_principals_own_tasks(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, LEGACY) as alice, client(mcp, app, LEGACY, "key-bob") as bob:
        mine = [
            alice.call_tool_as_task("slow", {"seconds": 0})["taskId"] for _ in range(3)
        ]
        theirs = bob.call_tool_as_task("slow", {"seconds": 0})["taskId"]
        assert [t["taskId"] for t in alice.list_tasks()] == mine
        assert [t["taskId"] for t in bob.list_tasks()] == [theirs]
        with pytest.raises(MCPError, match="Invalid cursor"):
            alice.request("tasks/list", {"cursor": "forged"})


def test_a_crashing_leg_runs_again_when_the_tool_asks(
    mcp: FlaskMCP, app: Flask
) -> None:
    with client(mcp, app, MODERN) as c:
        task = c.call_tool_as_task("flaky", {"marker": "m1"})
        done = c.wait_for_task(task["taskId"])
        assert done["result"]["content"][0]["text"] == "second attempt worked"
        crashed = c.wait_for_task(c.call_tool_as_task("crashes")["taskId"])
        # As a plain call would answer: a tool error, with the detail masked.
        assert crashed["status"] == "completed"
        assert crashed["result"]["isError"] is True
        assert "secret" not in json.dumps(crashed)


def test_tool_errors_complete_and_protocol_errors_fail(
    mcp: FlaskMCP, app: Flask
) -> None:
    with client(mcp, app, MODERN) as c:
        done = c.wait_for_task(c.call_tool_as_task("tool_error")["taskId"])
        assert (done["status"], done["result"]["isError"]) == ("completed", True)
    with client(mcp, app, LEGACY) as c:
        task = c.call_tool_as_task("tool_error")
        assert c.wait_for_task(task["taskId"])["status"] == "failed"  # 2025 rule
        assert c.task_result(task["taskId"])["isError"] is True


def test_a_result_larger_than_kept_fails_the_task(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, MODERN) as c:
        done = c.wait_for_task(c.call_tool_as_task("huge")["taskId"])
    assert done["status"] == "failed"
    assert "larger than this server keeps" in done["error"]["message"]
    assert "result" not in done


def test_a_key_reused_for_another_question_fails_the_task(
    mcp: FlaskMCP, app: Flask
) -> None:
    with client(mcp, app, MODERN) as c:
        done = c.wait_for_task(c.call_tool_as_task("changes_its_question")["taskId"])
    assert done["status"] == "failed"
    assert "its own key" in done["error"]["message"]


def test_asking_first_answers_before_the_task_exists(mcp: FlaskMCP, app: Flask) -> None:
    headers = {"X-Key": "key-alice"}
    body = modern_body(
        "tools/call", {"name": "confirm_then_work", "arguments": {"ledger": "L"}}
    )
    body["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"][
        "elicitation"
    ] = {}
    status, first = raw(
        app, body, {**modern_headers(body, "confirm_then_work"), **headers}
    )
    asked = first["result"]
    assert (asked["resultType"], "taskId" in asked) == ("input_required", False)
    body["params"]["inputResponses"] = {"go": accept({})}
    body["params"]["requestState"] = asked["requestState"]
    status, second = raw(
        app, body, {**modern_headers(body, "confirm_then_work"), **headers}
    )
    created = second["result"]
    assert created["resultType"] == "task" and "requestState" not in created
    with client(mcp, app, MODERN) as c:
        done = c.wait_for_task(created["taskId"])
    assert done["result"]["content"][0]["text"] == "worked for Ada"
    # The final round's state is spent: no second task from a replay.
    status, replay = raw(
        app, body, {**modern_headers(body, "confirm_then_work"), **headers}
    )
    assert (status, replay["error"]["code"]) == (400, -32602)
    assert mcp.runs == ["L"]  # type: ignore[attr-defined]


def test_a_session_that_cannot_travel_is_refused(tmp_path: t.Any) -> None:
    class Opaque:
        sub = "x"

    mcp = FlaskMCP(authenticate=lambda request: Opaque())

    @mcp.tool(task="optional")
    def job() -> str:
        return "never"

    app = Flask("opaque", instance_path=str(tmp_path))
    mcp.init_app(app)
    with mcp.test_client(app, protocol_version=MODERN) as c:
        with pytest.raises(
            MCPError, match="cannot hand the caller's session"
        ) as refused:
            c.call_tool_as_task("job")
    assert refused.value.code == -32603


@pytest.mark.parametrize(
    "mcp_config", [{"MCP_STATELESS": True, "MCP_REQUEST_TIMEOUT": 0.5}]
)
def test_without_sessions_tasks_result_waits_only_a_while(
    mcp: FlaskMCP, app: Flask
) -> None:
    """A server without sessions cannot hand the wait to a resumable stream:
    tasks/result gives up well before gunicorn's timeout, saying why."""
    with client(mcp, app, LEGACY) as c:
        task = c.call_tool_as_task("slow", {"seconds": 30})
        started = time.monotonic()
        with pytest.raises(MCPError, match="still working: call tasks/result again"):
            c.task_result(task["taskId"])
        assert time.monotonic() - started < 3
        c.cancel_task(task["taskId"])
        done = c.call_tool_as_task("slow", {"seconds": 0})
        c.wait_for_task(done["taskId"])
        assert c.task_result(done["taskId"])["content"][0]["text"] == "slept 0"


@pytest.mark.parametrize("mcp_config", [{"MCP_TASKS_TTL": 1}])
def test_an_expired_task_is_gone_and_swept(mcp: FlaskMCP, app: Flask) -> None:
    with client(mcp, app, MODERN) as c:
        task = c.call_tool_as_task("slow", {"seconds": 0})
        assert task["ttlMs"] == 1000
        assert c.wait_for_task(task["taskId"])["status"] == "completed"
        time.sleep(1000 / 1000 + 5 + 0.5)  # its lifetime, and the record's grace
        with pytest.raises(MCPError, match="Task not found") as gone:
            c.get_task(task["taskId"])
    assert gone.value.code == -32602
    # The file store drops the record and its result at the next sweep.
    assert mcp.state(app).store.remove_expired() >= 2
