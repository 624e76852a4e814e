# Developer and CI entry points for flask_mcp.
#
#   make serve        run the example app under gunicorn on http://127.0.0.1:$(PORT)
#   make serve-gateway  the same behind Pushpin (held streams leave the workers):
#                     Pushpin on $(PORT), gunicorn on another loopback port
#   make worker       a Celery worker for the example app's tasks
#                     (EXAMPLE_CELERY_BROKER=redis://..., as for make serve)
#   make test         install what the tests need, then run pytest ($(PYTEST_ARGS))
#   make test-fast    the tiers that need only `make venv` (unit, http): no sudo,
#                     Node, Redis, gunicorn or browser (tests/support/tiers.py)
#   make test-min     the fast tiers in a venv of the lowest versions setup.py
#                     allows (.venv-min, constraints from .ci/min_constraints.py)
#   make fuzz         the fuzz tests alone, with CI's budget (CI_FUZZ_EXAMPLES)
#   make lint         ruff check + ruff format --check + mypy + import contracts
#
# Every install target is idempotent and cheap when already done: `venv` and
# `node` are guarded by stamp files that are newer than their inputs, `system`
# asks apt only for packages that are missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
VENV := .venv
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := tools/node_modules/.installed
SYSTEM_PACKAGES := redis-server redis-sentinel chromium pushpin nginx prometheus
# apt-get needs root; use sudo when run as a normal user.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

MIN_VENV := .venv-min
MIN_STAMP := $(MIN_VENV)/.installed
# Tiers that need more than the venv; test-fast deselects them.
SLOW_TIERS := gunicorn or redis or node or browser or nginx or gateway or prometheus or celery
# Examples per fuzz test in `make fuzz` and in `make test` under CI: about 2.5
# minutes on a CI machine. Elsewhere tests/fuzz/harness.py's default (40).
CI_FUZZ_EXAMPLES := 1500
# pytest-xdist for `make test` and `make test-fast`: 4 workers (the tests
# wait on processes and sockets as much as on the 2 cores). Each module's
# tests stay on one worker, so its servers start once; the fuzz tests spread
# one by one (tests/support/scheduling.py). XDIST= runs in one process.
XDIST ?= -n 4 --dist loadscope
# Every worker collects the whole suite: let Python keep the bytecode of the
# rewritten test modules (an environment that says otherwise doubles the
# collection time of each worker).
test test-fast test-min fuzz: export PYTHONDONTWRITEBYTECODE :=

.PHONY: help venv system node serve serve-gateway worker test test-fast test-min fuzz lint

help:
	@echo "targets: venv system node serve serve-gateway worker test test-fast test-min fuzz lint  (PORT=$(PORT), PYTEST_ARGS=...)"

venv: $(VENV_STAMP)

# flask_mcp/__init__.py: the editable install maps the package only if it existed then.
$(VENV_STAMP): requirements-dev.txt setup.py pyproject.toml $(wildcard flask_mcp/__init__.py)
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

system:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

node: $(NODE_STAMP)

$(NODE_STAMP): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	@touch $@

# gunicorn's options and app in `make serve` (and behind Pushpin in `make serve-gateway`).
SERVE_ARGS := -c python:flask_mcp.gunicorn -w 2 "example_app:create_app()"

serve: venv
	$(VENV)/bin/gunicorn --no-control-socket -b 127.0.0.1:$(PORT) $(SERVE_ARGS)

# Pushpin (make system) on PORT in front of the same gunicorn; Ctrl-C stops both.
serve-gateway: venv
	$(VENV)/bin/python -m flask_mcp.gateway.runner --port $(PORT) -- $(SERVE_ARGS)

worker: venv
	@[ -n "$${EXAMPLE_CELERY_BROKER:-}" ] || { echo "set EXAMPLE_CELERY_BROKER=redis://... (and the same for make serve)"; exit 2; }
	$(VENV)/bin/flask --app "example_app:create_app()" mcp worker --loglevel INFO

test: system venv node
	$(if $(CI),FLASK_MCP_FUZZ_EXAMPLES=$(CI_FUZZ_EXAMPLES)) $(VENV)/bin/pytest $(XDIST) $(PYTEST_ARGS)

test-fast: venv
	$(VENV)/bin/pytest $(XDIST) -m "not ($(SLOW_TIERS))" $(PYTEST_ARGS)

# The end-to-end suites are left out (and the stream modules that drive the
# official clients through gunicorn or Pushpin): they import the official MCP
# client, whose own requirements (jsonschema>=4.20...) would lift our lower bounds.
# So is mcp-types (pydantic>=2.12): the test client says it does not check
# the MCP schema, and the tests of that schema are left out; so is the docs
# build (Sphinx is not a requirement of the package).
# tests/ops imports the optional telemetry packages and the OpenTelemetry
# SDK (so does one test of the proxy's spans), which the minimal venv does
# not have (their extras' bounds are in setup.py's comments).
test-min: $(MIN_STAMP)
	$(MIN_VENV)/bin/pytest -m "not ($(SLOW_TIERS))" -p no:cacheprovider \
	  -W "ignore::flask_mcp.wire_check.SchemaNotChecked" \
	  --ignore=tests/unit/test_wire_schema.py --ignore=tests/docs/test_docs_html.py \
	  --ignore=tests/e2e --ignore=tests/integration_auth --ignore=tests/oauth_e2e \
	  --ignore=tests/ops --ignore=tests/streams/test_official_clients.py \
	  --ignore=tests/gateway/test_pushpin.py --ignore=tests/gateway/test_publish_outage.py \
	  --ignore=tests/gateway/test_two_origins.py \
	  --deselect tests/proxy/test_proxy_ops.py::test_upstream_calls_are_child_spans \
	  $(PYTEST_ARGS)

$(MIN_STAMP): setup.py pyproject.toml .ci/min_constraints.py $(wildcard flask_mcp/__init__.py)
	@[ -x $(MIN_VENV)/bin/python ] || $(PYTHON) -m venv $(MIN_VENV)
	$(PYTHON) .ci/min_constraints.py setup.py > $(MIN_VENV)/constraints.txt
	$(MIN_VENV)/bin/python -m pip install --disable-pip-version-check -q \
	  -c $(MIN_VENV)/constraints.txt -e '.[redis,caching,celery,gateway,ops,test]'
	@touch $@

fuzz: venv
	FLASK_MCP_FUZZ_EXAMPLES=$(CI_FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/fuzz $(PYTEST_ARGS)

# Every linter always runs; the target fails if any does. The import
# contracts (the layers) are [tool.importlinter] in pyproject.toml.
lint: venv
	@rc=0; \
	$(VENV)/bin/ruff check . || rc=1; \
	$(VENV)/bin/ruff format --check . || rc=1; \
	$(VENV)/bin/mypy || rc=1; \
	$(VENV)/bin/lint-imports --no-cache || rc=1; \
	exit $$rc

# make docs: the HTML docs in docs/_build/html; nitpicky (-n), warnings are
# errors (-W), no stale environment (-E).
.PHONY: docs
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(VENV_STAMP) docs/requirements.txt
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -r docs/requirements.txt
	@touch $@

docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -E -W -n --keep-going -q -b html docs docs/_build/html
