"""Sphinx configuration of the flask_mcp documentation.

Build with ``make docs`` (HTML in ``docs/_build/html``, warnings are errors).
The build needs no network: intersphinx reads the inventories shipped in
``docs/_inventories`` (see ``generate.py`` there).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pallets_sphinx_themes import ProjectLink
from pallets_sphinx_themes import get_version

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# Project --------------------------------------------------------------

project = "flask_mcp"
copyright = "2026, the flask_mcp authors"
author = "the flask_mcp authors"
release, version = get_version("flask-mcp")

# General --------------------------------------------------------------

default_role = "code"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinxcontrib.log_cabinet",
    "pallets_sphinx_themes",
    "flask_mcp_docs",
]
exclude_patterns = [
    "_build",
    "examples",
    "_inventories",
    "_ext",
    "_diagrams",
    "README.rst",
]
nitpicky = True
nitpick_ignore = [
    # The base of Context that handlers never see.
    ("py:class", "flask_mcp.components.component.RequestContext"),
    # Type aliases of signatures, described in the parameters' text.
    ("py:class", "IconsArg"),
    ("py:class", "RequestId"),
    ("py:class", "Resolver"),
    ("py:class", "AnswerBook"),
    ("py:class", "Result"),
    # The store's outage logger, in the signatures of backends.
    ("py:class", "Health"),
    # redis-py publishes no inventory.
    ("py:class", "redis.Redis"),
    ("py:class", "redis.cluster.RedisCluster"),
    ("py:class", "redis.sentinel.Sentinel"),
    ("py:class", "redis.lock.Lock"),
    # Neither does blinker.
    ("py:mod", "blinker"),
]
nitpick_ignore_regex = [
    # Type variables of generic signatures (F, S, ...).
    ("py:class", r"flask_mcp\.[\w.]*\.[A-Z]"),
    # joserfc has no published inventory.
    ("py:class", r"(joserfc\..*|Key|KeySet)"),
]
# Sidebars list sections, not every documented object.
toc_object_entries = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True


_INVENTORIES = DOCS / "_inventories"
intersphinx_mapping = {
    name: (url, str(_INVENTORIES / f"{name}.inv"))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "flask": "https://flask.palletsprojects.com/en/stable/",
        "werkzeug": "https://werkzeug.palletsprojects.com/en/stable/",
        "authlib": "https://docs.authlib.org/en/latest/",
        "requests": "https://requests.readthedocs.io/en/latest/",
        "marshmallow": "https://marshmallow.readthedocs.io/en/stable/",
    }.items()
}

# HTML -----------------------------------------------------------------

html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False, "globaltoc_maxdepth": 1}
html_context = {
    "project_links": [
        ProjectLink("Changes", "changes.html"),
    ]
}
html_sidebars = {
    "index": ["project.html", "localtoc.html", "searchbox.html"],
    # Every page links to every other (globaltoc), not only to its neighbours.
    "**": ["globaltoc.html", "localtoc.html", "relations.html", "searchbox.html"],
}
singlehtml_sidebars = {"index": ["project.html", "localtoc.html"]}
html_static_path = ["_static"]
# Wide tables and code scroll in their box on a phone (tests/docs/test_docs_html.py).
html_css_files = ["flask_mcp.css"]
html_title = f"flask_mcp Documentation ({version})"
html_show_sourcelink = False
