"""The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
tools/package.json) against the example app served by real gunicorn
workers, once per shared store.

Three runs per store, against one server whose task legs run in threads:

* ``0.1.16 server --suite all``: the 2025 revisions, 32 scenarios;
* ``0.2.0-alpha.12 server --requirements 2026-07-28``: every scenario the
  2026-07-28 revision requires (37), plus the pending ``json-schema-2020-12``,
  ``http-header-validation`` and ``http-custom-header-server-validation``,
  plus the 10 scenarios of the tasks extension (run by the suite, not
  scored by it; counted here);
* ``0.2.0-alpha.12 server --requirements 2025-11-25``: the frozen 2025-11-25
  set (30), plus what that line runs unscored (two pending scenarios and
  ``server-session-lifecycle``), all required to pass too.

The 2026-07-28 run (the one with the tasks scenarios) runs again on each
store with the legs on a Celery worker in its own process.

How the suite reports:

* stdout ends with a summary, one line per scenario, then the check totals::

      === SUMMARY ===
      ✓ server-initialize: 1 passed, 0 failed
      ✗ logging-set-level: 0 passed, 1 failed
      ...
      Total: 12 passed, 22 failed

  The counts there are *checks* (a scenario may have several), and checks
  with status WARNING are not shown at all. The 0.2 line adds a "Not scored"
  list after the totals, each scenario tagged ``(extension)``, ``(pending)``
  or ``(added-after-release)``;
* ``DIR/server-<scenario>-<timestamp>/checks.json`` lists every check with
  its status: SUCCESS, FAILURE, WARNING, INFO or SKIPPED;
* the exit code is 1 if any scored check failed.

So a scenario counts as passed here when its summary line says 0 failed and
its checks.json has at least one SUCCESS and no FAILURE nor WARNING; each
run wants all its scenarios passed, 0 failed, 0 warnings (and exit code 0).
One exception, :data:`SUITE_SKIPS`: a scenario the suite itself only skips
in this release passes with its one SKIPPED check (what it would test is
tested in tests/e2e, named there).
The raw output, the checks.json files and the gunicorn log are kept in
tests/artifacts/conformance/<store>/<run>/.

The server runs as ``make serve`` does (``-c python:flask_mcp.gunicorn``:
two workers of flask_mcp's gthread worker) with every ``MCP_*`` setting at
its default: a listen stream the suite leaves open holds a spare thread,
not a worker, so the requests that follow are served at once.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import typing as t
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

from flask_mcp import gunicorn as serve_config
from support import ARTIFACTS_DIR
from support import TOOLS_DIR
from support import GunicornServer
from support import run_node
from support.celery_worker import CeleryWorker

SUITE_TIMEOUT = 240  # seconds; pytest-timeout is 300 per test
NODE_MODULES = TOOLS_DIR / "node_modules"
CONFORMANCE_JS = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist"
NEXT_JS = NODE_MODULES / "conformance-next" / "dist"


@dataclass(frozen=True)
class SuiteRun:
    """One invocation of the suite: which build, which arguments, how many
    scenarios it must report (extension scenarios left out)."""

    entry: Path
    args: tuple[str, ...]
    scenarios: int


RUNS = {
    "0.1.16-all": SuiteRun(CONFORMANCE_JS / "index.js", ("--suite", "all"), 32),
    "0.2-2026-07-28": SuiteRun(
        NEXT_JS / "index.js", ("--requirements", "2026-07-28"), 37 + 3 + 10
    ),
    "0.2-2025-11-25": SuiteRun(
        NEXT_JS / "index.js", ("--requirements", "2025-11-25"), 30 + 3
    ),
}

#: Where the legs of tasks run, and on which store: every run with threads
#: on both stores; the run of the tasks scenarios also on Celery.
DEPLOYMENTS = {
    ("file", "thread"): list(RUNS),
    ("redis", "thread"): list(RUNS),
    ("file", "celery"): ["0.2-2026-07-28"],
    ("redis", "celery"): ["0.2-2026-07-28"],
}
#: Scenarios 0.2.0-alpha.12 runs without checking anything (one SKIPPED
#: check), and the tests that check it here instead.
SUITE_SKIPS = {
    # "pending subscriptions/listen rewrite" in the suite:
    "tasks-status-notifications": "tests/e2e/test_tasks_http.py::test_listen_*",
}

_SUMMARY_LINE = re.compile(
    r"^(?P<mark>[✓✗]) (?P<scenario>\S+): (?P<passed>\d+) passed, (?P<failed>\d+) failed"
    r"(?:, (?P<warnings>\d+) warnings)?\s*$"
)
_TOTAL_LINE = re.compile(
    r"^Total: (?P<passed>\d+) passed, (?P<failed>\d+) failed"
    r"(?:, (?P<warnings>\d+) warnings)?"
)
_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
#: A line of the 0.2 line's "Not scored" list: ``  ✗ tasks-lifecycle (extension)``.
_UNSCORED_LINE = re.compile(r"^\s+[✓✗] (?P<scenario>\S+) \((?P<why>[a-z-]+)\)\s*$")


@dataclass
class ConformanceResult:
    """What one run of ``conformance server --suite ...`` reported."""

    #: scenario -> statuses of its checks (from checks.json), in summary order
    checks: dict[str, list[str]] = field(default_factory=dict)
    #: scenario -> failure messages, for the assertion message
    problems: dict[str, list[str]] = field(default_factory=dict)
    #: scenarios of an extension the suite runs but does not score (counted)
    extensions: list[str] = field(default_factory=list)
    passed: int = 0  # scenarios
    failed: int = 0  # scenarios
    warnings: int = 0  # WARNING checks, over all scenarios
    total_line: str | None = None  # the suite's own "Total: ..." line

    def describe_problems(self) -> str:
        return "\n".join(
            f"  {name}: " + "; ".join(msgs) for name, msgs in self.problems.items()
        )


def parse_conformance(stdout: str, output_dir: Path) -> ConformanceResult:
    """Scenario verdicts from the summary in ``stdout`` and the checks.json files."""
    result = ConformanceResult()
    summary: dict[str, int] = {}  # scenario -> failed checks per the summary
    in_summary = False
    for line in stdout.splitlines():
        if line.strip() == "=== SUMMARY ===":
            in_summary = True
            continue
        if not in_summary:
            continue
        if match := _SUMMARY_LINE.match(line):
            summary[match["scenario"]] = int(match["failed"])
        elif _TOTAL_LINE.match(line):
            result.total_line = line.strip()
        elif (match := _UNSCORED_LINE.match(line)) and match["why"] == "extension":
            result.extensions.append(match["scenario"])

    details: dict[str, list[dict]] = {}
    for checks_file in sorted(output_dir.glob("*/checks.json")):
        match = _RESULT_DIR.match(checks_file.parent.name)
        name = match["scenario"] if match else checks_file.parent.name
        try:
            details[name] = json.loads(checks_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            details[name] = [
                {"status": "FAILURE", "errorMessage": f"bad checks.json: {exc}"}
            ]

    for name, failed_checks in summary.items():
        checks = details.get(name)
        if checks is None:
            checks = [{"status": "FAILURE", "errorMessage": "no checks.json written"}]
        statuses = [c.get("status", "?") for c in checks]
        result.checks[name] = statuses
        result.warnings += statuses.count("WARNING")
        bad = [
            f"{c.get('status')} {c.get('id') or c.get('name')}: "
            f"{c.get('errorMessage') or c.get('description', '')}"
            for c in checks
            if c.get("status") in ("FAILURE", "WARNING")
        ]
        skipped_by_suite = name in SUITE_SKIPS and set(statuses) == {"SKIPPED"}
        if failed_checks or bad or ("SUCCESS" not in statuses and not skipped_by_suite):
            result.failed += 1
            result.problems[name] = bad or [f"summary: {failed_checks} failed checks"]
        else:
            result.passed += 1
    return result


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest) -> tuple[str, str]:
    """``(store, executor)``, from the test's parameters."""
    return t.cast("tuple[str, str]", request.param)


