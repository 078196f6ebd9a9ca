"""A service's working day in the browser: a student walks in, an episode is opened and
allocated, an appointment booked (a clash refused), moved and attended; the diary by week
and by day; the student sees the appointment on their phone and asks to rebook, and the
service answers from its diary. Every page is checked with axe at desktop and phone size.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import (
    accessible_at_both_sizes,
    disclosure,
    login,
    open_from_menu,
    typed,
)
from joinedup.referrals.models import Appointment, AppointmentRequest, Episode
from joinedup.referrals.tests.factories import (
    WALK_IN_BIRTHDAY,
    book,
    day_after_tomorrow_at,
    second_clinician,
    walk_in_student,
    walked_in,
)

pytestmark = pytest.mark.browser


def status(page):
    return page.get_by_role("status")


def test_a_walk_in_is_opened_allocated_booked_moved_and_attended(hub, page):
    sam = walk_in_student(hub)
    wes = second_clinician(hub)
    login(page, hub.practitioner)

    open_from_menu(page, "Diary")
    expect(page.get_by_role("heading", level=1)).to_have_text("Diary · Wellbeing")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="A student walks in: open an episode").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A student walks in")
    accessible_at_both_sizes(page)

    # A date of birth that does not match: told next to the number, nothing opened.
    page.get_by_label("Student number").fill("NB2000001")
    page.get_by_label("Date of birth").fill("2003-01-03")
    page.get_by_role("button", name="Open the episode").click()
    expect(page.locator("#id_student_number_error")).to_contain_text(
        "No student of University of Northbridge has this student number with this date of birth."
    )
    accessible_at_both_sizes(page)
    assert not Episode.objects.exists()

    page.get_by_label("Date of birth").fill(WALK_IN_BIRTHDAY.isoformat())
    page.get_by_role("button", name="Open the episode").click()
    expect(status(page)).to_have_text("Episode opened.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Episode of care with Wellbeing")
    expect(page.locator("[data-source]")).to_have_text("No referral: opened by the service")
    accessible_at_both_sizes(page)
    episode = Episode.objects.get(student=sam)

    page.get_by_label("Allocate to").select_option(label="Wes")
    page.get_by_role("button", name="Allocate").click()
    expect(status(page)).to_have_text("Allocated.")
    expect(page.locator("[data-allocated]")).to_contain_text("Wes")

    ten, clash = day_after_tomorrow_at(10), day_after_tomorrow_at(10, 20)
    booking = page.locator("[data-book]")
    booking.get_by_label("Date and time").fill(typed(ten))
    booking.get_by_label("Length (minutes)").fill("50")
    booking.get_by_label("Kind").select_option(label="Assessment")
    booking.get_by_label("Clinician").select_option(label="Wes")
    booking.get_by_label("Place").fill("Student Centre, room 2.14")
    booking.get_by_role("button", name="Book appointment").click()
    expect(status(page)).to_have_text("Appointment booked.")
    appointment = Appointment.objects.get()
    row = page.locator(f'[data-appointment="{appointment.uuid}"]')
    expect(row).to_contain_text("Wes")
    expect(row).to_contain_text("Student Centre, room 2.14")

    # Wes is taken at 10:20: refused next to the time, nothing booked.
    booking = page.locator("[data-book]")
    booking.get_by_label("Date and time").fill(typed(clash))
    booking.get_by_label("Clinician").select_option(label="Wes")
    booking.get_by_role("button", name="Book appointment").click()
    expect(page.locator("#id_starts_at_error")).to_contain_text(
        "Wes already has an appointment from 10:00 to 10:50"
    )
    accessible_at_both_sizes(page)
    assert Appointment.objects.count() == 1

    page.goto(f"/episodes/{episode.uuid}/")
    page.locator(f'[data-appointment="{appointment.uuid}"]').get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Appointment on")
    accessible_at_both_sizes(page)
    move = disclosure(page, "Move to another time")
    move.locator("summary").click()
    two = day_after_tomorrow_at(14)
    move.get_by_label("New date and time").fill(typed(two))
    move.get_by_label("The service").check()
    move.get_by_label("Why it is moving").fill("Wes is at training in the morning.")
    accessible_at_both_sizes(page)
    move.get_by_role("button", name="Move the appointment").click()
    expect(status(page)).to_have_text("Appointment moved.")
    expect(page.locator("[data-moved]")).to_contain_text("Wes is at training in the morning.")
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.moved_from) == (two, ten)

    # The diary: Wes's row holds Sam at 14:00, on the week and on the day.
    page.goto(f"/diary/?span=week&on={two.date().isoformat()}")
    wes_row = page.locator(f'[data-clinician="{wes.uuid}"]')
    expect(wes_row).to_contain_text("14:00–14:50")
    expect(wes_row).to_contain_text("Sam Okafor")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Show one day").click()
    expect(page.locator('[role="columnheader"]')).to_have_count(2)
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Wes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diary of Wes · Wellbeing")
    accessible_at_both_sizes(page)

    # The afternoon after: Sam came.
    with time_machine.travel(two + dt.timedelta(hours=1)):
        login(page, hub.practitioner)  # the earlier session has gone idle by now
        page.goto(f"/appointments/{appointment.uuid}/")
        page.get_by_role("button", name="Attended").click()
        expect(status(page)).to_have_text("Appointment updated.")
        expect(page.locator("[data-status]")).to_have_text("Attended")
        accessible_at_both_sizes(page)
    appointment.refresh_from_db()
    assert appointment.status == "attended"


def test_the_student_asks_to_rebook_on_their_phone_and_the_service_answers(
    hub, phone_page, other_page
):
    episode = walked_in(hub, hub.student, practitioner=hub.practitioner)
    ten = day_after_tomorrow_at(10)
    appointment = book(
        hub, episode, ten, video_link="https://video.example/wellbeing/priya", place=""
    )

    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role(
        "link", name="My appointments: where, when, and asking to change one"
    ).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("My appointments")
    card = phone_page.locator(f'[data-appointment="{appointment.uuid}"]')
    expect(card.locator("[data-length]")).to_have_text("50 minutes")
    expect(card.get_by_role("link", name="Join the video appointment")).to_have_attribute(
        "href", "https://video.example/wellbeing/priya"
    )
    accessible_at_both_sizes(phone_page)

    card.get_by_role("link", name=re.compile("Ask to cancel or change this appointment")).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Ask to cancel or change an appointment"
    )
    accessible_at_both_sizes(phone_page)
    phone_page.get_by_label("Change it to another time").check()
    phone_page.get_by_role("button", name="Send my request").click()
    expect(phone_page.locator("#id_reason_error")).to_contain_text(
        "Say why, so the service can help."
    )
    accessible_at_both_sizes(phone_page)
    assert not AppointmentRequest.objects.exists()
    phone_page.get_by_label("Why").fill("I have an exam that morning.")
    phone_page.get_by_label("Times that suit you better (if changing)").fill("Any afternoon")
    phone_page.get_by_role("button", name="Send my request").click()
    expect(status(phone_page)).to_have_text(
        "Sent to Wellbeing. They will answer here, and you will get an email."
    )
    expect(card).to_contain_text("Waiting for Wellbeing to answer.")

    # The service sees the request on its diary and answers it.
    login(other_page, hub.practitioner)
    other_page.goto(f"/diary/?on={ten.date().isoformat()}")
    requests = other_page.locator("[data-request]")
    expect(requests).to_contain_text("asks to change the time: “I have an exam that morning.”")
    requests.get_by_role("link", name=re.compile("Answer")).click()
    expect(other_page.locator("[data-request]")).to_contain_text("Any afternoon")
    four = day_after_tomorrow_at(16)
    other_page.get_by_label("Moved to another time").check()
    other_page.get_by_label("New date and time (when moving it)").fill(typed(four))
    other_page.get_by_label("Message to the student").fill("See you at four.")
    accessible_at_both_sizes(other_page)
    other_page.get_by_role("button", name="Answer the student").click()
    expect(status(other_page)).to_have_text("Answered. The student has been told.")
    expect(other_page.locator("[data-answered]")).to_contain_text(
        "Answered: moved to another time."
    )

    phone_page.reload()
    card = phone_page.locator(f'[data-appointment="{appointment.uuid}"]')
    expect(card.get_by_role("heading")).to_have_text(
        timezone.localtime(four).strftime("%A %-d %B, %H:%M")
    )
    expect(card.locator("[data-answer]")).to_have_text("Answer: moved to the time above.")
    expect(card).to_contain_text("See you at four.")
    accessible_at_both_sizes(phone_page)
    phone_page.goto("/me/")
    expect(phone_page.locator("[data-notification]").first).to_contain_text(
        "Wellbeing answered your request about your appointment"
    )
