"""The fixtures the conformance suite's 2026-07-28 scenarios call, by its names.

They are written the way any flask_mcp tool is: the questions a tool asks
(``ctx.elicit``, ``ctx.sample``, ``ctx.list_roots``, ``ctx.ask``) are live
requests on a 2025 session and ``input_required`` results on a 2026-07-28
request, where the client answers by calling again and the tool runs again
from the top. So every tool here asks all its questions before it does
anything that must not happen twice; ``ctx.state`` carries what one round
wants the next to know.
"""

from __future__ import annotations

import typing as t

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.protocol.inputs import roots
from flask_mcp.protocol.inputs import sampling

NAME_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}
CONFIRM_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}


def _field(answer: dict[str, t.Any], name: str) -> t.Any:
    """A field of an accepted form, ``None`` if the user declined or cancelled."""
    content = answer.get("content") if answer.get("action") == "accept" else None
    return content.get(name) if isinstance(content, dict) else None


def _text(message: dict[str, t.Any]) -> str:
    """The text of a sampling answer (``CreateMessageResult``)."""
    content = message.get("content")
    if isinstance(content, list):  # a model may answer with several blocks
        content = next((c for c in content if c.get("type") == "text"), None)
    return str(content.get("text", "")) if isinstance(content, dict) else ""


