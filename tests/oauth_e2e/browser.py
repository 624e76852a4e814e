"""Drive the user's part of an OAuth authorization: upstream login, consents.

Two drivers with the same rules, so a flow test and a browser test make the
same choices:

* :class:`FormBrowser`: ``requests`` with a cookie jar, following every
  redirect by hand and submitting the HTML forms it meets (parsed with
  :mod:`html.parser`); fast and exact about status codes and headers.
* :class:`ChromiumBrowser`: Playwright driving Debian's ``/usr/bin/chromium``
  (headless), clicking the buttons of the same pages; optional JavaScript.

Both start at an authorization URL and stop as soon as the browser is sent
to ``stop_at`` (the client's redirect URI), without loading it. On the way:

* a page with a password field is a login form: the test user's credentials
  go in (the upstream of ``upstream.mjs``: ``ada`` / ``lovelace-1815``);
* any other page with forms is a consent page: the button whose label says
  approve/allow (or deny, per ``decision``) is clicked. The upstream's own
  consent page is always allowed unless ``upstream_decision`` says otherwise.

Every page is recorded (:class:`Page`: url, status, headers, text, forms), so
a test can assert what the user saw.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import typing as t
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

#: The upstream test user (see upstream.mjs).
USERNAME = "ada"
PASSWORD = "lovelace-1815"
SUBJECT = "user-123"
EMAIL = "ada@example.com"
NAME = "Ada Lovelace"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

APPROVE = re.compile(
    r"\b(approve|allow|accept|authori[sz]e|grant|continue|yes)\b", re.I
)
DENY = re.compile(r"\b(deny|reject|decline|cancel|refuse|no)\b", re.I)
Decision = t.Literal["approve", "deny"]


class FlowError(AssertionError):
    """The flow went somewhere unexpected; the message says where and shows the page."""


# ---------------------------------------------------------------------------
# HTML forms


@dataclass
class Control:
    """An ``<input>``, ``<button>``, ``<select>`` or ``<textarea>`` of a form."""

    tag: str
    type: str
    name: str | None
    value: str
    label: str = ""
    checked: bool = False

    @property
    def is_submit(self) -> bool:
        return (self.tag == "button" and self.type in ("submit", "")) or (
            self.tag == "input" and self.type in ("submit", "image")
        )

    @property
    def text(self) -> str:
        return (self.label or self.value).strip()


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)
    id: str | None = None

    @property
    def buttons(self) -> list[Control]:
        return [c for c in self.controls if c.is_submit]

    @property
    def has_password(self) -> bool:
        return any(c.tag == "input" and c.type == "password" for c in self.controls)

    def fields(self, clicked: Control | None = None) -> list[tuple[str, str]]:
        """The name/value pairs a browser submits when ``clicked`` is pressed."""
        pairs = []
        for control in self.controls:
            if not control.name or control.is_submit:
                continue
            if control.type in ("checkbox", "radio") and not control.checked:
                continue
            if control.type in ("button", "reset", "file"):
                continue
            pairs.append((control.name, control.value))
        if clicked is not None and clicked.name:
            pairs.append((clicked.name, clicked.value))
        return pairs


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.title = ""
        self._form: Form | None = None
        self._button: Control | None = None
        self._textarea: Control | None = None
        self._in_title = False
        self.text_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "form":
            self._form = Form(
                action=a.get("action", ""),
                method=(a.get("method") or "get").lower(),
                id=a.get("id"),
            )
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._form.controls.append(
                Control(
                    tag="input",
                    type=(a.get("type") or "text").lower(),
                    name=a.get("name"),
                    value=a.get("value", ""),
                    checked="checked" in a,
                )
            )
        elif tag == "button":
            self._button = Control(
                tag="button",
                type=(a.get("type") or "submit").lower(),
                name=a.get("name"),
                value=a.get("value", ""),
            )
            self._form.controls.append(self._button)
        elif tag == "textarea":
            self._textarea = Control("textarea", "textarea", a.get("name"), "")
            self._form.controls.append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._in_title:
            self.title += data
        if self._button is not None:
            self._button.label += data
        if self._textarea is not None:
            self._textarea.value += data


def parse_forms(html: str) -> tuple[str, list[Form], str]:
    """``(title, forms, visible text)`` of an HTML page."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    text = " ".join(" ".join(parser.text_parts).split())
    return parser.title.strip(), parser.forms, text


# ---------------------------------------------------------------------------
# What a driver records


