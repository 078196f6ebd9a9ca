"""The interactive documentation at /api/docs, in a real browser, under the site's
Content-Security-Policy (no inline script, nothing from another origin): it renders, passes
axe, and a signed-in member of staff can try a request from it."""

import pytest

from joinedup.conftest import assert_accessible, login


@pytest.fixture
def ninja_installed(settings):
    """Swagger UI's files are django-ninja's static files, found once "ninja" is an installed
    app (a setting the lead adds; until then the test adds it)."""
    if "ninja" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "ninja"]


@pytest.mark.browser
@pytest.mark.usefixtures("ninja_installed")
def test_the_docs_work_under_the_content_security_policy(hub, page):
    login(page, hub.practitioner)
    page.goto("/api/docs")
    page.get_by_role("heading", name="JoinedUp API").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="GET /api/students Students I may read").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    live = page.locator(".live-responses-table tbody .response-col_status")
    live.first.wait_for()
    assert live.first.inner_text().strip() == "200"
    assert hub.student.display_name in page.locator(".live-responses-table").inner_text()
    assert_accessible(page)


@pytest.mark.usefixtures("ninja_installed")
def test_the_docs_page_loads_nothing_from_another_origin(hub, client):
    html = client.get("/api/docs").content.decode()
    assert "cdn.jsdelivr.net" not in html
    assert "<script>" not in html  # only external scripts and a JSON data block
    assert '<html lang="en-GB">' in html
