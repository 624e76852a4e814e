import itertools

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.protocol.inputs import elicitation
from flask_mcp.protocol.inputs import sampling

app = Flask(__name__)
mcp = FlaskMCP(app, name="Assistant")


# -- logging and progress ---------------------------------------------------


@mcp.tool
def import_rows(rows: list[str], ctx: Context) -> int:
    """Import rows, reporting progress."""
    ctx.log("info", f"importing {len(rows)} rows")
    for done, row in enumerate(rows, start=1):
        if ctx.cancelled:  # the client closed the request: stop early
            break
        ctx.report_progress(done, len(rows), message=f"imported {row}")
    return len(rows)


# -- asking the user, safe to run again --------------------------------------

BOOKING_IDS = itertools.count(1)
BOOKINGS: dict[int, dict] = {}

DETAILS = {
    "type": "object",
    "properties": {
        "people": {"type": "integer", "minimum": 1, "maximum": 12},
        "time": {"type": "string", "description": "such as 19:30"},
    },
    "required": ["people", "time"],
}


@mcp.tool
def book_table(restaurant: str, ctx: Context) -> str:
    """Book a table, asking the user for the details first."""
    answer = ctx.elicit(f"Book a table at {restaurant}?", DETAILS, key="details")
    if answer["action"] != "accept":
        return "Nothing was booked."
    details = answer["content"]
    # The side effect comes after the last question: a 2026-07-28 client
    # answers by calling again, and only that final run gets this far.
    booking = next(BOOKING_IDS)
    BOOKINGS[booking] = {"restaurant": restaurant, **details}
    return f"Booked table {booking} for {details['people']} at {details['time']}."


# -- sampling, and state kept across rounds ----------------------------------

SLOW_LOOKUPS: list[str] = []


def collect_changes(version: str) -> list[str]:
    """Stands for something slow (reading a repository, calling an API)."""
    SLOW_LOOKUPS.append(version)
    return ["faster startup", "fewer warnings"]


@mcp.tool
def release_notes(version: str, ctx: Context) -> str:
    """Draft release notes with the client's model."""
    if "changes" not in ctx.state:
        ctx.state["changes"] = collect_changes(version)
    changes = ", ".join(ctx.state["changes"])
    if not ctx.supports("sampling"):
        return f"{version}: {changes}"
    draft = ctx.sample(
        f"Write one sentence of release notes for {version}: {changes}",
        max_tokens=100,
        key="draft",
    )
    return draft["content"]["text"]


# -- several questions at once, and roots -------------------------------------


@mcp.tool
def plan_trip(city: str, ctx: Context) -> str:
    """Plan a trip: asks for the dates and for ideas in one round."""
    answers = ctx.ask(
        {
            "dates": elicitation(
                f"When are you going to {city}?",
                {"type": "object", "properties": {"dates": {"type": "string"}}},
            ),
            "ideas": sampling(f"Name one thing to do in {city}.", max_tokens=50),
        }
    )
    if answers["dates"]["action"] != "accept":
        return "No trip planned."
    dates = answers["dates"]["content"]["dates"]
    return f"{city}, {dates}: {answers['ideas']['content']['text']}"


@mcp.tool
def workspace(ctx: Context) -> list[str]:
    """The folders the client works in."""
    return [root["uri"] for root in ctx.list_roots()]


@mcp.tool
def connect_calendar(ctx: Context) -> str:
    """Connect the user's calendar (the sign-in happens in the browser)."""
    answer = ctx.elicit_url(
        "Sign in to your calendar", "https://calendar.example.com/connect"
    )
    return "Opened." if answer["action"] == "accept" else "Not connected."
