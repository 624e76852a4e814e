"""The built HTML, as readers get it: tables, navigation, phones.

``sphinx -W`` passes pages that read badly: a simple table whose cell spans
two lines of its first column renders one row as two; an inner page without
the global table of contents strands the reader; a long name in running
text makes a phone scroll sideways. These tests build the site once and look
at the pages themselves.
"""

from __future__ import annotations

import subprocess
import sys
import typing as t
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docs_helpers import EXAMPLES

DOCS = EXAMPLES.parent
#: Pages Sphinx writes itself, not from a page of ours.
GENERATED = {"genindex.html", "py-modindex.html", "search.html", "404.html"}
#: A phone, in CSS pixels.
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML docs, built as ``make docs`` builds them (warnings are errors)."""
    out = tmp_path_factory.mktemp("html")
    doctrees = tmp_path_factory.mktemp("doctrees")
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html"]
        + ["-d", str(doctrees), str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return out


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.glob("*.html") if p.name not in GENERATED)


class _Tables(HTMLParser):
    """The cells of every row of every ``<table>``, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: t.Any) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False
        elif tag == "tr" and self._row is not None:
            self.rows.append([cell.strip() for cell in self._row])
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_cell and self._row:
            self._row[-1] += data


def test_table_rows_are_whole(site: Path) -> None:
    """A row with an empty cell, or whose first cell ends mid-list with a
    comma, is one row of the source split in two."""
    broken = []
    for page in _pages(site):
        parser = _Tables()
        parser.feed(page.read_text())
        for row in parser.rows:
            if any(not cell for cell in row) or row[0].endswith(","):
                broken.append(f"{page.name}: {row}")
    assert broken == []


def test_every_inner_page_links_to_every_guide(site: Path) -> None:
    """The sidebar of an inner page holds the whole table of contents."""
    pages = {p.name for p in _pages(site)} - {"index.html"}
    for page in sorted(pages):
        sidebar = page_sidebar(site / page)
        missing = {p for p in pages if p != page and f'href="{p}"' not in sidebar}
        assert missing == set(), f"{page} has no link to {sorted(missing)}"


def page_sidebar(page: Path) -> str:
    text = page.read_text()
    return text[text.index('class="sphinxsidebar"') :]


def test_no_page_scrolls_sideways_on_a_phone(site: Path) -> None:
    """Debian's chromium at a phone's width: every page is as wide as the
    screen; wide code and tables scroll inside their own box."""
    from playwright.sync_api import sync_playwright

    wide = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"],
            headless=True,
        )
        try:
            tab = browser.new_page(viewport=PHONE)
            for page in sorted(site.glob("*.html")):
                tab.goto(page.as_uri())
                overflow = tab.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth"
                )
                if overflow > 0:
                    wide.append(f"{page.name}: {overflow}px too wide")
        finally:
            browser.close()
    assert wide == []
