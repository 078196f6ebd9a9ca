"""In the browser: a student writes to their service from their phone; the practitioner sees
the unread count, reads and answers; the student is emailed that there is a message (never
its words) and its link opens the conversation. Bad input is answered in words, keeping what
was typed. Every page is checked with axe at phone and desktop size, and fits a phone."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from joinedup.conftest import (
    accessible_at_both_sizes,
    expect_fits_the_screen,
    login,
    open_from_menu,
)
from joinedup.messaging.models import Message

pytestmark = pytest.mark.browser


def test_a_message_each_way_with_the_notification(hub, phone_page, other_page, live_server):
    student = phone_page
    login(student, hub.student_user, totp=False)
    student.get_by_role("link", name="My messages", exact=True).click()
    expect(student.get_by_role("heading", level=1)).to_have_text("My messages")
    accessible_at_both_sizes(student)
    student.get_by_role("link", name="Wellbeing").click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Messages with Wellbeing")

    # Nothing typed, then far too much: each refused in words, the long one kept in the box.
    student.get_by_role("button", name="Send message").click()
    expect(student.locator(".nhsuk-error-message")).to_contain_text(
        "Write your message before you send it."
    )
    long = "I have so much to say. " * 500
    student.get_by_label("Your message").fill(long)
    student.get_by_role("button", name="Send message").click()
    expect(student.locator(".nhsuk-error-message")).to_contain_text("One message can hold 4,000")
    expect(student.get_by_label("Your message")).to_have_value(long)
    accessible_at_both_sizes(student)
    expect_fits_the_screen(student)

    student.get_by_label("Your message").fill("Could we move Thursday's session? 🙏")
    student.get_by_role("button", name="Send message").click()
    expect(student.get_by_role("status")).to_contain_text("Sent to Wellbeing.")
    expect(student.locator("[data-message]")).to_have_count(1)
    expect(student.locator("[data-message]")).to_contain_text("Not read yet")
    expect_fits_the_screen(student)

    staff = other_page
    login(staff, hub.practitioner)
    expect(staff.locator("[data-nav-count]")).to_have_text("1 unread")
    open_from_menu(staff, "Messages")
    expect(staff.locator("[data-thread]")).to_contain_text("1 unread")
    accessible_at_both_sizes(staff)
    staff.get_by_role("link", name="Alex").click()
    expect(staff.locator("[data-message]")).to_contain_text("Could we move Thursday's session? 🙏")
    expect(staff.locator("[data-nav-count]")).to_have_count(0)
    staff.get_by_label("Your message").fill("Yes: Friday at 10am is free. I have booked it.")
    staff.get_by_role("button", name="Send message").click()
    expect(staff.get_by_role("status")).to_contain_text(
        "Sent. Alex StudentNB1000001 is told there is a message, not what it says."
    )
    accessible_at_both_sizes(staff)

    [email] = mail.outbox
    assert email.subject == "You have a new message"
    assert "Friday" not in email.body
    assert "Wellbeing" not in email.body
    link = re.search(r"https?://\S+", email.body).group()
    student.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    expect(student.locator("[data-message]").nth(0)).to_contain_text(re.compile("Read "))
    expect(student.locator("[data-message]").nth(1)).to_contain_text("Friday at 10am is free")
    accessible_at_both_sizes(student)
    assert Message.objects.filter(read_at__isnull=False).count() == 2
