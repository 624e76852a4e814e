"""How ``make test`` spreads the suite over pytest-xdist workers.

Run with ``--dist loadscope``, the conftest's ``pytest_xdist_make_scheduler``
uses :class:`ModuleScheduling`: the tests of one module go to one worker
(its module-scoped servers and builds start once), except the modules of
:data:`SPREAD`, whose tests are long, independent and in-process (the fuzz
tests under CI's budget): those go out one by one. (xdist's own
``loadgroup``, which would let a module choose, renames node ids in a way
pytest 9 no longer sees; this needs no renaming.)
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

#: Folders whose tests are spread one by one instead of by module.
SPREAD = ("tests/fuzz/",)


class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """A module per work unit, except the tests under :data:`SPREAD`."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return nodeid if module.startswith(SPREAD) else module
