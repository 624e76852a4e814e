"""Print pip constraints pinning every runtime dependency to its lower bound.

``make test-min`` installs flask_mcp with these into a separate venv and runs
the fast tiers, so the lower bounds of ``install_requires`` (and of the
user-facing extras) in setup.py stay true. A requirement without a ``>=``
lower bound is an error: each one must say which version is the oldest.

Usage: ``python .ci/min_constraints.py [setup.py] > constraints.txt``
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

#: Extras users install; the others (dev, test) are our tools, not bounds.
USER_EXTRAS = (
    "redis",
    "pydantic",
    "caching",
    "celery",
    "gateway",
    "metrics",
    "otel",
    "limits",
)
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\[\]-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)(,.*)?$")


def requirements(setup_py: Path) -> list[str]:
    """``install_requires`` and the user extras, read from setup.py's AST."""
    tree = ast.parse(setup_py.read_text(), str(setup_py))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup":
            keywords = {k.arg: k.value for k in node.keywords}
            found = list(ast.literal_eval(keywords["install_requires"]))
            extras = keywords.get("extras_require")
            if isinstance(extras, ast.Dict):
                for key, value in zip(extras.keys, extras.values, strict=True):
                    if key is not None and ast.literal_eval(key) in USER_EXTRAS:
                        found += ast.literal_eval(value)
            return found
    raise SystemExit(f"no setup() call in {setup_py}")


def pins(found: list[str]) -> list[str]:
    lines = []
    for requirement in found:
        match = REQUIREMENT.match(requirement.strip())
        if not match:
            raise SystemExit(f"{requirement!r} has no lower bound (name>=version)")
        name = re.sub(r"\[.*\]", "", match.group(1))
        lines.append(f"{name}=={match.group(2)}")
    return lines


if __name__ == "__main__":
    setup = Path(sys.argv[1] if len(sys.argv) > 1 else "setup.py")
    print("\n".join(pins(requirements(setup))))
