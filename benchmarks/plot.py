"""Draw the committed benchmark results as SVG charts, without dependencies.

For each ``results/<name>.json`` it writes ``results/<name>.svg``: one row
per variant with its throughput ratio against the baseline (the median, a
dot per round) and the target as a line. Run after a benchmark::

    python -m benchmarks.plot
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from benchmarks import plot_held

RESULTS = Path(__file__).resolve().parent / "results"
TITLES = {
    "tools_call": "tools/call (2025-11-25) vs a bare Flask view",
    "modern": "tools/call: 2026-07-28 and 2025-11-25 vs a bare Flask view",
    "auth": "Bearer JWT verification vs the same server without auth",
    "per_call": "add(a, b) on make serve's worker, both eras and JWT, vs bare Flask",
    "workers": "add(a, b): gthread (flask_mcp.gunicorn) and sync workers",
    "store_outage": "Store-free tools/call with Redis frozen vs healthy",
    "store_outage_before": "The same before this round (pickles, no circuit)",
    "ops": "tools/call with tracing (all spans; 1 trace in 10), metrics, audit",
}
WIDTH, LEFT, ROW, TOP = 640, 120, 44, 48
SCALE_MAX = 1.3  # ratios drawn from 0 to this


def chart(name: str, result: dict) -> str:
    if name.startswith("held_"):
        return plot_held.chart(name, result)
    rows = [(k, v) for k, v in result["summary"].items() if "rps_ratio" in v]
    height = TOP + ROW * len(rows) + 40
    plot = WIDTH - LEFT - 20

    def x(ratio: float) -> float:
        return LEFT + plot * min(ratio, SCALE_MAX) / SCALE_MAX

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14">{escape(TITLES.get(name, name))}</text>',
        f'<text x="10" y="36" fill="#555">req/s ratio, median of '
        f"{result['settings']['rounds']} rounds (dots: each round)"
        f"{_load(result)}</text>",
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0, 1.25):
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}"'
            f' y2="{TOP + ROW * len(rows)}" stroke="#ddd"/>'
            f'<text x="{x(tick):.1f}" y="{TOP + ROW * len(rows) + 16}"'
            f' text-anchor="middle" fill="#555">{tick:g}</text>'
        )
    for index, (variant, summary) in enumerate(rows):
        y = TOP + ROW * index
        ratio, target = summary["rps_ratio"], summary.get("target_ratio")
        color = "#2b7a3d" if summary.get("meets_ratio", True) else "#b3261e"
        parts.append(
            f'<text x="10" y="{y + 22}">{escape(variant)}</text>'
            f'<rect x="{LEFT}" y="{y + 8}" width="{x(ratio) - LEFT:.1f}" height="20"'
            f' fill="{color}" opacity="0.75"/>'
            f'<text x="{x(ratio) + 4:.1f}" y="{y + 22}">{ratio:.3f}</text>'
        )
        for each in summary.get("rps_ratio_per_round", ()):
            parts.append(
                f'<circle cx="{x(each):.1f}" cy="{y + 34}" r="2.5" fill="#333"/>'
            )
        if target is not None:
            parts.append(
                f'<line x1="{x(target):.1f}" y1="{y + 4}" x2="{x(target):.1f}"'
                f' y2="{y + 40}" stroke="#000" stroke-dasharray="4 2"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _load(result: dict) -> str:
    load = result["settings"].get("load_average")
    return f"; load average {load[0]:.1f}" if load else ""


def main() -> int:
    for path in sorted(RESULTS.glob("*.json")):
        svg = path.with_suffix(".svg")
        svg.write_text(chart(path.stem, json.loads(path.read_text())))
        print(f"written: {svg}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