@dataclass
class Page:
    """One response the browser got on the way."""

    method: str
    url: str
    status: int
    headers: dict[str, str]
    text: str = ""
    title: str = ""
    forms: list[Form] = field(default_factory=list)
    #: what the driver did on it: "redirect", "login", "consent:approve", ...
    action: str = ""

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class FlowResult:
    """Where the user ended up: the redirect to the client and its parameters."""

    location: str
    pages: list[Page]

    @property
    def params(self) -> dict[str, str]:
        parts = urlsplit(self.location)
        return dict(parse_qsl(parts.query, keep_blank_values=True))

    def visited(self, action_prefix: str) -> list[Page]:
        return [p for p in self.pages if p.action.startswith(action_prefix)]


def choose_button(form_list: list[Form], decision: Decision) -> tuple[Form, Control]:
    """The form and button a user clicks to approve or deny."""
    wanted = APPROVE if decision == "approve" else DENY
    other = DENY if decision == "approve" else APPROVE
    for form in form_list:
        for button in form.buttons:
            label = " ".join(filter(None, [button.text, button.value, button.name]))
            if wanted.search(label) and not other.search(button.text):
                return form, button
    raise FlowError(
        f"no {decision} button among "
        f"{[[b.text or b.value for b in f.buttons] for f in form_list]}"
    )


# ---------------------------------------------------------------------------
# requests


