from setuptools import find_packages
from setuptools import setup

# What the fast tiers need (make test-min installs only this and the package).
TEST_REQUIRES = ["pytest>=8", "pytest-timeout>=2", "hypothesis>=6.100", "pydantic>=2.0"]

setup(
    name="flask-mcp",
    version="0.1.0.dev0",
    description="Model Context Protocol servers in Flask, with first-class auth.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["flask_mcp", "flask_mcp.*"]),
    package_data={"flask_mcp": ["py.typed", "templates/flask_mcp/*.html"]},
    python_requires=">=3.10",
    # Lower bounds are the oldest releases the fast tiers pass with on
    # CPython 3.11 (make test-min checks them in CI); comments say what the
    # release before lacks.
    install_requires=[
        # 3.0 cannot set request.max_content_length per request (the OAuth
        # proxy bounds chunked bodies that way)
        "flask>=3.1",
        "werkzeug>=3.1",  # what Flask 3.1 requires
        "click>=8.1.3",
        # 1.7 refuses the proxy's http://localhost token endpoint (insecure
        # transport), 1.6 builds TokenEndpoint differently
        "authlib>=1.8",
        # 1.6.0 words a token valid in the future as merely "not valid yet"
        "joserfc>=1.6.1",
        "cryptography>=45.0.1",  # what joserfc 1.6.1 requires
        "requests>=2.30",  # the first that allows urllib3 2
        "urllib3>=2.0",  # NameResolutionError (client metadata document fetches)
        "marshmallow>=3.20",  # 3.19 names a nested schema Address1 at times
        "apispec>=6.4",  # 6.3 keeps format: date-time on the fields it should not
        "jsonschema>=4.19.2",  # 4.19.1 words "too many items" errors otherwise
        "gunicorn>=22",
    ],
    extras_require={
        "redis": ["redis>=5"],
        # pydantic models and Field in tool signatures (2.0: TypeAdapter)
        "pydantic": ["pydantic>=2.0"],
        # A stream gateway (flask_mcp.gateway, MCP_GRIP_URL): gripcontrol 4.3
        # added HttpStreamFormat's action (the "hint" that refreshes a held
        # stream); pubcontrol before 3.4 builds urllib3 1's Retry
        # (method_whitelist), which urllib3 2 refuses.
        "gateway": ["gripcontrol>=4.3", "pubcontrol>=3.4"],
        "test": TEST_REQUIRES,
        "dev": [
            *TEST_REQUIRES,
            "redis>=5",
            "mcp>=2,<3",
            "playwright>=1.50",
            "ruff>=0.6",
            "mypy>=1.10",
            "import-linter>=2.1",
            "types-jsonschema",
            "pytest-xdist>=3.5",
            # The services of this round's features; each feature's own
            # extra gives its true lower bound.
            "gripcontrol>=4.2",
            "celery>=5.3",
            "flask-limiter>=3.5",
            "prometheus-client>=0.20",
            "opentelemetry-api>=1.20",
            "opentelemetry-sdk>=1.20",
            "flask-caching>=2.0",
        ],
    },
    entry_points={"flask.commands": ["mcp=flask_mcp.cli:mcp_cli"]},
    classifiers=[
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: BSD License",
    ],
)
