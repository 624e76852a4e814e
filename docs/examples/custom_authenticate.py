from flask import Flask
from flask import Response
from flask import abort

from flask_mcp import Context
from flask_mcp import FlaskMCP


def authenticate(request):
    api_key = request.headers.get("X-API-Key")

    if api_key != "123":
        abort(Response(status=401))

    return {"id": 1, "role": "user"}


app = Flask(__name__)
# Not Bearer: OAuth clients would start a sign-in this server cannot finish.
app.config["MCP_AUTH_CHALLENGE"] = 'ApiKey header="X-API-Key"'
mcp = FlaskMCP(app, name="My Server", version="1.0.0", authenticate=authenticate)


@mcp.tool(name="sayHello")
def say_hello(ctx: Context) -> str:
    return f"Hello, {ctx.session['id']}!"
