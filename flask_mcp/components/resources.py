"""Resources and resource templates (MCP spec, "Server Features / Resources")."""

from __future__ import annotations

import datetime
import json
import re
import typing as t
from collections import abc
from dataclasses import dataclass
from dataclasses import field
from urllib.parse import unquote

from .component import Component
from .component import RegistrationError
from .component import common_fields
from .content import EmbeddedResource
from .content import Icon
from .strings import StringParameter
from .strings import string_parameters

_VARIABLE = re.compile(r"\{([A-Za-z0-9_]+)\}")
_ANNOTATION_KEYS = {
    "audience": "audience",
    "priority": "priority",
    "last_modified": "lastModified",
}


@dataclass(frozen=True, kw_only=True)
class Resource(Component):
    """Contents at a fixed URI."""

    uri: str
    mime_type: str | None = None
    #: ``audience``, ``priority`` and ``lastModified`` hints (spec "Annotations").
    annotations: dict[str, t.Any] | None = None
    #: Size in bytes, when known before reading.
    size: int | None = None
    #: How long modern clients may cache what ``resources/read`` returns
    #: (milliseconds; ``None``: the server's ``MCP_CACHE_READ_TTL_MS``).
    ttl_ms: int | None = None
    #: ``"public"`` or ``"private"``; ``None``: the server's choice.
    cache_scope: str | None = None

    @classmethod
    def from_function(
        cls,
        fn: t.Callable[..., t.Any],
        uri: str,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        mime_type: str | None = None,
        can_access: t.Any = None,
        meta: abc.Mapping[str, t.Any] | None = None,
        icons: t.Iterable[Icon | abc.Mapping[str, t.Any]] | None = None,
        annotations: abc.Mapping[str, t.Any] | None = None,
        size: int | None = None,
        ttl_ms: int | None = None,
        cache_scope: str | None = None,
    ) -> Resource:
        """A resource read by calling ``fn``; a ``uri`` with ``{variables}``
        gives a :class:`ResourceTemplate`, whose variables must be ``fn``'s
        parameters.

        :raises RegistrationError: for a bad URI, placeholders that do not
            match the parameters, or a bad ``can_access``.
        """
        if not isinstance(uri, str) or not uri or ":" not in uri:
            raise RegistrationError(
                "a resource needs a URI with a scheme, such as"
                f" 'notes://{{id}}', not {uri!r}"
            )
        target = ResourceTemplate if _VARIABLE.search(uri) else Resource
        fields = common_fields(
            fn,
            "resource",
            name=name,
            description=description,
            title=title,
            can_access=can_access,
            meta=meta,
            icons=icons,
            validate=False,
        )
        where = f"resource {uri!r}"
        for label, number in (("size", size), ("ttl_ms", ttl_ms)):
            if number is not None and (not isinstance(number, int) or number < 0):
                raise RegistrationError(
                    f"{where}: {label} must be a non-negative integer"
                )
        if cache_scope not in (None, "public", "private"):
            raise RegistrationError(f"{where}: cache_scope is 'public' or 'private'")
        context = fields["context_param"]
        parameters = string_parameters(fn, {context} if context else set(), where)
        extra: dict[str, t.Any] = {}
        if target is ResourceTemplate:
            extra["parameters"] = _match_placeholders(uri, parameters, where)
        elif any(p.required for p in parameters):
            raise RegistrationError(
                f"{where} has no {{variables}}, so {fields['fn'].__qualname__} must not"
                " need arguments; add placeholders to the URI for its parameters"
            )
        return target(
            **fields,
            **extra,
            uri=uri,
            mime_type=mime_type,
            annotations=_annotations(annotations, where),
            size=size,
            ttl_ms=ttl_ms,
            cache_scope=cache_scope,
        )

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["uri"] = self.uri
        self._describe(out)
        return out

    def _describe(self, out: dict[str, t.Any]) -> None:
        if self.mime_type:
            out["mimeType"] = self.mime_type
        if self.annotations:
            out["annotations"] = self.annotations
        if self.size is not None:
            out["size"] = self.size

    def load(self, variables: dict[str, str]) -> dict[str, t.Any]:
        """Keyword arguments for the function (a fixed resource takes none)."""
        return {}

    def contents(self, uri: str, value: t.Any) -> list[dict[str, t.Any]]:
        """A handler's return value as ``resources/read`` contents."""
        if isinstance(value, EmbeddedResource):
            return [value.contents()]
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, EmbeddedResource) for v in value)
        ):
            return [v.contents() for v in value]
        if isinstance(value, (bytes, bytearray)):
            item = EmbeddedResource(
                uri,
                blob=bytes(value),
                mime_type=self.mime_type or "application/octet-stream",
            )
        else:
            text = value if isinstance(value, str) else _json(value)
            item = EmbeddedResource(
                uri, text=text, mime_type=self.mime_type or "text/plain"
            )
        return [item.contents()]


