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
        # the consent cookie's Signer (what Flask 3.1 requires)
        "itsdangerous>=2.2",
        "click>=8.1.3",
        # 1.7 refuses the proxy's http://localhost token endpoint (insecure
        # transport), 1.6 builds TokenEndpoint differently
        "authlib>=1.8",
        # 1.6.0 words a token valid in the future as merely "not valid yet"
        "joserfc>=1.6.1",
        "cryptography>=45.0.1",  # what joserfc 1.6.1 requires
        "requests>=2.30",  # the first that allows urllib3 2
        "urllib3>=2.0",  # NameResolutionError (client metadata document fetches)
        # both forms of an international host name on the consent page, as
        # requests encodes it (what requests 2.30 requires)
        "idna>=2.5",
        "marshmallow>=3.20",  # 3.19 names a nested schema Address1 at times
        "apispec>=6.4",  # 6.3 keeps format: date-time on the fields it should not
        "jsonschema>=4.19.2",  # 4.19.1 words "too many items" errors otherwise
        # flask_mcp.gunicorn's threaded worker (what make serve runs) needs 27
        "gunicorn>=27",
        # flask_mcp.signals (what Flask 3.1 requires; positional-only sender)
        "blinker>=1.9",
    ],
    extras_require={
        "redis": ["redis>=5"],
        # The app's Flask-Caching cache for what may be lost (docs/store.rst);
        # an extra: flask_mcp never needs it, apps that configure one have it.
        # 2.0 requires Flask < 3.
        "caching": ["flask-caching>=2.1"],
        # pydantic models and Field in tool signatures (2.0: TypeAdapter)
        "pydantic": ["pydantic>=2.0"],
        # Issue 18, running in production: each feature is an extra, and an
        # app that does not turn it on never imports it ("ops": all three).
        # prometheus_client 0.14 lacks the live gauge modes (livemin).
        "metrics": ["prometheus-client>=0.15"],
        # The OpenTelemetry API only: the app picks and configures an SDK.
        # 1.1 is the oldest the tracing tests pass with.
        "otel": ["opentelemetry-api>=1.1"],
        # An extra, not a requirement: limits are opt-in, and Flask-Limiter
        # brings limits, ordered-set and (3.x) rich. Before 2.5.1 it uses
        # flask._request_ctx_stack (gone in Flask 3); limits before 3.2
        # gives no WindowStats (the Retry-After).
        "limits": ["flask-limiter>=2.5.1", "limits>=3.2"],
        "ops": [
            "prometheus-client>=0.15",
            "opentelemetry-api>=1.1",
            "flask-limiter>=2.5.1",
            "limits>=3.2",
        ],
        # Task legs on Celery workers (MCP_TASKS_CELERY). 5.3 is the first
        # with broker_connection_retry_on_startup; kombu is imported too.
        "celery": ["celery>=5.3", "kombu>=5.3"],
        # A stream gateway (flask_mcp.gateway, MCP_GRIP_URL): gripcontrol 4.3
        # added HttpStreamFormat's action (the "hint" that refreshes a held
        # stream); pubcontrol before 3.4 builds urllib3 1's Retry
        # (method_whitelist), which urllib3 2 refuses.
        "gateway": ["gripcontrol>=4.3", "pubcontrol>=3.4"],
        "test": TEST_REQUIRES,
        # mcp.test_client() checks results with the official SDK's wire
        # types; 2.0 is the first release of the standalone package (both
        # eras, methods.parse_server_result). It needs pydantic 2.12, so it
        # is not a bound make test-min can pin beside pydantic>=2.0.
        "testing": ["mcp-types>=2.0"],
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
            # Every optional feature, at its extra's bounds, for the tests.
            "flask-caching>=2.1",
            "prometheus-client>=0.15",
            "opentelemetry-api>=1.1",
            "opentelemetry-sdk>=1.1",
            "flask-limiter>=2.5.1",
            "limits>=3.2",
            "celery>=5.3",
            "kombu>=5.3",
            "gripcontrol>=4.3",
            "pubcontrol>=3.4",
            "mcp-types>=2.0",
        ],
    },
    entry_points={"flask.commands": ["mcp=flask_mcp.cli:mcp_cli"]},
    classifiers=[
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: BSD License",
    ],
)
