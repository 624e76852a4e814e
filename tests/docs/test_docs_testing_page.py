"""The testing guide's own test module, run against its app.

The functions and fixtures of ``docs/examples/test_testing_app.py`` are
collected here, so pytest runs them exactly as the page shows them.
"""

from __future__ import annotations

import importlib.util
import sys

from docs_helpers import EXAMPLES


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_load("testing_app")
_page = _load("test_testing_app")
globals().update(
    {
        name: value
        for name, value in vars(_page).items()
        if name.startswith("test_") or name in {"app", "client"}
    }
)
