"""The decorators that declare a server's tools, resources and prompts.

As Flask's ``Scaffold`` holds the route decorators that ``Flask`` and
``Blueprint`` share, :class:`Scaffold` holds the component decorators; it
knows the :class:`~flask_mcp.components.registry.Registry` and nothing of
Flask. :class:`~flask_mcp.FlaskMCP` adds the app.
"""

from __future__ import annotations

import typing as t

from .components.component import Component
from .components.prompts import Prompt
from .components.registry import Completer
from .components.registry import Kind
from .components.registry import Registry
from .components.resources import Resource
from .components.tools import Tool

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class Scaffold:
    """Component registration: ``@tool``, ``@prompt``, ``@resource``,
    ``@completion``, :meth:`add` and :meth:`remove_tool`."""

    def __init__(self) -> None:
        #: Everything this server offers.
        self.registry = Registry()

    def _list_changed(self, kind: Kind) -> None:
        """Called when a list changed; the extension tells live clients."""

    @t.overload
    def tool(self, fn: F, /) -> F: ...
    @t.overload
    def tool(
        self,
        fn: str | None = None,
        /,
        *,
        name: str | None = None,
        replace: bool = False,
        **options: t.Any,
    ) -> t.Callable[[F], F]: ...
    def tool(
        self,
        fn: t.Any = None,
        /,
        *,
        name: str | None = None,
        replace: bool = False,
        **options: t.Any,
    ) -> t.Any:
        """Register a function as a tool: ``@mcp.tool`` or ``@mcp.tool(...)``.

        Arguments come from the type hints, or from a marshmallow ``schema``,
        or from a JSON Schema ``input_schema`` published exactly as given.
        ``options`` are those of :meth:`Tool.from_function
        <flask_mcp.components.tools.Tool.from_function>` (``description``,
        ``title``, ``schema``, ``input_schema``, ``output_schema``,
        ``can_access``, ``step_up``, ``read_only``, ``destructive``,
        ``idempotent``, ``open_world``, ``meta``, ``icons``, ``headers``,
        ``rate_limit``).

        :param replace: replace a tool of the same name instead of failing.
        """
        return self._decorator(
            fn,
            name,
            lambda f, chosen: Tool.from_function(f, name=chosen, **options),
            replace,
        )

    @t.overload
    def prompt(self, fn: F, /) -> F: ...
    @t.overload
    def prompt(
        self,
        fn: str | None = None,
        /,
        *,
        name: str | None = None,
        replace: bool = False,
        **options: t.Any,
    ) -> t.Callable[[F], F]: ...
    def prompt(
        self,
        fn: t.Any = None,
        /,
        *,
        name: str | None = None,
        replace: bool = False,
        **options: t.Any,
    ) -> t.Any:
        """Register a prompt: ``@mcp.prompt`` or ``@mcp.prompt(...)``.

        Its parameters are the prompt's arguments; those annotated ``int``,
        ``float``, ``bool``, an ``Enum`` or a ``Literal`` are converted from
        the client's strings. ``options``: ``description``, ``title``,
        ``can_access``, ``meta``, ``icons``.
        """
        return self._decorator(
            fn,
            name,
            lambda f, chosen: Prompt.from_function(f, name=chosen, **options),
            replace,
        )

    def resource(
        self, uri: str, /, *, replace: bool = False, **options: t.Any
    ) -> t.Callable[[F], F]:
        """Register a resource; a URI with ``{variables}`` makes a template.

        The variables must be the function's parameters. ``options``:
        ``name``, ``description``, ``title``, ``mime_type``, ``can_access``,
        ``meta``, ``icons``, ``annotations``, ``size``.
        """
        if callable(uri):
            raise TypeError(
                "mcp.resource needs a URI: write @mcp.resource('notes://{id}')"
            )

        def decorator(fn: F) -> F:
            self.add(Resource.from_function(fn, uri, **options), replace=replace)
            return fn

        return decorator

    def completion(
        self, *, argument: str, prompt: str | None = None, resource: str | None = None
    ) -> t.Callable[[Completer], Completer]:
        """Register suggestions for one argument of a prompt or resource template.

        The function takes the typed value and the other arguments and
        returns the suggestions; it may be ``async def``.
        """
        if (prompt is None) == (resource is None):
            raise TypeError("give exactly one of prompt= or resource=")
        ref_type, ref = (
            ("ref/prompt", prompt) if prompt is not None else ("ref/resource", resource)
        )

        def decorator(fn: Completer) -> Completer:
            self.registry.add_completer(ref_type, t.cast(str, ref), argument, fn)
            return fn

        return decorator

    def add(self, component: Component, *, replace: bool = False) -> None:
        """Register a built component (:class:`Tool`, :class:`Resource`, ...).

        :raises RegistrationError: when its name is taken and ``replace`` is false.
        """
        self._list_changed(self.registry.add(component, replace=replace))

    def remove_tool(self, name: str) -> None:
        """Stop offering a tool; live sessions are told the list changed."""
        if self.registry.remove("tools", name):
            self._list_changed("tools")

    def _decorator(
        self,
        first: t.Any,
        name: str | None,
        build: t.Callable[[t.Callable[..., t.Any], str | None], Component],
        replace: bool,
    ) -> t.Any:
        """Support ``@mcp.tool``, ``@mcp.tool()``, ``@mcp.tool("name")`` and
        ``@mcp.tool(name="name")``."""
        if callable(first):
            self.add(build(first, name), replace=replace)
            return first
        if first is not None and name is not None:
            raise TypeError("give the name once: positionally or as name=")
        chosen = first if first is not None else name

        def decorator(fn: F) -> F:
            self.add(build(fn, chosen), replace=replace)
            return fn

        return decorator
