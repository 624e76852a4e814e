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
        if (method, self.version) not in self._methods.SERVER_RESULTS:
            return
        self._check(
            f"the {method} result",
            lambda: self._methods.parse_server_result(method, self.version, result),
        )

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
