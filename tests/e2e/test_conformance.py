"""The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
tools/package.json) against the example app served by real gunicorn sync
workers, once per shared store.

How the suite reports (``conformance server --url URL --suite all -o DIR``):

* stdout ends with a summary, one line per scenario, then the check totals::

      === SUMMARY ===
      ✓ server-initialize: 1 passed, 0 failed
      ✗ logging-set-level: 0 passed, 1 failed
      ...
      Total: 12 passed, 22 failed

  The counts there are *checks* (a scenario may have several), and checks
  with status WARNING are not shown at all;
* ``DIR/server-<scenario>-<timestamp>/checks.json`` lists every check with
  its status: SUCCESS, FAILURE, WARNING or INFO;
* the exit code is 1 if any check failed.

So a scenario counts as passed here when its summary line says 0 failed and
its checks.json has at least one SUCCESS and no FAILURE nor WARNING; the test
wants all 32 scenarios passed, 0 failed, 0 warnings (and exit code 0).
The raw output, the checks.json files and the gunicorn log are kept in
tests/artifacts/conformance/<store>/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest

from support import ARTIFACTS_DIR
from support import TOOLS_DIR
from support import GunicornServer
from support import run_node

EXPECTED_SCENARIOS = 32
SUITE_TIMEOUT = 240  # seconds; pytest-timeout is 300 per test
CONFORMANCE_JS = (
    TOOLS_DIR
    / "node_modules"
    / "@modelcontextprotocol"
    / "conformance"
    / "dist"
    / "index.js"
)

_SUMMARY_LINE = re.compile(
    r"^(?P<mark>[✓✗]) (?P<scenario>\S+): (?P<passed>\d+) passed, (?P<failed>\d+) failed"
    r"(?:, (?P<warnings>\d+) warnings)?\s*$"
)
_TOTAL_LINE = re.compile(
    r"^Total: (?P<passed>\d+) passed, (?P<failed>\d+) failed"
    r"(?:, (?P<warnings>\d+) warnings)?"
)
_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@dataclass
class ConformanceResult:
    """What one run of ``conformance server --suite ...`` reported."""

    #: scenario -> statuses of its checks (from checks.json), in summary order
    checks: dict[str, list[str]] = field(default_factory=dict)
    #: scenario -> failure messages, for the assertion message
    problems: dict[str, list[str]] = field(default_factory=dict)
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
        if failed_checks or bad or "SUCCESS" not in statuses:
            result.failed += 1
            result.problems[name] = bad or [f"summary: {failed_checks} failed checks"]
        else:
            result.passed += 1
    return result


@pytest.mark.parametrize("store", ["file", "redis"])
def test_conformance_suite(store, request):
    """All 32 conformance scenarios pass, with 2 sync workers sharing the store."""
    env: dict[str, str | None] = {"MCP_STORE_URL": None}
    if store == "redis":
        redis_server = request.getfixturevalue("redis_server")
        redis_server.flushall()
        env["MCP_STORE_URL"] = redis_server.url

    artifacts = ARTIFACTS_DIR / "conformance" / store
    shutil.rmtree(artifacts, ignore_errors=True)
    results_dir = artifacts / "results"
    results_dir.mkdir(parents=True)

    with GunicornServer(workers=2, env=env) as server:
        argv = [
            CONFORMANCE_JS,
            "server",
            "--url",
            f"{server.url}/mcp",
            "--suite",
            "all",
            "-o",
            results_dir,
        ]
        try:
            run = run_node(argv, timeout=SUITE_TIMEOUT, env={"NO_COLOR": "1"})
            output, returncode = run.stdout, run.returncode
        except subprocess.TimeoutExpired as exc:
            partial = exc.output or b""
            if isinstance(partial, bytes):
                partial = partial.decode("utf-8", "replace")
            output = partial + f"\n[suite killed after {SUITE_TIMEOUT}s]"
            returncode = None
        server_log = server.log()

    (artifacts / "suite-output.txt").write_text(output, encoding="utf-8")
    (artifacts / "gunicorn.log").write_text(server_log, encoding="utf-8")

    result = parse_conformance(output, results_dir)
    got = (result.passed, result.failed, result.warnings)
    message = (
        f"conformance ({store} store): {result.passed} passed, {result.failed} failed,"
        f" {result.warnings} warnings; want {EXPECTED_SCENARIOS}, 0, 0"
        f" (suite exit code {returncode}; {result.total_line})\n"
        f"{result.describe_problems()}\n"
        f"--- conformance output ---\n{output}\n"
        f"--- gunicorn log (last 20000 chars) ---\n{server_log[-20000:]}"
    )
    assert got == (EXPECTED_SCENARIOS, 0, 0) and returncode == 0, message


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
