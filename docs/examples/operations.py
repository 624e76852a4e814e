import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth

app = Flask(__name__)
app.config.update(
    MCP_STORE_URL=os.environ["REDIS_URL"],  # limits are counted there too
    # Prometheus scrapes /metrics with this token (authorization: credentials).
    MCP_METRICS=True,
    MCP_METRICS_DIR=os.environ["METRICS_DIR"],  # one folder per host
    MCP_METRICS_TOKEN=os.environ["METRICS_TOKEN"],
    # One JSON line per call, sign-in, token event and refusal.
    MCP_AUDIT=True,
    # Spans; the SDK (opentelemetry-instrument, or your own setup) exports them.
    MCP_TRACING=True,
    # Per caller, across every worker and host.
    MCP_RATE_LIMIT="20/second;2000/hour",
)

mcp = FlaskMCP(
    app,
    name="Billing",
    authenticate=bearer_auth(
        JWTVerifier(issuer=os.environ["OAUTH_ISSUER"], audience="billing")
    ),
)


@mcp.tool(rate_limit="10/minute", destructive=True)
def refund(invoice: str, amount_cents: int) -> str:
    """Refund part of an invoice."""
    return f"refunded {amount_cents} on {invoice}"
