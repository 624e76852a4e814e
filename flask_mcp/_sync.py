"""Run what users hand us, ``def`` or ``async def``, from sync code.

gunicorn's sync workers call Flask views in a plain thread. A user function
declared ``async def`` returns a coroutine there, which is truthy: used as a
session or as an access check it would let every request in. Everything a
user passes as a function goes through :func:`run_sync`, which awaits such a
result on an event loop kept per thread (creating a loop per call costs more
than most tools do).
"""

from __future__ import annotations

import inspect
import threading
import typing as t

# asyncio is imported the first time something is awaited: a worker whose
# functions are all ``def`` does not hold it in memory.
if t.TYPE_CHECKING:
    import asyncio

T = t.TypeVar("T")

_local = threading.local()


def run_sync(value: t.Awaitable[T] | T) -> T:
    """``value`` itself, or the result of awaiting it.

    :raises TypeError: if awaiting gives another awaitable: a value that is
        still awaitable must never pass for a session or a permission.
    """
    if not inspect.isawaitable(value):
        return value
    result = _loop_run(value)
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise TypeError("an async function returned another awaitable")
    return t.cast(T, result)


def call(fn: t.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """``fn(*args, **kwargs)``, awaited if ``fn`` is asynchronous."""
    return run_sync(fn(*args, **kwargs))


def close_thread_loop() -> None:
    """Close this thread's event loop, if it made one.

    Worker threads live as long as the worker; threads started for one
    request (streamed calls) call this before they end, so their loop and
    its sockets do not wait for the garbage collector.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is not None and not loop.is_closed():
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    _local.loop = None


def _loop_run(awaitable: t.Awaitable[t.Any]) -> t.Any:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Called from inside a running loop (an ASGI adapter, a test runner):
        # that loop cannot be re-entered, so this one call gets a thread.
        return _in_thread(awaitable)
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(_as_coroutine(awaitable))


def _in_thread(awaitable: t.Awaitable[t.Any]) -> t.Any:
    box: dict[str, t.Any] = {}

    def target() -> None:
        try:
            box["value"] = _loop_run(awaitable)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc
        finally:
            close_thread_loop()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _as_coroutine(awaitable: t.Awaitable[t.Any]) -> t.Any:
    return await awaitable
