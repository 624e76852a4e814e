"""The fixtures the official conformance suite (0.1.16) calls, by its names."""

from __future__ import annotations

import base64
import struct
import time

from flask_mcp import Audio
from flask_mcp import Context
from flask_mcp import EmbeddedResource
from flask_mcp import FlaskMCP
from flask_mcp import Image
from flask_mcp import Message
from flask_mcp import ToolError

#: A 1x1 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _wav(samples: int = 800, rate: int = 8000) -> bytes:
    """A short silent mono 8-bit WAV clip."""
    data = b"\x80" * samples
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + b"data" + struct.pack("<I", len(data)) + data


WAV = _wav()

ELICITATION_DEFAULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {
            "type": "string",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "default": True},
    },
}

ELICITATION_ENUMS_SCHEMA = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}

#: Published verbatim, with the 2020-12 vocabulary 2026-07-28 allows (SEP-2106):
#: ``$anchor``, composition (``allOf``/``anyOf``) and ``if``/``then``/``else``.
JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {
        "properties": {"contactMethod": {"const": "phone"}},
        "required": ["contactMethod"],
    },
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def _outcome(result: dict) -> str:
    return f"action={result.get('action')}, content={result.get('content')}"


def register(mcp: FlaskMCP) -> None:  # noqa: C901 - a flat list of fixtures
    """Add every conformance fixture to ``mcp``."""

    @mcp.tool()
    def test_simple_text() -> str:
        """Tests simple text content response."""
        return "This is a simple text response for testing."

    @mcp.tool()
    def test_image_content() -> Image:
        """Tests image content response."""
        return Image(PNG, "image/png")

    @mcp.tool()
    def test_audio_content() -> Audio:
        """Tests audio content response."""
        return Audio(WAV, "audio/wav")

    @mcp.tool()
    def test_embedded_resource() -> EmbeddedResource:
        """Tests embedded resource content response."""
        return EmbeddedResource(
            "test://embedded-resource",
            text="This is an embedded resource content.",
            mime_type="text/plain",
        )

    @mcp.tool()
    def test_multiple_content_types() -> list:
        """Tests response with multiple content types (text, image, resource)."""
        return [
            "Multiple content types test:",
            Image(PNG, "image/png"),
            EmbeddedResource(
                "test://mixed-content-resource",
                text='{"test":"data","value":123}',
                mime_type="application/json",
            ),
        ]

    @mcp.tool()
    def test_tool_with_logging(ctx: Context) -> str:
        """Tests tool that emits log messages during execution."""
        for message in ("Tool execution started", "Tool processing data"):
            ctx.log("info", message)
            time.sleep(0.05)
        ctx.log("info", "Tool execution completed")
        return "Tool with logging executed successfully"

    @mcp.tool()
    def test_tool_with_progress(ctx: Context) -> str:
        """Tests tool that reports progress notifications."""
        for done in (0, 50, 100):
            ctx.report_progress(done, 100, f"Completed step {done // 50 + 1} of 3")
            if done < 100:
                time.sleep(0.05)
        return f"Progress tool completed (token {ctx.progress_token})"

    @mcp.tool()
    def test_error_handling() -> str:
        """Tests error response handling."""
        raise ToolError("This tool intentionally returns an error for testing")

    @mcp.tool()
    def test_sampling(prompt: str, ctx: Context) -> str:
        """Tests server-initiated sampling (LLM completion request)."""
        result = ctx.sample(prompt, max_tokens=100)
        content = result.get("content") or {}
        text = content.get("text", "") if isinstance(content, dict) else ""
        return f"LLM response: {text}"

    @mcp.tool()
    def test_elicitation(message: str, ctx: Context) -> str:
        """Tests server-initiated elicitation (user input request)."""
        schema = {
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"},
            },
            "required": ["username", "email"],
        }
        result = ctx.elicit(message, schema)
        return f"User response: {_outcome(result)}"

    @mcp.tool()
    def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        """Tests elicitation with default values for all primitive types (SEP-1034)."""
        result = ctx.elicit(
            "Please review and update the form fields with defaults",
            ELICITATION_DEFAULTS_SCHEMA,
        )
        return f"Elicitation completed: {_outcome(result)}"

    @mcp.tool()
    def test_elicitation_sep1330_enums(ctx: Context) -> str:
        """Tests elicitation with enum schema improvements (SEP-1330)."""
        result = ctx.elicit(
            "Please select options from the enum fields", ELICITATION_ENUMS_SCHEMA
        )
        return f"Elicitation completed: {_outcome(result)}"

    @mcp.tool(input_schema=JSON_SCHEMA_2020_12)
    def json_schema_2020_12_tool(
        name: str | None = None,
        address: dict | None = None,
        contactMethod: str | None = None,  # noqa: N803 - the schema's name
        phone: str | None = None,
        email: str | None = None,
    ) -> str:
        """Tool with JSON Schema 2020-12 features ($schema, $defs, ...)."""
        contact = phone if contactMethod == "phone" else email
        return (
            f"JSON Schema 2020-12 tool called with name={name}, address={address},"
            f" contact={contact}"
        )

    @mcp.tool()
    def test_reconnection(ctx: Context) -> str:
        """Tests SSE stream disconnection and client reconnection (SEP-1699)."""
        ctx.close_stream()
        time.sleep(0.1)
        return "Reconnection test completed successfully"

    @mcp.resource("test://static-text", name="static-text", mime_type="text/plain")
    def static_text() -> str:
        """A static text resource for testing."""
        return "This is the content of the static text resource."

    @mcp.resource("test://static-binary", name="static-binary", mime_type="image/png")
    def static_binary() -> bytes:
        """A static binary resource (image) for testing."""
        return PNG

    @mcp.resource(
        "test://template/{id}/data", name="template-data", mime_type="application/json"
    )
    def template_data(id: str) -> dict:
        """A resource template with parameter substitution."""
        return {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}

    @mcp.resource(
        "test://watched-resource", name="watched-resource", mime_type="text/plain"
    )
    def watched_resource() -> str:
        """A resource that can be subscribed to for updates."""
        return "Watched resource content"

    @mcp.prompt()
    def test_simple_prompt() -> str:
        """A simple prompt without arguments."""
        return "This is a simple prompt for testing."

    @mcp.prompt()
    def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
        """A prompt with required arguments."""
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @mcp.prompt()
    def test_prompt_with_embedded_resource(resourceUri: str) -> list:  # noqa: N803
        """A prompt that includes an embedded resource."""
        return [
            Message(
                "user",
                EmbeddedResource(
                    resourceUri,
                    text="Embedded resource content for testing.",
                    mime_type="text/plain",
                ),
            ),
            Message("user", "Please process the embedded resource above."),
        ]

    @mcp.prompt()
    def test_prompt_with_image() -> list:
        """A prompt that includes image content."""
        return [
            Message("user", Image(PNG, "image/png")),
            Message("user", "Please analyze the image above."),
        ]

    @mcp.completion(prompt="test_prompt_with_arguments", argument="arg1")
    def complete_arg1(value: str, context: dict) -> list[str]:
        return [v for v in ("test1", "test2", "testing") if v.startswith(value)]
