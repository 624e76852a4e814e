"""Test tiers: what each test needs to run, found from the code it uses.

Every test belongs to one or more tiers, registered as pytest markers in
``pyproject.toml``:

* ``unit``: plain Python, no HTTP stack;
* ``http``: an in-process HTTP stack (Flask's test client, a loopback
  werkzeug server in a thread);
* ``gunicorn``: a gunicorn master with workers;
* ``redis``: a throwaway ``redis-server`` (``make system``);
* ``node``: Node 22 from ``tools/`` (``make node``);
* ``browser``: headless chromium through Playwright;
* ``gateway``: a throwaway Pushpin or nginx in front of gunicorn
  (``make system``).

``unit`` and ``http`` are the fast tiers (``make test-fast``): they need only
``make venv``. The other tiers need what ``make system`` and ``make node``
install.

How a test gets its tiers, at collection time (:func:`infer`):

1. explicit marks (``@pytest.mark.redis``, also on a ``pytest.param``);
2. its folder (:data:`DIRECTORY_TIERS`);
3. the code the test runs: its function, the functions of every fixture it
   uses (also those it names in a string, as ``getfixturevalue`` does), and,
   recursively, the functions and classes of ``tests/`` that those
   refer to by a global name. A support class or function declares what it
   starts with :func:`needs` (``GunicornServer`` needs ``gunicorn``), a name
   of a third-party module maps to a tier through :data:`MODULE_TIERS`
   (Playwright is ``browser``), and some attribute names through
   :data:`ATTRIBUTE_TIERS` (``app.test_client()`` is ``http``);
4. nothing found: ``unit``.

The inference can be wrong only one way that matters: missing a process a
test starts. So the process classes check it when they start
(:func:`require`): a test that starts gunicorn, Redis or Node without being in
that tier fails, naming the marker to add. Code reached only through a
computed value (``getfixturevalue(f"{kind}_server")``) is invisible to step 3:
mark it, or its folder.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The tiers; pyproject.toml registers them as markers, with what each needs.
TIERS = ("unit", "http", "gunicorn", "redis", "node", "browser", "gateway")
#: Tiers implied by referring to a module (prefix of its dotted name).
MODULE_TIERS = {"playwright": "browser", "werkzeug.serving": "http"}
#: Tiers implied by an attribute name used anywhere in the code.
ATTRIBUTE_TIERS = {"test_client": "http", "test_cli_runner": "http"}
#: Folders of tests/ whose every test is in a tier although some of them
#: choose their server at run time, where :func:`infer` cannot see it.
DIRECTORY_TIERS = {"integration_auth": {"gunicorn"}}

TESTS_DIR = Path(__file__).resolve().parents[1]
#: Where the conftest keeps the tiers :func:`infer` found for an item.
STASH_KEY = pytest.StashKey[frozenset[str]]()

F = t.TypeVar("F")
#: Names given to :func:`needs`: found also where they are imported inside a
#: function or used as an attribute (``support.GunicornServer``).
_DECLARED: dict[str, frozenset[str]] = {}


class TierError(Exception):
    """A test started a process of a tier it is not in."""


def needs(*tiers: str) -> t.Callable[[F], F]:
    """Declare that a support class or function runs something of ``tiers``.

    Whatever refers to it, fixtures and tests, is put in those tiers.
    """
    unknown = set(tiers) - set(TIERS)
    if unknown:
        raise ValueError(f"unknown tiers {sorted(unknown)}; known: {sorted(TIERS)}")

    def mark(obj: F) -> F:
        obj.__tiers__ = frozenset(tiers)  # type: ignore[attr-defined]
        _DECLARED[obj.__name__] = obj.__tiers__  # type: ignore[attr-defined]
        return obj

    return mark


# --------------------------------------------------------------------------
# inference at collection time


def infer(item: pytest.Item) -> frozenset[str]:
    """The tiers of ``item``: its marks, its folder and what its code uses.

    The code is the test function and every fixture it uses, including those
    named by a string in that code (``request.getfixturevalue("redis_server")``).
    """
    found = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
    path = Path(str(item.path)).resolve()
    if TESTS_DIR in path.parents:
        found |= DIRECTORY_TIERS.get(path.relative_to(TESTS_DIR).parts[0], set())
    manager = item.session._fixturemanager
    # (function, whether fixture names in its strings count)
    functions: list[tuple[t.Any, bool]] = [(getattr(item, "obj", None), True)]
    pending = list(getattr(item, "fixturenames", ()))
    looked_up: set[str] = set()
    while functions or pending:
        if functions:
            function, by_name = functions.pop()
            if function is not None:
                found |= _tiers_of_function(function)
                if by_name:
                    pending.extend(_strings_of_function(function))
            continue
        name = pending.pop()
        if name in looked_up:
            continue
        looked_up.add(name)
        for fixturedef in manager.getfixturedefs(name, item) or ():
            # An autouse fixture that names another one does so to act on
            # it when the test uses it anyway (``if name in
            # request.fixturenames``), not to start it.
            autouse = getattr(fixturedef, "_autouse", False)
            functions.append((fixturedef.func, not autouse))
            pending.extend(fixturedef.argnames)
    if len(found) > 1:
        found.discard("unit")
    return frozenset(found or {"unit"})


@functools.cache
def _strings_of_function(function: t.Any) -> frozenset[str]:
    """Identifier-like string constants of a function (maybe fixture names)."""
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None:
        return frozenset()
    return frozenset(
        const
        for inner in _code_objects(code)
        for const in inner.co_consts
        if isinstance(const, str) and const.isidentifier()
    )


@functools.cache
def _tiers_of_function(function: t.Any) -> frozenset[str]:
    """:func:`_tiers_of`, once per test or fixture function of a session."""
    return _tiers_of(function, set())


def _tiers_of(obj: object, seen: set[int]) -> frozenset[str]:
    """Tiers of a module, function or class and of the ``tests/`` code it uses.

    Anything else (a constant, a ``LocalProxy``...) has none and is not
    looked into: even ``getattr`` can fail on such values.
    """
    if inspect.ismodule(obj):
        return _module_tiers(obj.__name__)
    if inspect.ismethod(obj):
        obj = obj.__func__
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return frozenset()
    if inspect.isfunction(obj):
        obj = inspect.unwrap(obj)
    if id(obj) in seen:
        return frozenset()
    seen.add(id(obj))
    declared = getattr(obj, "__tiers__", None)
    if declared is not None:
        return frozenset(declared)
    if not _defined_in_tests(obj):
        return _module_tiers(obj.__module__)
    found: set[str] = set()
    for function in _functions_of(obj):
        namespace = function.__globals__
        for code in _code_objects(function.__code__):
            for name in code.co_names:
                found |= _module_tiers(name)
                if name in ATTRIBUTE_TIERS:
                    found.add(ATTRIBUTE_TIERS[name])
                found |= _DECLARED.get(name, frozenset())
                if name in namespace:
                    found |= _tiers_of(namespace[name], seen)
    return frozenset(found)


def _module_tiers(name: str) -> frozenset[str]:
    """The tiers that using the module ``name`` (or a name in it) implies."""
    return frozenset(
        tier for prefix, tier in MODULE_TIERS.items() if _within(name, prefix)
    )


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _defined_in_tests(obj: t.Any) -> bool:
    try:
        path = Path(inspect.getfile(obj)).resolve()
    except (TypeError, OSError):
        return False
    return TESTS_DIR in path.parents


def _functions_of(obj: t.Any) -> Iterator[types.FunctionType]:
    """The function itself, or every function defined in a class body."""
    if inspect.isfunction(obj):
        yield obj
        return
    for klass in obj.__mro__:
        if not _defined_in_tests(klass):
            continue
        for member in vars(klass).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            if inspect.isfunction(member):
                yield member


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and the code of every function, lambda and comprehension in it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


# --------------------------------------------------------------------------
# the check at run time

_current: tuple[str, frozenset[str]] | None = None


def enter(item: pytest.Item) -> None:
    """Record the running test (called from the conftest's runtest hooks)."""
    global _current
    found = item.stash.get(STASH_KEY, None)
    _current = (item.nodeid, infer(item) if found is None else found)


def leave() -> None:
    global _current
    _current = None


def require(tier: str) -> None:
    """Fail unless the running test (if any) is in ``tier``.

    Process classes call this as they start, so a test that needs more than
    its tiers say fails, instead of breaking ``make test-fast`` elsewhere.
    """
    if _current is None:
        return
    nodeid, tiers = _current
    if tier not in tiers:
        raise TierError(
            f"{nodeid} starts something of tier {tier!r} but is in "
            f"{sorted(tiers)}: mark the test or the fixture that starts it with "
            f"@pytest.mark.{tier} (see tests/support/tiers.py)"
        )
