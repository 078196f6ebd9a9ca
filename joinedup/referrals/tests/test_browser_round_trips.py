"""Round trips in the browser: Wellbeing refers a student to Talking Therapies, which opens,
accepts, treats and discharges; the future appointment is cancelled and the student told;
the discharge summary comes back to Wellbeing when the student's consent lets it, and when
it does not, Wellbeing is told of the discharge (nothing of the summary) and the student is
asked, says yes, and then the summary comes back.
"""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, disclosure, login, open_from_menu, shown, typed
from joinedup.consent.tests.factories import give_consent
from joinedup.referrals.models import Appointment, Referral

pytestmark = pytest.mark.browser

REASON = "Low mood for three months; would like talking therapy."
DISCHARGE_TEXT = "Eight sessions of CBT; PHQ-9 from 17 to 6. Relapse plan agreed with the student."


def path_of_link_in(message) -> str:
    return urlparse(re.search(r"https?://\S+", message.body).group(0)).path


def expect_referral_page(page, referral) -> None:
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.uuid}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral to Talking Therapies")


def carried_card(page, category: str):
    return page.locator(f'[data-carried="{category}"]')


def refer_and_open_and_accept(hub, page, other_page) -> Referral:
    """The referrer refers in the browser; triage opens it from the waiting list (the
    referrer sees the receipt) and accepts. Done ten minutes ago, so that first contact,
    treatment and discharge can be typed to the minute after the referral was sent."""
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=10)):
        login(page, hub.practitioner)
        page.goto(f"/students/{hub.student.uuid}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
        assert_accessible(page)
        page.get_by_role("link", name="Refer", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Refer to another service")
        assert_accessible(page)
        page.get_by_label("Refer to", exact=True).select_option(
            label="Talking Therapies (Northbridge NHS Trust)"
        )
        page.get_by_label("Why you are referring").fill(REASON)
        page.get_by_role("button", name="Send referral").click()
        expect(page.get_by_role("status")).to_have_text("Referral sent.")
        referral = Referral.objects.get()
        expect_referral_page(page, referral)
        expect(page.locator("[data-receipt]")).to_have_text(
            "Not opened yet by the receiving service"
        )
        assert_accessible(page)

        login(other_page, hub.triage)
        open_from_menu(other_page, "Referrals")
        other_page.get_by_role("link", name="Referrals to my service (waiting list)").click()
        expect(other_page.get_by_role("heading", level=1)).to_have_text(
            "Waiting list · Talking Therapies"
        )
        assert_accessible(other_page)
        other_page.get_by_role("link", name=hub.student.display_name).click()
        expect_referral_page(other_page, referral)
        expect(other_page.locator("[data-state]")).to_have_text("Sent")
        assert_accessible(other_page)

        referral.refresh_from_db()
        page.reload()
        expect(page.locator("[data-receipt]")).to_have_text(
            f"Opened by Tom of Talking Therapies on {shown(referral.opened_at)}"
        )
        assert_accessible(page)

        other_page.get_by_role("button", name="Accept").click()
        expect(other_page.get_by_role("status")).to_have_text("Done.")
        expect(other_page.locator("[data-state]")).to_have_text("Accepted")
        assert_accessible(other_page)
    return referral


def treat_book_and_open_the_discharge(other_page) -> tuple[Appointment, object]:
    """First contact, treatment start, a future appointment; the discharge form filled in
    and open, not yet confirmed."""
    first_contact = disclosure(other_page, "Record first contact")
    first_contact.locator("summary").click()
    first_contact.get_by_label("When").fill(typed(timezone.now() - dt.timedelta(minutes=5)))
    first_contact.get_by_role("button", name="Record first contact").click()
    expect(other_page.get_by_role("status")).to_have_text("Done.")
    expect(disclosure(other_page, "Record first contact")).to_have_count(0)
    assert_accessible(other_page)

    start = disclosure(other_page, "Start treatment")
    start.locator("summary").click()
    start.get_by_label("When").fill(typed(timezone.now()))
    start.get_by_role("button", name="Start treatment").click()
    expect(other_page.get_by_role("status")).to_have_text("Done.")
    expect(other_page.locator("[data-state]")).to_have_text("In treatment")
    assert_accessible(other_page)

    next_week = timezone.localtime().replace(second=0, microsecond=0) + dt.timedelta(days=7)
    other_page.get_by_label("Date and time").fill(typed(next_week))
    other_page.get_by_label("Kind").select_option(label="Treatment")
    other_page.get_by_role("button", name="Book appointment").click()
    expect(other_page.get_by_role("status")).to_have_text("Appointment booked.")
    appointment = Appointment.objects.get()
    row = other_page.locator(f'[data-appointment="{appointment.uuid}"]')
    expect(row.locator("td").nth(0)).to_have_text(shown(next_week))
    expect(row.locator("td").nth(2)).to_have_text("Booked")
    assert_accessible(other_page)

    discharge = disclosure(other_page, "Discharge")
    discharge.locator("summary").click()
    discharge.get_by_label("When").fill(typed(timezone.now()))
    discharge.get_by_label("Ending").select_option(label="Planned ending")
    discharge.get_by_label("Discharge summary").fill(DISCHARGE_TEXT)
    assert_accessible(other_page)
    return appointment, discharge


def student_sees_the_appointment_cancelled(hub, phone_page, appointment) -> None:
    login(phone_page, hub.student_user, totp=False)
    phone_page.goto("/me/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        f"Hello, {hub.student.display_name}"
    )
    expect(
        phone_page.get_by_role("heading", name="Messages about your record", level=2)
    ).to_be_visible()
    when = timezone.localtime(appointment.starts_at).strftime("%A %-d %B at %H:%M")
    expect(
        phone_page.locator("[data-notification]").filter(
            has_text=f"Talking Therapies has finished working with you, so your appointment on "
            f"{when} is cancelled."
        )
    ).to_have_count(1)
    expect(phone_page.locator("li[data-appointment]")).to_have_count(0)
    assert_accessible(phone_page)


def test_with_consent_the_discharge_summary_comes_back_to_the_referrer(
    hub, page, other_page, phone_page
):
    # The student has agreed that Wellbeing may read discharge summaries.
    give_consent(hub, "discharge", hub.wellbeing)
    referral = refer_and_open_and_accept(hub, page, other_page)
    appointment, discharge = treat_book_and_open_the_discharge(other_page)

    expect(discharge.locator("[data-summary-goes]")).to_have_text(
        "The summary will go to Wellbeing."
    )
    discharge.get_by_role("button", name="Discharge").click()

    expect(other_page.get_by_role("heading", level=1)).to_have_text(
        "Waiting list · Talking Therapies"
    )
    expect(other_page.get_by_role("status")).to_have_text(
        "Discharged. The summary has gone to Wellbeing. Your service keeps what it wrote; the "
        "rest of the student's record is no longer shown to you."
    )
    assert_accessible(other_page)
    referral.refresh_from_db()
    appointment.refresh_from_db()
    assert (referral.state, referral.ending) == ("discharged", "planned")
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "service")

    student_sees_the_appointment_cancelled(hub, phone_page, appointment)

    [email] = [
        m
        for m in mail.outbox
        if m.to == [hub.practitioner.email] and "discharged" in m.subject.lower()
    ]
    assert email.subject == "Your referral to Talking Therapies was discharged"
    page.goto(path_of_link_in(email))
    expect_referral_page(page, referral)
    expect(page.locator("[data-state]")).to_have_text(
        re.compile(r"^Discharged on \d{1,2} \w{3} \d{4} \(planned ending\)$")
    )
    card = carried_card(page, "discharge")
    expect(card.get_by_role("heading")).to_have_text("Discharge summary from Talking Therapies")
    expect(card).to_contain_text(DISCHARGE_TEXT)
    assert_accessible(page)


def test_without_consent_the_referrer_is_told_and_the_student_asked_then_it_comes_back(
    hub, page, other_page, phone_page
):
    referral = refer_and_open_and_accept(hub, page, other_page)
    appointment, discharge = treat_book_and_open_the_discharge(other_page)

    expect(discharge.locator("[data-summary-goes]")).to_have_text(
        "The student's consent does not let the summary reach Wellbeing: it will stay with your "
        "service. Wellbeing will be told that the student was discharged, and when, but nothing "
        "of the summary, and the student will be asked whether to share it."
    )
    discharge.get_by_role("button", name="Discharge").click()

    expect(other_page.get_by_role("heading", level=1)).to_have_text(
        "Waiting list · Talking Therapies"
    )
    expect(other_page.get_by_role("status")).to_have_text(
        "Discharged. The summary stays with your service: the student's consent does not let it "
        "reach Wellbeing. They have been told that the student was discharged, and when, and the "
        "student has been asked whether to share it. Your service keeps what it wrote; the rest "
        "of the student's record is no longer shown to you."
    )
    assert_accessible(other_page)
    referral.refresh_from_db()
    appointment.refresh_from_db()
    assert (referral.state, referral.ending) == ("discharged", "planned")
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "service")

    student_sees_the_appointment_cancelled(hub, phone_page, appointment)

    [email] = [
        m
        for m in mail.outbox
        if m.to == [hub.practitioner.email] and "discharged" in m.subject.lower()
    ]
    assert email.subject == "Your referral to Talking Therapies: the student was discharged"
    discharged_on = timezone.localtime(referral.discharged_at).strftime("%d %b %Y")
    assert f"Talking Therapies discharged the student on {discharged_on}." in email.body
    assert "The student has been asked whether to share it with Wellbeing" in email.body
    for part in (DISCHARGE_TEXT, "CBT", "PHQ-9", "Relapse plan", hub.student.display_name):
        assert part not in email.body, part

    page.goto(path_of_link_in(email))
    expect_referral_page(page, referral)
    expect(page.locator("[data-state]")).to_have_text(
        re.compile(r"^Discharged on \d{1,2} \w{3} \d{4} \(planned ending\)$")
    )
    expect(carried_card(page, "discharge")).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text(DISCHARGE_TEXT)
    # Withheld is never absent: the page does not say that nothing came back.
    expect(page.locator('[data-withheld="discharge"]')).to_have_text(
        "A discharge summary from Talking Therapies is held by Talking Therapies and not shared "
        "with you: the student's consent does not allow it."
    )
    expect(page.get_by_role("main")).not_to_contain_text("Nothing was sent with this referral.")
    assert_accessible(page)

    # The student, still signed in on their phone, is asked and says yes.
    phone_page.reload()
    request_card = phone_page.locator("[data-sharing-request]")
    expect(request_card.get_by_role("heading")).to_have_text(
        "Wellbeing asks you to share summaries written when a service finished working with you"
    )
    assert_accessible(phone_page)
    request_card.get_by_role("button", name="Yes, share it with Wellbeing").click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "Wellbeing can now see summaries written when a service finished working with you"
    )
    expect(phone_page.locator("[data-sharing-request]")).to_have_count(0)
    assert_accessible(phone_page)

    [answered] = [
        m
        for m in mail.outbox
        if m.to == [hub.practitioner.email]
        and m.subject == "A student answered your request to share"
    ]
    assert "agreed to share" in answered.body
    page.goto(path_of_link_in(answered))
    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/$"))
    expect(page.get_by_role("region", name="Discharge")).to_contain_text(DISCHARGE_TEXT)
    assert_accessible(page)

    page.goto(path_of_link_in(email))
    expect_referral_page(page, referral)
    card = carried_card(page, "discharge")
    expect(card.get_by_role("heading")).to_have_text("Discharge summary from Talking Therapies")
    expect(card).to_contain_text(DISCHARGE_TEXT)
    expect(page.locator('[data-withheld="discharge"]')).to_have_count(0)
    assert_accessible(page)
