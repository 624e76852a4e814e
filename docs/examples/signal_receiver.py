from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp import signals

app = Flask(__name__)
mcp = FlaskMCP(app)
slow_calls = []


@signals.operation_finished.connect_via(app)
def note_slow_calls(sender, operation):
    if operation.method == "tools/call" and operation.duration > 2.0:
        slow_calls.append((operation.name, round(operation.duration, 1)))


@signals.token_revoked.connect_via(app)
def tell_security(sender, event):
    app.logger.warning("tokens of %s revoked (%s)", event.subject, event.reason)