@pytest.fixture(scope="module")
def server(
    deployment: tuple[str, str],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[GunicornServer]:
    """The example app as ``make serve`` runs it, with the file store or
    Redis; task legs in its threads or on a Celery worker (Redis as the
    broker)."""
    store, executor = deployment
    env: dict[str, str | None] = {
        "MCP_STORE_URL": None,
        "EXAMPLE_INSTANCE_PATH": str(tmp_path_factory.mktemp(f"{store}-{executor}")),
        "EXAMPLE_CELERY_BROKER": None,
    }
    if store == "redis" or executor == "celery":
        redis_server = request.getfixturevalue("redis_server")
        redis_server.flushall()
        if store == "redis":
            env["MCP_STORE_URL"] = redis_server.url
        if executor == "celery":
            env["EXAMPLE_CELERY_BROKER"] = redis_server.url.rsplit("/", 1)[0] + "/9"
    with contextlib.ExitStack() as stack:
        if executor == "celery":
            stack.enter_context(CeleryWorker(env=env))
        yield stack.enter_context(
            GunicornServer(
                workers=2,
                threads=serve_config.threads,
                env=env,
                args=("-c", "python:flask_mcp.gunicorn"),
            )
        )


@pytest.mark.parametrize(
    ("deployment", "run"),
    [(where, run) for where, runs in DEPLOYMENTS.items() for run in runs],
    indirect=["deployment"],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else value,
)
def test_conformance_suite(
    server: GunicornServer, deployment: tuple[str, str], run: str
) -> None:
    """Every scenario of the run passes with 2 workers sharing the store."""
    suite = RUNS[run]
    store = "-".join(deployment)
    artifacts = ARTIFACTS_DIR / "conformance" / store / run
    shutil.rmtree(artifacts, ignore_errors=True)
    results_dir = artifacts / "results"
    results_dir.mkdir(parents=True)
    log_start = len(server.log())

    argv = [
        suite.entry,
        "server",
        "--url",
        f"{server.url}/mcp",
        *suite.args,
        "-o",
        results_dir,
    ]
    try:
        completed = run_node(argv, timeout=SUITE_TIMEOUT, env={"NO_COLOR": "1"})
        output, returncode = completed.stdout, completed.returncode
    except subprocess.TimeoutExpired as exc:
        partial = exc.output or b""
        if isinstance(partial, bytes):
            partial = partial.decode("utf-8", "replace")
        output = partial + f"\n[suite killed after {SUITE_TIMEOUT}s]"
        returncode = None
    server_log = server.log()[log_start:]

    (artifacts / "suite-output.txt").write_text(output, encoding="utf-8")
    (artifacts / "gunicorn.log").write_text(server_log, encoding="utf-8")

    result = parse_conformance(output, results_dir)
    got = (result.passed, result.failed, result.warnings)
    verdict = (
        f"conformance {run} ({store} store): {result.passed} passed,"
        f" {result.failed} failed, {result.warnings} warnings;"
        f" want {suite.scenarios}, 0, 0 (suite exit code {returncode};"
        f" {result.total_line}; extension scenarios, counted:"
        f" {len(result.extensions)})"
    )
    (artifacts / "verdict.txt").write_text(verdict + "\n", encoding="utf-8")
    print(verdict)
    message = (
        f"{verdict}\n{result.describe_problems()}\n"
        f"--- conformance output ---\n{output}\n"
        f"--- gunicorn log (last 20000 chars) ---\n{server_log[-20000:]}"
    )
    assert got == (suite.scenarios, 0, 0) and returncode == 0, message


SAMPLE_OUTPUT = """\
Running all suite (3 scenarios) against http://127.0.0.1:1/mcp

=== Running scenario: ping ===
Results saved to /x/server-ping-2026-11-26T03-25-12-558Z

=== SUMMARY ===
✓ ping: 1 passed, 0 failed
✗ logging-set-level: 0 passed, 1 failed
✓ server-sse-polling: 2 passed, 0 failed

Total: 3 passed, 1 failed
"""


def test_parse_conformance_sample(tmp_path):
    """The parser on the output format of conformance 0.1.16 (no server needed)."""

    def write(scenario, *checks):
        folder = tmp_path / f"server-{scenario}-2026-11-26T03-25-12-558Z"
        folder.mkdir()
        data = [
            {"id": f"c{i}", "status": s, "errorMessage": "boom"}
            for i, s in enumerate(checks)
        ]
        (folder / "checks.json").write_text(json.dumps(data))

    write("ping", "SUCCESS")
    write("logging-set-level", "FAILURE")
    write("server-sse-polling", "INFO", "SUCCESS", "WARNING", "SUCCESS")

    result = parse_conformance(SAMPLE_OUTPUT, tmp_path)
    assert (result.passed, result.failed, result.warnings) == (1, 2, 1)
    assert result.checks["server-sse-polling"] == [
        "INFO",
        "SUCCESS",
        "WARNING",
        "SUCCESS",
    ]
    assert set(result.problems) == {"logging-set-level", "server-sse-polling"}
    assert result.total_line == "Total: 3 passed, 1 failed"

    # A scenario in the summary without its checks.json is a failure, too.
    assert parse_conformance(SAMPLE_OUTPUT, tmp_path / "missing").failed == 3
    # No summary at all (the suite crashed): nothing passed.
    assert parse_conformance("boom", tmp_path).passed == 0


SAMPLE_OUTPUT_0_2 = """\
=== SUMMARY ===
✓ server-stateless: 29 passed, 0 failed
✗ tasks-lifecycle: 1 passed, 8 failed
✓ json-schema-2020-12: 8 passed, 0 failed

Total: 38 passed, 8 failed

Not scored for 2026-07-28: 2 scenario(s) run, 1 failing.
  ✗ tasks-lifecycle (extension)
  ✓ json-schema-2020-12 (pending)
"""


def test_parse_conformance_counts_extension_scenarios(tmp_path: Path) -> None:
    """Unscored extension scenarios (0.2 line) count like the others; one the
    suite only skips passes only if listed in SUITE_SKIPS."""
    for scenario, status in (
        ("server-stateless", "SUCCESS"),
        ("tasks-lifecycle", "FAILURE"),
        ("json-schema-2020-12", "SUCCESS"),
        ("tasks-status-notifications", "SKIPPED"),
        ("tasks-wire-fields", "SKIPPED"),
    ):
        folder = tmp_path / f"server-{scenario}-2026-11-26T03-25-12-558Z"
        folder.mkdir()
        (folder / "checks.json").write_text(json.dumps([{"status": status}]))

    output = SAMPLE_OUTPUT_0_2.replace(
        "\nTotal:",
        "✓ tasks-status-notifications: 0 passed, 0 failed\n"
        "✓ tasks-wire-fields: 0 passed, 0 failed\n\nTotal:",
    )
    result = parse_conformance(output, tmp_path)
    assert (result.passed, result.failed, result.warnings) == (3, 2, 0)
    assert result.extensions == ["tasks-lifecycle"]
    assert set(result.problems) == {"tasks-lifecycle", "tasks-wire-fields"}
