"""A case review panel is held and its actions are tracked to completion."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.tests.factories import give_consent
from joinedup.risk import panels
from joinedup.risk.models import PanelAction, PanelMember

pytestmark = pytest.mark.browser


def test_a_panel_is_held_and_its_actions_tracked(hub, page):
    give_consent(hub, "identity", hub.crisis)
    give_consent(hub, "assessment", hub.crisis)
    login(page, hub.practitioner)
    page.goto("/panels/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Case review panels")
    assert_accessible(page)
    page.get_by_label("Title").fill("Northbridge complex cases")
    meets = timezone.localtime() + dt.timedelta(hours=2)
    page.get_by_label("Meets at").fill(meets.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Northbridge complex cases")
    assert_accessible(page)

    page.get_by_label("Invite a member (email)").fill(hub.crisis_practitioner.email)
    page.get_by_role("button", name="Invite").click()
    page.get_by_label("Student number").fill(hub.student.student_number)
    page.get_by_label("Why the case comes to the panel").fill("Crisis contact; exams soon.")
    page.get_by_role("button", name="Put on the agenda").click()
    expect(page.locator("[data-case]")).to_contain_text("Crisis contact; exams soon.")
    page.get_by_label(re.compile(r"^Cara")).check()
    page.get_by_role("button", name="Record attendance").click()
    page.get_by_label("Panel decision").fill("Joint plan; review in four weeks.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("[data-case]")).to_contain_text("Decision: Joint plan")

    # An action without an owner is refused next to the field; nothing is saved.
    page.get_by_label("Action", exact=True).fill("Call the GP about medication")
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_role("alert")).to_contain_text("Every action needs an owner.")
    assert_accessible(page)
    assert not PanelAction.objects.exists()
    page.get_by_label("Action", exact=True).fill("Call the GP about medication")
    page.get_by_label("Owner").select_option(label="Cara")
    page.get_by_label("Due").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_role("main")).to_contain_text("Call the GP about medication")
    assert_accessible(page)
    panel = panels.panels_for(hub.practitioner).get()
    assert PanelMember.objects.get(panel=panel, user=hub.crisis_practitioner).attended is True

    # The owner, a member from another organisation, sees the case (the student consented)
    # and completes the action from their list.
    page.context.clear_cookies()
    login(page, hub.crisis_practitioner)
    page.goto("/panels/")
    expect(page.locator("[data-action]")).to_contain_text("Call the GP about medication")
    assert_accessible(page)
    page.get_by_role("link", name="Northbridge complex cases").first.click()
    expect(page.locator("[data-case]")).to_contain_text(hub.student.display_name)
    page.get_by_role("button", name="Mark done Call the GP about medication").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert_accessible(page)
    assert PanelAction.objects.get().completed_at is not None