def register(mcp: FlaskMCP) -> None:  # noqa: C901 - a flat list of fixtures
    """Add the 2026-07-28 fixtures to ``mcp``."""

    # -- input-required results (SEP-2322) ---------------------------------

    @mcp.tool()
    def test_input_required_result_elicitation(ctx: Context) -> str:
        """Asks the user for their name (an elicitation), then greets them."""
        answer = ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
        return f"Hello, {_field(answer, 'name')}!"

    @mcp.tool()
    def test_input_required_result_sampling(ctx: Context) -> str:
        """Asks the client's model a question (sampling) and returns its answer."""
        answer = ctx.sample(
            "What is the capital of France?", max_tokens=100, key="capital_question"
        )
        return f"Sampling result: {_text(answer)}"

    @mcp.tool()
    def test_input_required_result_list_roots(ctx: Context) -> str:
        """Asks for the client's roots and counts them."""
        found = ctx.list_roots(key="client_roots")
        return f"Found {len(found)} root(s): " + ", ".join(
            str(r.get("uri")) for r in found
        )

    @mcp.tool()
    def test_input_required_result_request_state(ctx: Context) -> str:
        """Asks for a confirmation, keeping a round counter in ``ctx.state``."""
        ctx.state["round"] = ctx.state.get("round", 0) + 1
        answer = ctx.elicit("Please confirm", CONFIRM_SCHEMA, key="confirm")
        # A second round only sees round 1's counter through the requestState
        # the server signed, which the client echoed unchanged.
        carried = ctx.state["round"] > 1
        state = "state-ok" if carried else "state-missing"
        return f"{state}: requestState validated, confirmed={_field(answer, 'ok')}"

    @mcp.tool()
    def test_input_required_result_multiple_inputs(ctx: Context) -> str:
        """Asks three questions at once: a form, a model and the roots."""
        answers = ctx.ask(
            {
                "user_name": elicitation("What is your name?", NAME_SCHEMA),
                "greeting": sampling("Generate a greeting", max_tokens=50),
                "client_roots": roots(),
            }
        )
        found = answers["client_roots"].get("roots") or []
        return (
            f"Name: {_field(answers['user_name'], 'name')};"
            f" Greeting: {_text(answers['greeting'])}; Roots: {len(found)}"
        )

    @mcp.tool()
    def test_input_required_result_multi_round(ctx: Context) -> str:
        """Asks two questions, the second only once the first is answered."""
        name = _field(
            ctx.elicit("Step 1: What is your name?", NAME_SCHEMA, key="step1"), "name"
        )
        color = _field(
            ctx.elicit(
                "Step 2: What is your favorite color?",
                {
                    "type": "object",
                    "properties": {"color": {"type": "string"}},
                    "required": ["color"],
                },
                key="step2",
            ),
            "color",
        )
        return f"Multi-round complete for {name} who likes {color}"

    @mcp.tool()
    def test_input_required_result_tampered_state(ctx: Context) -> str:
        """Asks for a confirmation; the signed requestState must come back intact."""
        answer = ctx.elicit("Please confirm", CONFIRM_SCHEMA, key="confirm")
        return f"integrity-ok: state verified, confirmed={_field(answer, 'ok')}"

    @mcp.tool()
    def test_input_required_result_capabilities(ctx: Context) -> str:
        """Asks only what this request's client capabilities allow."""
        questions = {}
        if ctx.supports("elicitation"):
            questions["elicit_input"] = elicitation(
                "Elicitation input",
                {
                    "type": "object",
                    "properties": {"value": {"type": "string"}},
                    "required": ["value"],
                },
            )
        if ctx.supports("sampling"):
            questions["sample_input"] = sampling("Sample request", max_tokens=50)
        if not questions:
            return "No supported capabilities declared"
        answers = ctx.ask(questions)
        return f"capabilities-ok: received {','.join(sorted(answers))}"

    @mcp.prompt()
    def test_input_required_result_prompt(ctx: Context) -> str:
        """A prompt that asks the user for the context it should use."""
        answer = ctx.elicit(
            "What context should the prompt use?",
            {
                "type": "object",
                "properties": {"context": {"type": "string"}},
                "required": ["context"],
            },
            key="user_context",
        )
        return f"Prompt with context: {_field(answer, 'context')}"

    # -- diagnostic tools of the stateless scenario (SEP-2575) -------------

    @mcp.tool()
    def test_missing_capability(ctx: Context) -> str:
        """Needs the client's sampling capability: without it the request is
        refused with -32021 (MissingRequiredClientCapability)."""
        answer = ctx.sample("Say 'Success'.", max_tokens=10, key="probe")
        return f"Success: {_text(answer)}"

    @mcp.tool()
    def test_streaming_elicitation(ctx: Context) -> str:
        """Reports progress, then asks the user to go on: a live request on a
        2025 session, an ``input_required`` result (never a request on the
        response stream) on a 2026-07-28 request."""
        ctx.report_progress(50, 100, "Halfway there")
        answer = ctx.elicit("Continue?", CONFIRM_SCHEMA, key="continue")
        return f"Streaming complete, continue={_field(answer, 'ok')}"

    @mcp.tool()
    def test_logging_tool(ctx: Context) -> str:
        """Logs at every level; a 2026-07-28 request gets the messages only when
        its ``_meta`` asks for a log level, and only at or above it."""
        for level in ("debug", "info", "warning", "error"):
            ctx.log(level, f"Diagnostic trace at {level}", logger="test_logging_tool")
        return "Logging evaluated"

    @mcp.tool()
    def test_trigger_tool_change() -> str:
        """Tells every listening client (any worker, any host) that the tool
        list changed; a diagnostic hook for subscriptions/listen."""
        mcp.notify_list_changed("tools")
        return "Tool list change announced"

    @mcp.tool()
    def test_trigger_prompt_change() -> str:
        """Tells every listening client that the prompt list changed."""
        mcp.notify_list_changed("prompts")
        return "Prompt list change announced"

    @mcp.tool()
    def test_trigger_resource_update(uri: str) -> str:
        """Tells clients subscribed to ``uri`` that the resource changed."""
        mcp.notify_resource_updated(uri)
        return f"Update of {uri} announced"

    # -- x-mcp-header (SEP-2243) -------------------------------------------

    @mcp.tool(
        headers={"region": "Region", "shard": "Shard", "dry_run": "Dry-Run"},
        read_only=True,
    )
    def test_header_params(region: str, shard: int = 0, dry_run: bool = False) -> str:
        """Routes a query by region and shard; clients mirror both (and
        dry_run) into ``Mcp-Param-*`` headers so gateways can route on them.

        :param region: the region to run in.
        :param shard: the shard number within the region.
        :param dry_run: only plan the query.
        """
        return f"region={region} shard={shard} dry_run={str(dry_run).lower()}"
