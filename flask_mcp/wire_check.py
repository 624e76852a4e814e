"""Check what a server sends as a real client would, for the test client.

The official Python SDK validates every result against the schema of the
protocol revision it speaks (``mcp_types.methods.validate_server_result``,
then the version-free model), and a ``tools/call`` result's
``structuredContent`` against the tool's ``outputSchema``. A result that
fails either is an error in every real client, so
:class:`~flask_mcp.testing.MCPTestClient` fails the test with the same
check. The schema comes from ``mcp-types``, the SDK's own wire types, imported
only here and only when a test client checks (``pip install
'flask-mcp[testing]'``).
"""

from __future__ import annotations

import typing as t
import warnings

from jsonschema import SchemaError
from jsonschema import exceptions as jsonschema_exceptions
from jsonschema.validators import validator_for

from .errors import FlaskMCPError


class WireViolation(FlaskMCPError, AssertionError):
    """The server sent what a real MCP client rejects.

    An :class:`AssertionError`, so it fails a test as ``assert`` does.
    """


class SchemaNotChecked(UserWarning):
    """``mcp-types`` is not installed: results are not checked against the
    MCP schema, so a test may pass where a real client would fail."""


def can_check() -> bool:
    """Whether ``mcp-types`` (the SDK's wire types) can be used: installed,
    with its own requirements (pydantic 2.12 or later)."""
    try:
        import mcp_types.methods  # noqa: F401
    except ImportError:
        return False
    return True


class WireChecker:
    """Checks results, notifications and questions of one protocol revision.

    :param version: the revision the client speaks (``"2025-11-25"``...).
    """

    def __init__(self, version: str) -> None:
        from mcp_types import methods

        self._methods = methods
        self.version = version

    def result(self, method: str, result: t.Mapping[str, t.Any]) -> None:
        """A result, as the SDK's client checks it before handing it over.

        Methods the revision does not define (custom ones) are not checked,
        as the SDK does not check them.
        """
        if self._task_result(method, result):
            return
        if (method, self.version) not in self._methods.SERVER_RESULTS:
            return
        self._check(
            f"the {method} result",
            lambda: self._methods.parse_server_result(method, self.version, result),
        )

    def _task_result(self, method: str, result: t.Mapping[str, t.Any]) -> bool:
        """Check a result of tasks, which mcp-types' method tables leave out:
        2025-11-25's with its task models, the 2026-07-28 extension's by the
        extension's schema. ``False`` for any other result."""
        if self.version == "2025-11-25":
            from mcp_types import _v2025_11_25 as types

            model: t.Any = {
                "tasks/get": types.GetTaskResult,
                "tasks/cancel": types.CancelTaskResult,
                "tasks/list": types.ListTasksResult,
            }.get(method)
            if method == "tools/call" and "task" in result:
                model = types.CreateTaskResult
            if model is None:
                return False
            self._check(f"the {method} result", lambda: model.model_validate(result))
            return True
        if self.version != "2026-07-28":
            return False
        if method == "tools/call" and result.get("resultType") == "task":
            _extension_task(method, result, "task")
            return True
        if method == "tasks/get":
            _extension_task(method, result, "complete")
            return True
        if method in ("tasks/update", "tasks/cancel"):
            extra = set(result) - {"resultType", "_meta"}
            if result.get("resultType") != "complete" or extra:
                raise WireViolation(
                    f"the {method} result must be an empty acknowledgement with"
                    f" resultType 'complete', not {dict(result)!r}"
                )
            return True
        return False

    def notification(self, message: t.Mapping[str, t.Any]) -> None:
        """A notification the server sent on a stream."""
        methods = self._methods
        self._message(
            "notification",
            message,
            methods.SERVER_NOTIFICATIONS,
            methods.parse_server_notification,
        )

    def question(self, message: t.Mapping[str, t.Any]) -> None:
        """A request the server sent to the client (sampling, elicitation...)."""
        methods = self._methods
        self._message(
            "request", message, methods.SERVER_REQUESTS, methods.parse_server_request
        )

    def _message(
        self,
        kind: str,
        message: t.Mapping[str, t.Any],
        surface: t.Container[tuple[str, str]],
        parse: t.Callable[[str, str, t.Any], object],
    ) -> None:
        method = message.get("method", "")
        if (method, self.version) not in surface:
            raise WireViolation(
                f"the server sent {method!r}, a {kind} that {self.version}"
                " does not define"
            )
        self._check(
            f"the {method} {kind}",
            lambda: parse(method, self.version, message.get("params")),
        )

    def _check(self, what: str, validate: t.Callable[[], object]) -> None:
        from pydantic import ValidationError

        try:
            validate()
        except ValidationError as exc:
            raise WireViolation(
                f"{what} does not match the MCP {self.version} schema, so a"
                f" real client rejects it:\n{exc}"
            ) from None


