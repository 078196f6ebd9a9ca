"""Browser fixtures: one headless Chromium per test session, a fresh context per test.

Browser tests drive Debian's Chromium (never a downloaded one) against pytest-django's
`live_server`, sign in through the real allauth forms, and check every page with axe-core.
"""

import os
import shutil
import time

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import PASSWORD, TOTP_SECRET

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
# axe impacts that fail a test; "minor" and "moderate" findings are left to review.
# WCAG 2.2 AA (every level's tags) and axe's best practices: any violation fails.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
TOTP_PERIOD = 30
# NHS.UK frontend's CSS loads the Frutiger font from here, which `font-src 'self'` refuses
# (and this machine has no network): pages fall back to Arial. Not counted as a problem.
NHS_FONTS = "https://assets.nhs.uk/fonts/"


def pytest_collection_modifyitems(items):
    """Run browser tests last, so no other test in a process runs while Playwright is up.

    Playwright's loop (and the setting below) would otherwise reach tests that run
    subprocesses, such as `check --deploy`, which warns about DJANGO_ALLOW_ASYNC_UNSAFE.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: run scripts/test, or apt-get install chromium.")
    with sync_playwright() as playwright:
        # Playwright's sync API keeps an asyncio loop running in this thread, and the tests
        # use the ORM between browser steps: Django would refuse with SynchronousOnlyOperation.
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, _fresh_browser_cache):
    """A desktop-sized page in a fresh browser context (its own cookies)."""
    yield from _page_in_new_context(browser, live_server)


@pytest.fixture
def phone_page(browser, live_server, _fresh_browser_cache):
    """A phone-sized page (390 by 844, touch) in a fresh browser context."""
    yield from _page_in_new_context(
        browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True
    )


@pytest.fixture
def other_page(browser, live_server, _fresh_browser_cache):
    """A second person at another computer: a desktop page in a context of its own."""
    yield from _page_in_new_context(browser, live_server)


def shown(moment) -> str:
    """A moment as the pages show it (Django's "j M Y H:i", UK time)."""
    from django.utils import timezone
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), "j M Y H:i")


def typed(moment) -> str:
    """A moment as typed into a datetime-local input, to the minute, UK time."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def disclosure(page, summary: str):
    """An NHS.UK details element, found by the text of its summary."""
    import re

    return page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(summary)}\s*$"))
    )


@pytest.fixture
def _fresh_browser_cache():
    """Used TOTP codes and rate-limit counters live in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _page_in_new_context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = _watch_for_problems(page)
    yield page
    context.close()
    assert not problems, "The browser reported problems:\n" + "\n".join(problems)


def _watch_for_problems(page) -> list[str]:
    """Script errors, console errors (a CSP refusal shows only there) and failed sub-resources.

    A page itself may be a 403 or 404 on purpose; a stylesheet, script or image may not.
    """
    problems: list[str] = []

    def on_console(message):
        if message.type != "error" or message.text.startswith("Failed to load resource"):
            return  # failed loads are judged in on_response, which knows what was loaded
        if NHS_FONTS in message.text and "font-src" in message.text:
            return
        problems.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_response(response):
        request = response.request
        if response.status < 400 or request.resource_type == "document":
            return
        # The browser asks for /favicon.ico on its own; JoinedUp has none.
        if not request.url.endswith("/favicon.ico"):
            problems.append(f"{response.status} for {request.resource_type} {request.url}")

    def on_request_failed(request):
        if not request.url.startswith(NHS_FONTS):
            problems.append(f"failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows now (the middle of allauth's tolerance window)."""
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def _wait_for_fresh_totp_period(margin: float = 3) -> None:
    """Sleep past a period boundary that would fall between computing and checking a code."""
    left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if left < margin:
        time.sleep(left + 0.1)


def login(page, user, totp=True, password: str = PASSWORD, secret: str = TOTP_SECRET) -> None:
    """Sign in through the allauth forms: email and password, then the TOTP code of
    `secret` if asked.

    Every page on the way, and the one it lands on, is checked with axe.
    """
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if totp:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        assert_accessible(page)
        _wait_for_fresh_totp_period()
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/2fa/authenticate/" not in url)
    assert_accessible(page)


def assert_accessible(page) -> None:
    """Run axe-core on the page against WCAG 2.2 AA and best practices; fail listing every
    violation."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state()
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    blocking = results.response["violations"]
    if blocking:
        lines = [f"{len(blocking)} accessibility violation(s) on {page.url}:"]
        for violation in blocking:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(
                f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}"
                for node in violation["nodes"]
            )
        pytest.fail("\n".join(lines), pytrace=False)


def open_from_menu(page, name: str, *, exact: bool = False) -> None:
    """Follow a link of the header's menu, from its "More" list when NHS.UK frontend's script
    has folded the link there (on a phone, or when the menu is wider than the page)."""
    page.locator("[data-nhsuk-header-init]").wait_for(state="attached")
    _drawn(page)  # a resize just before folds the menu again in the next animation frame
    menu = page.get_by_role("navigation", name="Menu")
    link = menu.get_by_role("link", name=name, exact=exact)
    if not link.is_visible():
        menu.get_by_role("button", name="Browse More").click()
    link.click()


def expect_fits_the_screen(page) -> None:
    """Nothing on a phone page makes it scroll sideways (once the page has laid itself out:
    the header folds its menu in the animation frame after a resize)."""
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    fits = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    try:
        page.wait_for_function(fits, timeout=5000)
    except PlaywrightTimeoutError:
        wider = page.evaluate(overflow)
        pytest.fail(f"{page.url} is {wider}px wider than the phone's screen", pytrace=False)


def _resize(page, size) -> None:
    """Set the viewport and wait until the page has drawn itself at that size."""
    page.set_viewport_size(size)
    _drawn(page)


def _drawn(page) -> None:
    """Wait until the page has drawn two animation frames: what a resize set off is done."""
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


DESKTOP = {"width": 1280, "height": 800}


def accessible_at_both_sizes(page) -> None:
    """axe at the page's own size and at the other (phone or desktop), then back."""
    assert_accessible(page)
    size = page.viewport_size
    _resize(page, PHONE if size["width"] > PHONE["width"] else DESKTOP)
    assert_accessible(page)
    _resize(page, size)
