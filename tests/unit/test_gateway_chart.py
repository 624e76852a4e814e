"""The gateway chart of the docs is drawn from the committed result."""

from __future__ import annotations

import json

from benchmarks import plot_gateway


def test_gateway_chart_is_current() -> None:
    expected = plot_gateway.chart(json.loads(plot_gateway.RESULT.read_text()))
    assert plot_gateway.CHART.read_text() == expected, (
        "run python -m benchmarks.plot_gateway after python -m benchmarks.bench_gateway"
    )
