"""SVG charts of the held-connection runs (``results/held_*.json``).

Each row is one measured quantity as a bar on a logarithmic scale of
milliseconds, the run before this round's work (``before``, grey) above the
run after it, and the target as a dashed line; the load average of the
machine during each run is in the subtitle. Drawn by :mod:`benchmarks.plot`.
"""

from __future__ import annotations

import math
import typing as t
from xml.sax.saxutils import escape

WIDTH, LEFT, ROW, TOP = 680, 200, 46, 58
LOW, HIGH = 1.0, 200_000.0  # milliseconds, the ends of the log scale
TITLES = {
    "crowd": "{idle} idle 2025 clients + {listeners} listeners; a client calls",
    "caps": "{abusers} listens from one {one}; {idle} + {listeners} others",
    "shutdown": "SIGTERM: {idle} + {listeners} held streams, a {tool} s tool",
}

Row = tuple[
    str, float | None, float | None, float | None
]  # label, after, before, target


def rows(scenario: str, result: dict[str, t.Any]) -> list[Row]:
    """What a scenario's chart shows, in milliseconds."""
    after, before = result["result"], (result.get("before") or {}).get("result", {})

    def get(run: dict[str, t.Any], *path: str, scale: float = 1.0) -> float | None:
        value: t.Any = run
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return None if value is None else float(value) * scale

    if scenario == "crowd":
        return [
            (
                "tools/call p50",
                get(after, "caller", "p50_ms"),
                get(before, "caller", "p50_ms"),
                20,
            ),
            (
                "tools/call p99",
                get(after, "caller", "p99_ms"),
                get(before, "caller", "p99_ms"),
                250,
            ),
            (
                "list_changed, all listeners",
                _reached(after, "list_changed_to_listeners"),
                _reached(before, "list_changed_to_listeners"),
                2000,
            ),
            (
                "list_changed, all idle clients",
                _reached(after, "list_changed_to_idle"),
                _reached(before, "list_changed_to_idle"),
                2000,
            ),
        ]
    if scenario == "caps":
        return [
            ("tools/call p50", get(after, "caller", "p50_ms"), None, 20),
            ("tools/call p99", get(after, "caller", "p99_ms"), None, 250),
        ]
    return [
        (
            "workers gone after SIGTERM",
            get(after, "workers_gone_after_s", scale=1000),
            get(before, "workers_gone_after_s", scale=1000),
            None,
        ),
        (
            "... beyond the tool",
            get(after, "beyond_tool_s", scale=1000),
            get(before, "beyond_tool_s", scale=1000),
            2000,
        ),
    ]


def _reached(run: dict[str, t.Any], key: str) -> float | None:
    """Delivery time to every client, or the top of the scale if some never
    got it."""
    delivery = run.get(key)
    if not delivery:
        return None
    if delivery["reached"] < delivery["of"] or delivery["max_s"] is None:
        return HIGH
    return float(delivery["max_s"]) * 1000


def x(ms: float) -> float:
    span = math.log10(HIGH) - math.log10(LOW)
    share = (math.log10(min(max(ms, LOW), HIGH)) - math.log10(LOW)) / span
    return LEFT + (WIDTH - LEFT - 70) * share  # room for the last label


def chart(name: str, result: dict[str, t.Any]) -> str:
    options = result["options"]
    scenario = result["scenario"]
    title = TITLES[scenario].format(
        idle=options["idle"],
        listeners=options["listeners"],
        abusers=options.get("abusers"),
        one=options.get("one", "address"),
        tool=options.get("tool_seconds"),
    )
    loads = [f"after: load {_load(result)}"]
    if result.get("before"):
        loads.insert(0, f"before (grey): load {_load(result['before'])}")
    drawn = rows(scenario, result)
    height = TOP + ROW * len(drawn) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        ' font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14">{escape(title)}</text>',
        f'<text x="10" y="36" fill="#555">milliseconds, log scale; dashed: target;'
        f" {escape('; '.join(loads))}</text>",
    ]
    for tick in (1, 10, 100, 1000, 10_000, 100_000):
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}"'
            f' y2="{TOP + ROW * len(drawn)}" stroke="#ddd"/>'
            f'<text x="{x(tick):.1f}" y="{TOP + ROW * len(drawn) + 16}"'
            f' text-anchor="middle" fill="#555">{tick:g}</text>'
        )
    for index, (label, after, before, target) in enumerate(drawn):
        y = TOP + ROW * index
        parts.append(f'<text x="10" y="{y + 26}">{escape(label)}</text>')
        if before is not None:
            parts.append(_bar(y + 4, before, "#999"))
        if after is not None:
            good = target is None or after <= target
            parts.append(_bar(y + 20, after, "#2b7a3d" if good else "#b3261e"))
        if target is not None:
            parts.append(
                f'<line x1="{x(target):.1f}" y1="{y + 2}" x2="{x(target):.1f}"'
                f' y2="{y + 38}" stroke="#000" stroke-dasharray="4 2"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _bar(y: float, ms: float, color: str) -> str:
    text = (
        "never" if ms >= HIGH else f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1000:.3g} s"
    )
    return (
        f'<rect x="{LEFT}" y="{y}" width="{max(1.0, x(ms) - LEFT):.1f}" height="14"'
        f' fill="{color}" opacity="0.8"/>'
        f'<text x="{x(ms) + 4:.1f}" y="{y + 11}" font-size="11">{text}</text>'
    )


def _load(result: dict[str, t.Any]) -> str:
    before = result["load_average_before"][0]
    after = result["load_average_after"][0]
    return f"{before:.1f}-{after:.1f}"
