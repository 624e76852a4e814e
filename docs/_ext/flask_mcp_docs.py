"""Sphinx helpers of the flask_mcp docs.

``.. mcp-config:: flask_mcp.config`` renders the configuration keys of a
module from its source (see :mod:`configkeys`). For a dataclass whose fields
are configuration keys too::

    .. mcp-config:: flask_mcp.auth.proxy.limits
       :dataclass: OAuthLimits
       :prefix: MCP_OAUTH_
"""

from __future__ import annotations

import typing as t

from configkeys import config_keys
from configkeys import module_source
from configkeys import render
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

if t.TYPE_CHECKING:
    from sphinx.application import Sphinx


class ConfigDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"dataclass": directives.unchanged, "prefix": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        module = self.arguments[0]
        source = module_source(module)
        keys = config_keys(
            source,
            prefix=self.options.get("prefix", "MCP_"),
            dataclass_name=self.options.get("dataclass"),
        )
        self.env.note_dependency(_origin(module))
        container = nodes.container()
        lines = StringList(render(keys, module), source=f"<mcp-config {module}>")
        self.state.nested_parse(lines, self.content_offset, container)
        return container.children


def _origin(module: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(module)
    return spec.origin if spec and spec.origin else ""


#: Names the type hints use without a module (``from __future__ import
#: annotations`` keeps ``TYPE_CHECKING`` imports as strings), and where the
#: objects they name are documented.
KNOWN_NAMES = {
    "Flask": "flask.Flask",
    "Request": "werkzeug.wrappers.Request",
    "TestResponse": "werkzeug.test.TestResponse",
    "Authenticate": "flask_mcp.auth.Authenticator",
}


def resolve_short_names(
    app: Sphinx, env: t.Any, node: t.Any, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve Python references that Sphinx cannot by their short name.

    Type hints name objects where they are defined (``flask_mcp.store.core.
    Store``) or by the name a module imported them under (``Store``, ``t.Any``),
    while the reference documents them where users import them from
    (``flask_mcp.store.Store``). A reference is resolved when exactly one
    documented object has its last components, preferring objects of the
    module the reference is written in.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    if target.startswith("t."):
        target = "typing." + target[2:]
    target = KNOWN_NAMES.get(target, target)
    if target != node["reftarget"]:
        from sphinx.ext import intersphinx

        # ``typing.Any`` is data, not a class: retry with the any-type role.
        for reftype in (node["reftype"], "obj"):
            retry = node.deepcopy()
            retry["reftarget"] = target
            retry["reftype"] = reftype
            found = intersphinx.missing_reference(app, env, retry, contnode)
            if found is not None:
                return t.cast(nodes.Element, found)
    domain = env.get_domain("py")
    short = target.rpartition(".")[2]
    candidates = [
        name
        for name in domain.objects
        if name == target or name.endswith("." + short) and target.endswith(short)
    ]
    suffix = [name for name in candidates if name.endswith("." + target)]
    candidates = suffix or candidates
    module = node.get("py:module") or ""
    if len(candidates) > 1 and module:
        local = [name for name in candidates if name.startswith(module + ".")]
        candidates = local or candidates
    if len(candidates) > 1 and node.get("py:class"):
        candidates = _inherited(candidates, module, node["py:class"], short)
    # autodoc registers a class under its canonical path too
    # (flask_mcp.extension.FlaskMCP): one anchor is one object.
    anchors = {
        (domain.objects[name].docname, domain.objects[name].node_id)
        for name in candidates
    }
    if len(anchors) == 1:
        candidates = [name for name in candidates if not domain.objects[name].aliased]
    if len(candidates) != 1:
        return None
    (name,) = candidates
    entry = domain.objects[name]
    from sphinx.util.nodes import make_refnode

    return make_refnode(
        app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name
    )


def _inherited(candidates: list[str], module: str, cls: str, short: str) -> list[str]:
    """Of ``candidates``, the member of the nearest class in ``cls``'s MRO
    (``:attr:`subject``` in a subclass means the base class's field)."""
    import importlib

    try:
        obj: t.Any = importlib.import_module(module)
        for part in cls.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return candidates
    for base in getattr(obj, "__mro__", ()):
        for name in candidates:
            if name.endswith(f".{base.__name__}.{short}"):
                return [name]
    return candidates


def readable_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: t.Any,
    options: t.Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Dataclass fields with a ``default_factory`` show as ``<factory>``,
    which is not Python: Sphinx then splits the signature on every colon,
    including those inside string defaults. Show ``...`` instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def setup(app: Sphinx) -> dict[str, t.Any]:
    app.add_directive("mcp-config", ConfigDirective)
    app.connect("autodoc-process-signature", readable_signature)
    # After intersphinx (priority 500), which resolves what it can first.
    app.connect("missing-reference", resolve_short_names, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