class FormBrowser:
    """A minimal browser on ``requests``: cookies, redirects by hand, HTML forms.

    ``FormBrowser(upstream=issuer_url)``; ``run(url, stop_at=redirect_uri,
    decision="approve")`` returns a :class:`FlowResult`. The cookie jar is kept
    between runs, like a real browser (a second run may skip the upstream login).
    """

    max_steps = 30

    def __init__(
        self,
        *,
        upstream: str,
        username: str = USERNAME,
        password: str = PASSWORD,
        timeout: float = 15.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "flask-mcp-oauth-e2e/1 (FormBrowser)"
        self.http.headers["Accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
        #: the pages of the last (or current) run, also when it failed
        self.pages: list[Page] = []

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FormBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self,
        url: str,
        *,
        stop_at: str,
        decision: Decision | None = "approve",
        upstream_decision: Decision = "approve",
    ) -> FlowResult:
        """Follow ``url`` until sent to ``stop_at``; with ``decision=None``, stop
        at the (non-upstream) consent page instead: its URL is the location."""
        pages: list[Page] = []
        self.pages = pages
        method, data = "GET", None
        for _ in range(self.max_steps):
            response = self.http.request(
                method, url, data=data, allow_redirects=False, timeout=self.timeout
            )
            page = Page(method, url, response.status_code, dict(response.headers))
            pages.append(page)
            if response.is_redirect or response.status_code in (
                301,
                302,
                303,
                307,
                308,
            ):
                location = response.headers.get("Location")
                if not location:
                    raise FlowError(f"{response.status_code} without Location at {url}")
                page.action = "redirect"
                url = urljoin(url, location)
                if url.startswith(stop_at):
                    return FlowResult(url, pages)
                if response.status_code not in (307, 308):
                    method, data = "GET", None
                continue
            page.text = response.text
            page.title, page.forms, visible = parse_forms(response.text)
            if response.status_code >= 400 or not page.forms:
                raise FlowError(
                    f"{method} {url} -> {response.status_code}, no way on: "
                    f"{page.title!r} {visible[:1500]!r}"
                )
            if (
                decision is None
                and page.origin != self.upstream
                and not any(f.has_password for f in page.forms)
            ):
                page.action = "consent:stop"
                return FlowResult(url, pages)
            form, button = self._choose(page, decision or "approve", upstream_decision)
            fields = form.fields(button)
            if form.has_password:
                fields = self._fill_login(fields, form)
            target = urljoin(url, form.action or url)
            if form.method == "post":
                method, url, data = "POST", target, fields
            else:
                query = "&".join(f"{k}={requests.utils.quote(v)}" for k, v in fields)
                method, url, data = "GET", f"{target.split('?')[0]}?{query}", None
        raise FlowError(f"no redirect to {stop_at} after {self.max_steps} steps")

    def _choose(
        self, page: Page, decision: Decision, upstream_decision: Decision
    ) -> tuple[Form, Control | None]:
        logins = [f for f in page.forms if f.has_password]
        if logins:
            page.action = "login"
            form = logins[0]
            return form, (form.buttons[0] if form.buttons else None)
        on_upstream = page.origin == self.upstream
        chosen = upstream_decision if on_upstream else decision
        page.action = f"{'upstream-consent' if on_upstream else 'consent'}:{chosen}"
        return choose_button(page.forms, chosen)

    def _fill_login(
        self, fields: list[tuple[str, str]], form: Form
    ) -> list[tuple[str, str]]:
        filled = []
        for name, value in fields:
            control = next(c for c in form.controls if c.name == name)
            if control.type == "password":
                value = self.password
            elif control.type in ("text", "email") or name in ("username", "login"):
                value = self.username
            filled.append((name, value))
        return filled


# ---------------------------------------------------------------------------
# Playwright + Debian chromium


class RedirectCatcher:
    """A loopback HTTP server standing in for an OAuth client's redirect URI.

    ``with RedirectCatcher() as catcher:``; ``catcher.redirect_uri`` is
    ``http://127.0.0.1:PORT/callback``; every request to it is answered with a
    small page and its full URL appended to ``catcher.arrivals``. (Playwright
    does not route the targets of HTTP redirects, so a real listener is needed
    to end a browser flow at the client.)
    """

    def __init__(self, path: str = "/callback") -> None:
        self.path = path
        self.arrivals: list[str] = []
        catcher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                if self.path.split("?")[0] != catcher.path:  # /favicon.ico...
                    self.send_error(404)
                    return
                catcher.arrivals.append(catcher.origin + self.path)
                body = b"<!DOCTYPE html><title>Client</title><p>Signed in.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def redirect_uri(self) -> str:
        return self.origin + self.path

    def __enter__(self) -> RedirectCatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class ChromiumBrowser:
    """Debian's chromium through Playwright (sync API), headless.

    ``with ChromiumBrowser() as chromium:`` then ``chromium.run(url,
    stop_at=catcher.redirect_uri, upstream=..., decision=..., java_script=True,
    on_consent=callback(page, Page))``. Each run has a fresh browser context
    (no cookies). ``stop_at`` must be served (see :class:`RedirectCatcher`).
    """

    max_steps = 20

    def __init__(self, executable: str = CHROMIUM) -> None:
        self.executable = executable
        self._stack = contextlib.ExitStack()
        self.browser: t.Any = None
        #: the pages of the last (or current) run, also when it failed
        self.pages: list[Page] = []

    def __enter__(self) -> ChromiumBrowser:
        from playwright.sync_api import sync_playwright

        playwright = self._stack.enter_context(sync_playwright())
        self.browser = playwright.chromium.launch(
            executable_path=self.executable, args=CHROMIUM_ARGS, headless=True
        )
        self._stack.callback(self.browser.close)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(
        self,
        url: str,
        *,
        stop_at: str,
        upstream: str,
        decision: Decision = "approve",
        upstream_decision: Decision = "approve",
        java_script: bool = True,
        on_consent: t.Callable[[t.Any, Page], None] | None = None,
        username: str = USERNAME,
        password: str = PASSWORD,
    ) -> FlowResult:
        assert self.browser is not None, "use ChromiumBrowser as a context manager"
        pages: list[Page] = []
        self.pages = pages
        context = self.browser.new_context(java_script_enabled=java_script)
        try:

            def record(response: t.Any) -> None:
                if response.request.resource_type == "document":
                    pages.append(
                        Page(
                            response.request.method,
                            response.url,
                            response.status,
                            response.headers,
                            action="redirect" if 300 <= response.status < 400 else "",
                        )
                    )

            page = context.new_page()
            page.on("response", record)
            page.goto(url, wait_until="load")
            for _ in range(self.max_steps):
                if page.url.startswith(stop_at):
                    return FlowResult(page.url, pages)
                current = self._current(page, pages)
                html = page.content()
                current.text = html
                current.title, current.forms, visible = parse_forms(html)
                if current.status >= 400 or not current.forms:
                    raise FlowError(
                        f"{page.url} -> {current.status}, no way on: "
                        f"{current.title!r} {visible[:1500]!r}"
                    )
                password_box = page.locator("input[type=password]")
                if password_box.count():
                    current.action = "login"
                    page.locator(
                        "form:has(input[type=password]) "
                        ":is(input[type=text], input[type=email], input:not([type]))"
                    ).first.fill(username)
                    password_box.first.fill(password)
                    clicker = page.locator(
                        "form:has(input[type=password]) "
                        ":is([type=submit], button:not([type]))"
                    ).first
                else:
                    on_upstream = current.origin == upstream.rstrip("/")
                    chosen = upstream_decision if on_upstream else decision
                    kind = "upstream-consent" if on_upstream else "consent"
                    current.action = f"{kind}:{chosen}"
                    if not on_upstream and on_consent is not None:
                        on_consent(page, current)
                    _, button = choose_button(current.forms, chosen)
                    clicker = page.get_by_role(
                        "button", name=button.text or button.value
                    )
                    clicker = clicker.first
                with page.expect_navigation(wait_until="load"):
                    clicker.click()
            raise FlowError(f"no redirect to {stop_at} after {self.max_steps} steps")
        finally:
            context.close()

    @staticmethod
    def _current(page: t.Any, pages: list[Page]) -> Page:
        for recorded in reversed(pages):
            if recorded.url == page.url and not recorded.action:
                return recorded
        raise FlowError(f"no response recorded for {page.url}")


def save_screenshot(page: t.Any, path: Path) -> Path:
    """Full-page PNG of ``page`` at ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
