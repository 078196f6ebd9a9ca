"""While the database cannot be reached (restarting, failing over), every request is
answered 503 with a page that asks it nothing; once it is back, pages work again without
restarting anything."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from playwright.sync_api import expect

from conftest import SignedInClient
from joinedup.conftest import accessible_at_both_sizes, login

TITLE = "Sorry, JoinedUp is not working just now"


class Database:
    """Every query, in every thread, fails as one to a restarting server does while away."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def away(self):
        def refused(*args, **kwargs):
            raise OperationalError("the database system is starting up")

        self.monkeypatch.setattr(CursorWrapper, "execute", refused)
        self.monkeypatch.setattr(CursorWrapper, "executemany", refused)

    def back(self):
        self.monkeypatch.undo()


@pytest.fixture
def database(monkeypatch):
    return Database(monkeypatch)


@pytest.mark.django_db
def test_pages_api_and_fhir_say_unavailable_then_recover(hub, database):
    client = SignedInClient(raise_request_exception=False)  # as a server answers
    client.force_login(hub.practitioner)
    database.away()
    page = client.get("/")
    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    text = page.content.decode()
    assert TITLE in text
    assert "call NHS 111" in text
    api = client.get("/api/students")
    assert api.status_code == 503
    assert api.json()["detail"] == "The service is unavailable for a moment. Try again shortly."
    fhir = client.get("/fhir/Patient")
    assert fhir.status_code == 503
    assert fhir.json()["issue"][0]["code"] == "transient"
    database.back()
    assert client.get("/", follow=True).status_code == 200


@pytest.mark.browser
def test_someone_mid_task_sees_a_clear_page_then_carries_on(hub, page, database):
    login(page, hub.practitioner)
    database.away()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("call Samaritans free on 116 123")).to_be_visible()
    accessible_at_both_sizes(page)
    database.back()
    page.reload()
    expect(page.get_by_role("heading", level=1)).not_to_have_text(TITLE)
    expect(page.get_by_text("Sign out")).to_be_visible()  # still signed in
