"""The browser cookie and CSRF tokens of the consent step, signed with
itsdangerous: what a forger can and cannot do with them."""

from __future__ import annotations

from itsdangerous import Signer

from flask_mcp.auth.proxy.consent import BrowserCookie

KEY = b"k" * 32


def cookie(secure: bool = False) -> BrowserCookie:
    return BrowserCookie("mcp", secure=secure, key=KEY)


def test_a_signed_id_reads_back() -> None:
    jar = cookie()
    browser = jar.new_id()
    value = jar._cookie.sign(browser).decode()
    assert jar.read({jar.cookie_name: value}) == browser


def test_the_cookie_set_on_a_response_reads_back() -> None:
    from werkzeug.http import parse_cookie
    from werkzeug.wrappers import Response

    jar = cookie()
    browser = jar.new_id()
    response = Response()
    jar.set(response, browser)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    parsed = parse_cookie(header.split(";", 1)[0])
    assert jar.read(parsed) == browser


def test_forged_and_foreign_cookies_are_not_read() -> None:
    jar = cookie()
    browser = jar.new_id()
    genuine = jar._cookie.sign(browser).decode()
    other_key = Signer(b"x" * 32, salt="flask_mcp.browser").sign(browser).decode()
    for value in (
        "",
        browser,  # unsigned
        genuine[:-2] + "AA",  # signature altered
        jar.new_id() + genuine[len(browser) :],  # another id, same signature
        other_key,  # another server's key
        jar.csrf_token(browser, "manage"),  # a CSRF token is no cookie
        f"{browser}.{jar.csrf_token(browser, 'manage')}",
        "é" * 40,
        "short." + genuine.rpartition(".")[2],
    ):
        assert jar.read({jar.cookie_name: value}) is None, value


def test_an_id_of_the_wrong_shape_is_refused_even_when_signed() -> None:
    jar = cookie()
    for browser in ("short", "a" * 65, "has space" * 5):
        assert jar.read({jar.cookie_name: jar._cookie.sign(browser).decode()}) is None


def test_csrf_tokens_are_bound_to_browser_and_purpose() -> None:
    jar = cookie()
    browser, other = jar.new_id(), jar.new_id()
    token = jar.csrf_token(browser, "txn:1")
    assert jar.check_csrf(browser, "txn:1", token)
    assert not jar.check_csrf(other, "txn:1", token)
    assert not jar.check_csrf(browser, "txn:2", token)
    assert not jar.check_csrf(browser, "manage", token)
    for bad in (None, "", 3, token + "x", token[:-1], "é" * len(token), ["x"]):
        assert not jar.check_csrf(browser, "txn:1", bad)


def test_the_secure_cookie_is_host_prefixed() -> None:
    assert cookie(secure=True).cookie_name == "__Host-mcp-oauth-browser"
    assert cookie().cookie_name == "mcp-oauth-browser"