@dataclass(frozen=True, kw_only=True)
class ResourceTemplate(Resource):
    """Contents at URIs matching an RFC 6570 level-1 template (``{var}``)."""

    parameters: tuple[StringParameter, ...] = ()
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(_template_regex(self.uri)))

    @property
    def variables(self) -> list[str]:
        return _VARIABLE.findall(self.uri)

    def match(self, uri: str) -> dict[str, str] | None:
        found = self._pattern.fullmatch(uri)
        if found is None:
            return None
        return {k: unquote(v) for k, v in found.groupdict().items()}

    def load(self, variables: dict[str, str]) -> dict[str, t.Any]:
        """The variables converted to the parameters' types.

        :raises ValueError: naming the variable whose value does not convert.
        """
        by_name = {p.name: p for p in self.parameters}
        return {
            key: by_name[key].load(value) if key in by_name else value
            for key, value in variables.items()
        }

    def choices(self, argument: str) -> tuple[str, ...]:
        """The allowed values of a variable (Enum and Literal parameters)."""
        return next((p.choices for p in self.parameters if p.name == argument), ())

    def listing(self) -> dict[str, t.Any]:
        out = self.base_listing()
        out["uriTemplate"] = self.uri
        self._describe(out)
        out.pop("size", None)  # a template has no one size
        return out


def _match_placeholders(
    uri: str, parameters: list[StringParameter], where: str
) -> tuple[StringParameter, ...]:
    variables = _VARIABLE.findall(uri)
    if len(set(variables)) != len(variables):
        raise RegistrationError(f"{where} repeats a placeholder")
    names = {p.name for p in parameters}
    unknown = [v for v in variables if v not in names]
    unfilled = [p.name for p in parameters if p.required and p.name not in variables]
    if unknown or unfilled:
        problems = []
        if unknown:
            problems.append(
                f"placeholders {unknown} are not parameters of the function"
            )
        if unfilled:
            problems.append(f"required parameters {unfilled} have no placeholder")
        raise RegistrationError(f"{where}: {'; '.join(problems)}")
    return tuple(p for p in parameters if p.name in variables)


def _annotations(
    annotations: abc.Mapping[str, t.Any] | None, where: str
) -> dict[str, t.Any] | None:
    """Snake-case or spec keys to the spec's ``Annotations`` object."""
    if not annotations:
        return None
    out: dict[str, t.Any] = {}
    for key, value in annotations.items():
        spec_key = _ANNOTATION_KEYS.get(key, key)
        if spec_key not in _ANNOTATION_KEYS.values():
            raise RegistrationError(
                f"{where}: unknown annotation {key!r}"
                " (audience, priority, last_modified)"
            )
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        out[spec_key] = value
    priority = out.get("priority")
    if priority is not None and not (
        isinstance(priority, (int, float)) and 0 <= priority <= 1
    ):
        raise RegistrationError(f"{where}: priority must be a number from 0 to 1")
    return out


def _template_regex(template: str) -> str:
    parts: list[str] = []
    pos = 0
    for found in _VARIABLE.finditer(template):
        parts.append(re.escape(template[pos : found.start()]))
        parts.append(f"(?P<{found.group(1)}>[^/?#]+)")
        pos = found.end()
    parts.append(re.escape(template[pos:]))
    return "".join(parts)


def _json(value: t.Any) -> str:
    return json.dumps(value, default=str)
