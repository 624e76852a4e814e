"""The docs cannot rot: examples are files that tests run, the README's
snippets are those files, generated content matches its generator, and every
configuration key the code reads is documented."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from docs_helpers import DOCS
from docs_helpers import EXAMPLES

from flask_mcp.config import DEFAULTS

ROOT = DOCS.parent
TESTS = Path(__file__).resolve().parent
PAGES = sorted(page for page in DOCS.glob("*.rst") if page.name != "README.rst")
sys.path.insert(0, str(DOCS / "_ext"))
from configkeys import config_keys  # noqa: E402
from configkeys import module_source  # noqa: E402

_INCLUDE = re.compile(r"\.\. literalinclude:: examples/(\S+)")


def _included() -> set[str]:
    return {name for page in PAGES for name in _INCLUDE.findall(page.read_text())}


def test_included_examples_exist():
    missing = [name for name in _included() if not (EXAMPLES / name).is_file()]
    assert missing == []


_LOADED = re.compile(r'(?:load_example|_load)\(\s*"(\w+)"|EXAMPLES / "(\w+)\.')


def test_every_example_is_shown_and_run():
    tests = "".join(path.read_text() for path in TESTS.glob("test_*.py"))
    loaded = {a or b for a, b in _LOADED.findall(tests)}
    included = _included()
    for path in EXAMPLES.glob("*.*"):
        if not path.name.startswith("readme_"):
            assert path.name in included, f"{path.name} is on no page"
        assert path.stem in loaded, f"no test loads {path.name}"


def test_pages_show_python_only_from_files():
    """Python shown inline could not be run by the tests."""
    for page in PAGES:
        text = page.read_text()
        assert ".. code-block:: python" not in text, page.name
        literal = [
            line
            for line in text.splitlines()
            if line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        ]
        assert literal == [], f"{page.name}: use literalinclude or code-block"


def test_readme_snippets_are_the_example_files():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    files = [EXAMPLES / "readme_server.py", EXAMPLES / "readme_google.py"]
    assert blocks == [path.read_text() for path in files]


def test_readme_keeps_its_first_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[2:6] == [
        "```sh",
        "make serve   # set up .venv and serve the example app on"
        " http://127.0.0.1:8000/mcp (gunicorn, 2 workers)",
        "make test    # install everything the tests need (apt, .venv, Node 22"
        " tools) and run the whole suite",
        "```",
    ]


def test_readme_server(load_example):
    example = load_example("readme_server")
    with example.mcp.test_client(example.app, headers={"X-API-Key": "123"}) as client:
        assert client.call_tool("add", {"a": 1, "b": 2})["content"][0]["text"] == "3"
        report = client.call_tool("report", {"days": 7})
        assert report["content"][0]["text"] == "7 days, asked by 1"
        assert client.read_resource("notes://4")["contents"][0]["text"] == "note 4"
        assert client.get_prompt("review", {"code": "x"})["messages"]


def test_readme_google(load_example):
    example = load_example(
        "readme_google",
        env={"GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret"},
    )
    assert [tool.name for tool in example.mcp.registry.tools.values()] == [
        "get_profile"
    ]
    assert example.mcp.proxy.provider.redirect_uri == (
        "https://your-server.com/oauth/callback"
    )


def test_sequence_diagram_is_current():
    spec = importlib.util.spec_from_file_location(
        "sequence", DOCS / "_diagrams" / "sequence.py"
    )
    sequence = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sequence)
    committed = (DOCS / "_static" / "oauth-proxy-flow.svg").read_text()
    assert committed == sequence.draw(), "run python docs/_diagrams/sequence.py"


@pytest.mark.parametrize(
    "name", ["consent.png", "consent-cimd.png", "consent-lookalike.png"]
)
def test_consent_screenshots_are_shipped(name):
    png = DOCS / "_static" / name
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"_static/{name}" in (DOCS / "proxy.rst").read_text()


def test_intersphinx_inventories_are_shipped():
    conf = (DOCS / "conf.py").read_text()
    for name in ("python", "flask", "werkzeug", "authlib", "requests", "marshmallow"):
        inventory = DOCS / "_inventories" / f"{name}.inv"
        assert inventory.read_bytes().startswith(b"# Sphinx inventory version 2")
        assert f'"{name}":' in conf


# -- configuration keys -------------------------------------------------------


def test_config_page_lists_every_default():
    keys = config_keys(module_source("flask_mcp.config"))
    assert [key.name for key in keys] == list(DEFAULTS)
    assert ".. mcp-config:: flask_mcp.config" in (DOCS / "config.rst").read_text()


def test_every_key_the_code_reads_is_documented():
    documented = {key.name for key in config_keys(module_source("flask_mcp.config"))}
    for page in PAGES:
        documented |= set(re.findall(r"\.\. py:data:: (MCP_\w+)", page.read_text()))
    read = set()
    for path in (ROOT / "flask_mcp").rglob("*.py"):
        # A key, not a prefix such as "MCP_OAUTH_".
        read |= set(re.findall(r"[\"'](MCP_[A-Z0-9_]*[A-Z0-9])[\"']", path.read_text()))
    assert read - documented == set()


SOURCE = """
import dataclasses

#: The first key,
#: on two lines.
MCP_FIRST: int = 2 * 60
MCP_SECOND = "two"  # a trailing comment is not documentation
OTHER = 1


@dataclasses.dataclass
class Limits:
    #: Largest body.
    max_body: int = 64 * 1024
    _private: int = 0
"""


def test_config_keys_reads_comments_and_defaults():
    with pytest.raises(ValueError, match="MCP_SECOND has no #: comment"):
        config_keys(SOURCE)
    keys = config_keys(SOURCE.replace("MCP_SECOND", "#: Second.\nMCP_SECOND"))
    assert [(k.name, k.default, k.doc) for k in keys] == [
        ("MCP_FIRST", "2 * 60", "The first key, on two lines."),
        ("MCP_SECOND", '"two"', "Second."),
    ]
    limits = config_keys(SOURCE, prefix="MCP_OAUTH_", dataclass_name="Limits")
    assert [(k.name, k.default) for k in limits] == [
        ("MCP_OAUTH_MAX_BODY", "64 * 1024")
    ]
    with pytest.raises(ValueError, match="no class"):
        config_keys(SOURCE, dataclass_name="Missing")