#: The fields of the tasks extension's Task and their JSON types.
_TASK_FIELDS: dict[str, tuple[type, ...]] = {
    "taskId": (str,),
    "status": (str,),
    "createdAt": (str,),
    "lastUpdatedAt": (str,),
    "ttlMs": (int, type(None)),
}
_STATUSES = ("working", "input_required", "completed", "failed", "cancelled")


def _extension_task(method: str, result: t.Mapping[str, t.Any], kind: str) -> None:
    """A ``CreateTaskResult`` (``kind="task"``) or ``GetTaskResult``
    (``"complete"``) of the 2026-07-28 tasks extension."""
    problems = [
        f"{name} must be {' or '.join(k.__name__ for k in kinds)}"
        for name, kinds in _TASK_FIELDS.items()
        if not isinstance(result.get(name, ...), kinds)
        or isinstance(result.get(name), bool)
    ]
    if result.get("resultType") != kind:
        problems.append(f"resultType must be {kind!r}")
    if result.get("status") not in _STATUSES:
        problems.append(f"status must be one of {', '.join(_STATUSES)}")
    needs = {
        "input_required": "inputRequests",
        "completed": "result",
        "failed": "error",
    }.get(t.cast(str, result.get("status")))
    if kind == "complete" and needs is not None and needs not in result:
        problems.append(f"a {result.get('status')} task carries {needs}")
    if kind == "task" and {"result", "error", "inputRequests", "requestState"} & set(
        result
    ):
        problems.append("a CreateTaskResult carries no payload nor requestState")
    if problems:
        raise WireViolation(
            f"the {method} result is not the tasks extension's shape, so a real"
            f" client rejects it: {'; '.join(problems)}"
        )


def check_structured(
    name: str, output_schema: t.Mapping[str, t.Any], result: t.Mapping[str, t.Any]
) -> None:
    """A ``tools/call`` result against the tool's ``outputSchema``.

    As the SDK does: a tool that declares one must return
    ``structuredContent`` (unless ``isError``), and it must validate.
    """
    if result.get("isError"):
        return
    if "structuredContent" not in result:
        raise WireViolation(
            f"tool {name!r} declares an outputSchema but its result has no"
            " structuredContent: a real client rejects it"
        )
    schema = dict(output_schema)
    validator_class = validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        raise WireViolation(
            f"tool {name!r} publishes an invalid outputSchema: {exc.message}"
        ) from None
    error = jsonschema_exceptions.best_match(
        validator_class(schema).iter_errors(result["structuredContent"])
    )
    if error is not None:
        raise WireViolation(
            f"tool {name!r} returned structuredContent that its outputSchema"
            f" rejects, so a real client rejects it: {error.message}"
        )


def warn_unchecked() -> None:
    warnings.warn(
        "mcp-types is not installed: the test client does not check results"
        " against the MCP schema, so a test may pass where a real client fails."
        " Install flask-mcp[testing], or pass validate=False to say so.",
        SchemaNotChecked,
        stacklevel=4,
    )
