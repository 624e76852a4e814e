"""Draw the gateway benchmark (``results/gateway/crowd.json``) for the docs.

Writes ``docs/_static/gateway-crowd.svg``: the caller's ``tools/call``
latency, how long the ``list_changed`` took to reach the last listener and
the last idle client, each against its target, and the workers' memory
before the crowd came and once it was connected; the load average of the
run under the title. Run after ``python -m benchmarks.bench_gateway``::

    python -m benchmarks.plot_gateway
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "benchmarks" / "results" / "gateway" / "crowd.json"
CHART = ROOT / "docs" / "_static" / "gateway-crowd.svg"
WIDTH, LEFT, ROW, GAP = 680, 230, 30, 26
BAR = WIDTH - LEFT - 90


def chart(record: dict) -> str:
    summary = record["summary"]
    options = record["options"]
    sections = [
        (
            "tools/call latency (ms), target p99 100",
            100.0,
            [
                ("p50", summary["tools_call_p50_ms"]),
                ("p99", summary["tools_call_p99_ms"]),
            ],
        ),
        (
            "list_changed reaches the last client (s), target 2; reached "
            + summary["reached"],
            2.0,
            [
                ("listeners", summary["list_changed_max_s_listeners"]),
                ("idle 2025 clients", summary["list_changed_max_s_idle"]),
            ],
        ),
        (
            "worker memory (RSS, MB) after a warm-up of requests, then with the crowd",
            None,
            [
                (f"worker {n + 1} before / connected", (before, after))
                for n, (before, after) in enumerate(
                    zip(
                        summary["worker_rss_mb_before"],
                        summary["worker_rss_mb_connected"],
                        strict=True,
                    )
                )
            ],
        ),
    ]
    rows = sum(len(bars) for _, _, bars in sections)
    height = 64 + rows * ROW + len(sections) * GAP + 10
    load = ", ".join(f"{x:g}" for x in record["load_average_before"])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        '<text x="10" y="20" font-size="14">make serve-gateway: '
        f"{options['listeners']} listeners and {options['idle']} idle 2025 clients"
        "</text>",
        f'<text x="10" y="38" fill="#555">{escape(record["when"])}, '
        f"{record['cpus']} CPUs, load average before the run {load}</text>",
    ]
    y = 64
    for title, target, bars in sections:
        parts.append(f'<text x="10" y="{y}" fill="#333">{escape(title)}</text>')
        y += 8
        values = [v for _, v in bars]
        flat = [x for v in values for x in (v if isinstance(v, tuple) else (v,))]
        scale = max([target or 0, *[x or 0 for x in flat]]) * 1.15 or 1.0
        for label, value in bars:
            parts.append(f'<text x="20" y="{y + 17}">{escape(label)}</text>')
            shown = value if isinstance(value, tuple) else (value,)
            for index, number in enumerate(shown):
                if number is None:
                    parts.append(
                        f'<text x="{LEFT}" y="{y + 17}" fill="#b3261e">none</text>'
                    )
                    continue
                good = target is None or number <= target
                color = ("#2b7a3d" if good else "#b3261e") if index == 0 else "#6b8fb3"
                top = y + 4 + index * 11
                height_ = 20 if len(shown) == 1 else 10
                width = BAR * number / scale
                parts.append(
                    f'<rect x="{LEFT}" y="{top}" width="{width:.1f}" height="{height_}"'
                    f' fill="{color}" opacity="0.8"/>'
                    f'<text x="{LEFT + width + 4:.1f}" y="{top + height_ - 1}">'
                    f"{number:g}</text>"
                )
            if target is not None:
                x = LEFT + BAR * target / scale
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{y + ROW}"'
                    ' stroke="#b3261e" stroke-dasharray="3,2"/>'
                )
            y += ROW
        y += GAP
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> int:
    CHART.write_text(chart(json.loads(RESULT.read_text())))
    print(f"wrote {CHART}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
