"""In the browser: a student chooses on their phone how they are reminded; the service sees
that choice on the appointment page, and then the reminders sent. Every page is checked with
axe at phone and desktop size."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import accessible_at_both_sizes, login
from joinedup.referrals.tests.factories import book, walked_in
from joinedup.reminders.models import ReminderPreference
from joinedup.reminders.services import send_due_reminders

pytestmark = pytest.mark.browser


def test_a_student_chooses_text_messages_and_the_service_sees_them_sent(
    hub, phone_page, other_page, notify
):
    hub.student.phone = "07700900123"
    hub.student.save(update_fields=["phone"])
    appointment = book(
        hub, walked_in(hub, student=hub.student), timezone.now() + dt.timedelta(hours=3)
    )

    login(phone_page, hub.student_user, totp=False)
    phone_page.goto("/me/appointments/")
    phone_page.get_by_role("link", name="Choose how you are reminded of appointments").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Reminders")
    expect(phone_page.locator("[data-phone]")).to_have_text("07700900123")
    expect(phone_page.get_by_label("By email", exact=True)).to_be_checked()
    accessible_at_both_sizes(phone_page)

    phone_page.get_by_label("By email and text message").check()
    phone_page.get_by_role("button", name="Save my choice").click()
    expect(phone_page.get_by_role("status")).to_have_text("Your reminder choice is saved.")
    expect(phone_page.get_by_label("By email and text message")).to_be_checked()
    accessible_at_both_sizes(phone_page)
    assert ReminderPreference.objects.get(student=hub.student).channel == "both"

    login(other_page, hub.practitioner)
    other_page.goto(f"/appointments/{appointment.uuid}/")
    expect(other_page.locator("[data-reminder-choice]")).to_have_text(
        "The student chose to be reminded: by email and text message."
    )
    send_due_reminders()
    other_page.reload()
    expect(other_page.locator('[data-reminder="sent"]')).to_have_count(2)
    expect(other_page.locator('[data-reminder="sent"]').nth(1)).to_contain_text(
        "sent by text message."
    )
    accessible_at_both_sizes(other_page)
    assert [r["body"]["phone_number"] for r in notify.received] == ["07700900123"]
