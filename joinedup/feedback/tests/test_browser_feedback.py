"""The loop closed, in real browsers: a student gives feedback on a phone, staff tag it, a
manager moves an action on, and the student is told."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.services import open_care_relationship
from joinedup.feedback.models import AdvisoryGroup, Draft
from joinedup.referrals.models import Episode

pytestmark = pytest.mark.browser


@pytest.fixture
def ended(hub):
    relationship = open_care_relationship(student=hub.student, service=hub.wellbeing, reason="x")
    return Episode.objects.create(
        student=hub.student,
        service=hub.wellbeing,
        relationship=relationship,
        started_at=timezone.now() - dt.timedelta(days=40),
        ended_at=timezone.now() - dt.timedelta(days=2),
        ending=Episode.Ending.PLANNED,
    )


def test_feedback_is_tagged_acted_on_and_the_student_told(hub, ended, page, phone_page):
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role("link", name="Give feedback on Wellbeing").click()
    assert_accessible(phone_page)
    phone_page.get_by_role("button", name="Send feedback").click()
    expect(phone_page.get_by_role("alert")).to_contain_text("Say whether to put your name")
    assert_accessible(phone_page)
    overall = phone_page.get_by_role("group", name="Overall, how was your experience")
    overall.get_by_label("Good", exact=True).check()
    phone_page.get_by_label("Is there anything you would like to tell us?").fill(
        "Evening appointments would help with lectures."
    )
    phone_page.get_by_label(re.compile("^Yes: the service may know")).check()
    phone_page.get_by_role("button", name="Send feedback").click()
    expect(phone_page.get_by_role("status")).to_contain_text("Your feedback has been sent.")
    expect(phone_page.locator("[data-invitation]")).to_have_count(0)

    login(page, hub.practitioner)
    page.goto("/feedback/")
    card = page.locator("[data-feedback]").first
    expect(card).to_contain_text("Evening appointments would help")
    expect(card).to_contain_text(hub.student.display_name)
    assert_accessible(page)
    card.get_by_label("New themes").fill("Evening slots")
    card.get_by_role("button", name=re.compile("^Save themes")).click()
    expect(page.get_by_role("status")).to_contain_text("Themes saved.")
    expect(page.locator("[data-feedback]").first.get_by_label("Evening slots")).to_be_checked()

    page.context.clear_cookies()
    login(page, hub.service_manager)
    page.goto("/feedback/actions/")
    assert_accessible(page)
    page.get_by_label("For").select_option(label="Wellbeing")
    page.get_by_label("What we are doing").fill("Appointments until 8pm on Tuesdays")
    page.get_by_label("Evening slots (Wellbeing)").check()
    page.get_by_role("button", name="Publish action").click()
    expect(page.locator("[data-status]")).to_have_text("Planned")
    assert_accessible(page)
    page.get_by_label("New status").select_option(label="In progress")
    page.get_by_label("What changed (published to students)").fill("Rooms booked.")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_contain_text("1 students who raised these themes")

    phone_page.goto("/me/")
    expect(phone_page.get_by_text("Appointments until 8pm on Tuesdays")).to_be_visible()
    phone_page.get_by_role("link", name=re.compile("^You said, we did")).first.click()
    action = phone_page.locator("[data-action]").first
    expect(action).to_contain_text("Evening slots")
    expect(action.locator("[data-status]")).to_have_text("In progress")
    assert_accessible(phone_page)


def test_a_member_reads_the_group_and_comments_on_a_draft(hub, phone_page):
    group = AdvisoryGroup.objects.create(
        organisation=hub.university, service=hub.wellbeing, name="Wellbeing voices",
        purpose="Shape the service.",
    )  # fmt: skip
    group.members.add(hub.student)
    Draft.objects.create(
        group=group,
        title="Afternoon drop-in",
        body="Drop-in moves to 1pm to 5pm.",
        comments_close_on=timezone.localdate() + dt.timedelta(days=7),
    )
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role("link", name="Student advisory groups").first.click()
    phone_page.get_by_role("link", name="Wellbeing voices").click()
    assert_accessible(phone_page)
    phone_page.get_by_role("link", name="Afternoon drop-in").click()
    phone_page.get_by_role("button", name="Send comment").click()
    expect(phone_page.get_by_role("alert")).to_contain_text("Write a comment")
    phone_page.get_by_label("Your comment").fill("Afternoons suit commuters.")
    phone_page.get_by_role("button", name="Send comment").click()
    expect(phone_page.locator("[data-comment]")).to_contain_text("Afternoons suit commuters.")
    assert_accessible(phone_page)
