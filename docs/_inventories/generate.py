"""Write the intersphinx inventories the docs build reads, so it never fetches.

The build runs without network, so ``intersphinx_mapping`` in ``conf.py``
points at the ``*.inv`` files beside this script. They come from:

* Debian's documentation packages (``python3.11-doc``, ``python-flask-doc``,
  ``python-werkzeug-doc``, ``python-authlib-doc``, ``python-requests-doc``),
  fetched with ``apt-get download`` (nothing is installed). Their URIs are
  rewritten to the layout of the projects' online docs: the Pallets projects
  and requests publish with Sphinx's ``dirhtml`` builder (``api/#flask.Flask``),
  Debian builds ``html`` (``api.html#flask.Flask``).
* The installed marshmallow package, whose public names are mapped to the
  pages of its online API reference (marshmallow has no Debian doc package).

Run it again to refresh them (after a Debian or marshmallow upgrade)::

    python docs/_inventories/generate.py

and commit the changed files.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re
import subprocess
import sys
import tempfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent

#: inventory name -> (Debian package, path of objects.inv inside it, dirhtml?)
DEBIAN = {
    "python": (
        "python3.11-doc",
        "usr/share/doc/python3.11/html/objects.inv",
        False,
    ),
    "flask": (
        "python-flask-doc",
        "usr/share/doc/python-flask-doc/html/objects.inv",
        True,
    ),
    "werkzeug": (
        "python-werkzeug-doc",
        "usr/share/doc/python-werkzeug-doc/html/objects.inv",
        True,
    ),
    "authlib": (
        "python-authlib-doc",
        "usr/share/doc/python-authlib-doc/html/objects.inv",
        False,
    ),
    "requests": (
        "python-requests-doc",
        "usr/share/doc/python-requests-doc/html/objects.inv",
        True,
    ),
}

#: One inventory line: name, domain:role, priority, uri, display name.
_LINE = re.compile(r"(?x)(.+?)\s+(\S+)\s+(-?\d+)\s+?(\S*)\s+(.*)")

Entry = tuple[str, str, str, str, str]


def read_inventory(data: bytes) -> tuple[str, str, list[Entry]]:
    """Project, version and entries of a version 2 ``objects.inv``."""
    lines = data.split(b"\n", 4)
    if lines[0].rstrip() != b"# Sphinx inventory version 2":
        raise ValueError("not a version 2 Sphinx inventory")
    project = lines[1].decode().removeprefix("# Project: ").strip()
    version = lines[2].decode().removeprefix("# Version: ").strip()
    entries = []
    for line in zlib.decompress(lines[4]).decode().splitlines():
        found = _LINE.fullmatch(line.rstrip())
        if found:
            name, role, priority, uri, display = found.groups()
            entries.append((name, role, priority, uri, display))
    return project, version, entries


def write_inventory(
    path: pathlib.Path, project: str, version: str, entries: list[Entry]
) -> None:
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(" ".join(entry) + "\n" for entry in sorted(set(entries)))
    path.write_bytes(header.encode() + zlib.compress(body.encode(), 9))


def to_dirhtml(uri: str) -> str:
    """``api.html#x`` -> ``api/#x``; ``index.html#x`` -> ``#x``."""
    page, sep, anchor = uri.partition("#")
    if page.endswith(".html"):
        page = page[: -len(".html")]
        page = "" if page == "index" else page.removesuffix("/index") + "/"
    return page + sep + anchor


def from_debian(workdir: pathlib.Path) -> None:
    packages = [package for package, _, _ in DEBIAN.values()]
    subprocess.run(["apt-get", "download", *packages], cwd=workdir, check=True)
    for name, (package, member, dirhtml) in DEBIAN.items():
        (deb,) = workdir.glob(f"{package}_*.deb")
        target = workdir / package
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        project, version, entries = read_inventory((target / member).read_bytes())
        if dirhtml:
            entries = [(n, r, p, to_dirhtml(u), d) for n, r, p, u, d in entries]
        write_inventory(HERE / f"{name}.inv", project, version, entries)
        print(f"{name}.inv: {len(entries)} entries from {deb.name}")


def marshmallow_entries() -> tuple[str, list[Entry]]:
    """Public classes and functions of marshmallow and marshmallow.fields,
    at ``marshmallow.<module>.html#<module>.<name>`` as its docs publish them."""
    import marshmallow

    entries: list[Entry] = []
    for module_name in ("marshmallow", "marshmallow.fields", "marshmallow.validate"):
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            home = getattr(obj, "__module__", None)
            if not home or not home.startswith("marshmallow"):
                continue
            role = "py:class" if inspect.isclass(obj) else "py:function"
            anchor = f"{home}.{name}"
            uri = f"{home}.html#{anchor}"
            for alias in {anchor, f"{module_name}.{name}"}:
                entries.append((alias, role, "1", uri, "-"))
    version = getattr(marshmallow, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("marshmallow")
    return version, entries


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        from_debian(pathlib.Path(tmp))
    version, entries = marshmallow_entries()
    write_inventory(HERE / "marshmallow.inv", "marshmallow", version, entries)
    print(f"marshmallow.inv: {len(entries)} entries from marshmallow {version}")


if __name__ == "__main__":
    sys.exit(main())
