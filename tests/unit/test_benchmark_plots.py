"""The committed benchmark charts are drawn from the committed results."""

from __future__ import annotations

import json

import pytest

from benchmarks import plot

RESULTS = sorted(plot.RESULTS.glob("*.json"))


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.stem)
def test_chart_is_current(path) -> None:
    expected = plot.chart(path.stem, json.loads(path.read_text()))
    assert path.with_suffix(".svg").read_text() == expected, (
        "run python -m benchmarks.plot after a benchmark"
    )


def test_every_result_has_a_chart() -> None:
    assert {p.stem for p in RESULTS} == {
        "tools_call",
        "modern",
        "auth",
        # held connections and the per-call cost on make serve's worker
        "per_call",
        "workers",
        "held_crowd",
        "held_caps",
        "held_caps_principal",
        "held_shutdown",
        "store_outage",
        "store_outage_before",
        "ops",
    }


def test_tasks_chart_is_current() -> None:
    from benchmarks import bench_tasks

    results = {
        name: json.loads((bench_tasks.RESULTS / f"{name}.json").read_text())
        for name in bench_tasks.RUNS
    }
    committed = (bench_tasks.RESULTS / "tasks.svg").read_text()
    assert committed == bench_tasks.chart(results), (
        "run python -m benchmarks.bench_tasks --plot"
    )
