from flask import Flask

from flask_mcp import FlaskMCP

app = Flask(__name__)
mcp = FlaskMCP(app, name="Search")


@mcp.tool
def search(query: str) -> str:
    """Search the wiki."""
    return f"wiki results for {query}"


# A second tool named "search" raises RegistrationError at import time,
# naming where the first one was defined. Replacing it must be explicit:
@mcp.tool(name="search", replace=True)
def search_everything(query: str) -> str:
    """Search the wiki and the issue tracker."""
    return f"wiki and issue results for {query}"
