"""Referrals in the browser: a university adviser refers with the shared assessment, NHS
triage accepts, sees and discharges, a crisis discharge asks the university to follow up, a
declined referral reaches the gap worklist, the waiting list's clocks, and two people acting
on the same referral at once.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.conftest import assert_accessible, disclosure, login, open_from_menu, shown, typed
from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.models import RecordEntry
from joinedup.referrals import services
from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.models import Appointment, FollowUpTask, GapItem, Referral
from joinedup.referrals.services import create_referral
from joinedup.referrals.tests.factories import refer

pytestmark = pytest.mark.browser

ASSESSMENT_TEXT = "Low mood since January; sleeping badly; wants to talk to someone."
REASON = "Low mood for three months; would like talking therapy."
DISCHARGE_TEXT = "Six sessions of guided self-help; PHQ-9 from 16 to 7. Back to Wellbeing."
CRISIS_DISCHARGE_TEXT = "Home with family; safety plan agreed with the student."
SIGNPOSTED = "Student Space and the university's peer support groups"


@pytest.fixture
def assessment(hub):
    """Wellbeing's assessment of the student, written before any referral."""
    return RecordEntry.objects.create(
        student=hub.student, category="assessment", service=hub.wellbeing,
        author=hub.practitioner, title="Wellbeing assessment", body=ASSESSMENT_TEXT,
    )  # fmt: skip


def open_referral(page, referral) -> None:
    page.goto(f"/referrals/{referral.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Referral to {referral.to_service.name}"
    )
    assert_accessible(page)


def expect_done(page, referral) -> None:
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.uuid}/$"))
    expect(page.get_by_role("status")).to_have_text("Done.")


def carried_card(page, category: str):
    return page.locator(f'[data-carried="{category}"]')


def test_an_adviser_records_consent_then_refers_with_the_shared_assessment(hub, assessment, page):
    login(page, hub.practitioner)
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
    assert_accessible(page)

    page.get_by_role("link", name="Record a consent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a consent")
    assert_accessible(page)
    page.get_by_label("What the student agrees to share").select_option(label="Assessment")
    page.get_by_label("Who with").select_option(label="Talking Therapies (Northbridge NHS Trust)")
    page.get_by_label("For what purpose").select_option(label="Direct care")
    page.get_by_label("How the student gave it").select_option(label="In person")
    page.get_by_role("button", name="Record consent").click()

    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/$"))
    expect(page.get_by_role("status")).to_contain_text("Consent recorded.")
    assert_accessible(page)
    grant = ConsentGrant.objects.get()
    assert (grant.student, grant.category, grant.recipient_service, grant.how_given) == (
        hub.student,
        "assessment",
        hub.talking,
        "in_person",
    )

    page.get_by_role("link", name="Refer", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/referrals/new/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer to another service")
    assert_accessible(page)
    page.get_by_label("Refer to", exact=True).select_option(
        label="Talking Therapies (Northbridge NHS Trust)"
    )
    page.get_by_label("Why you are referring").fill(REASON)
    page.get_by_label("Send the student's shared assessment with the referral").check()
    page.get_by_role("button", name="Send referral").click()

    referral = Referral.objects.get()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.uuid}/$"))
    expect(page.get_by_role("status")).to_have_text("Referral sent.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral to Talking Therapies")
    expect(page.locator("[data-state]")).to_have_text("Sent")
    expect(page.locator("[data-receipt]")).to_have_text("Not opened yet by the receiving service")
    expect(carried_card(page, "assessment")).to_contain_text(ASSESSMENT_TEXT)
    assert_accessible(page)
    assert (referral.student, referral.from_service, referral.to_service) == (
        hub.student,
        hub.wellbeing,
        hub.talking,
    )
    assert (referral.state, referral.reason, referral.created_by) == (
        "sent",
        REASON,
        hub.practitioner,
    )
    assert referral.carries_assessment
    assert list(referral.shared_entries.all()) == [assessment]
    assert referral.sent_at is not None
    assert referral.opened_at is None


def test_triage_opening_a_referral_is_the_referrers_receipt_and_shows_the_assessment(
    hub, assessment, page, other_page
):
    give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    login(other_page, hub.practitioner)
    open_referral(other_page, referral)
    expect(other_page.locator("[data-receipt]")).to_have_text(
        "Not opened yet by the receiving service"
    )

    login(page, hub.triage)
    open_referral(page, referral)

    card = carried_card(page, "assessment")
    expect(card.get_by_role("heading")).to_have_text("Wellbeing assessment")
    expect(card).to_contain_text(f"From Wellbeing, {shown(assessment.created_at)[:-6]}")
    expect(card).to_contain_text(ASSESSMENT_TEXT)
    expect(page.get_by_role("button", name="Accept")).to_be_visible()
    referral.refresh_from_db()
    assert referral.opened_by == hub.triage
    assert referral.opened_at is not None

    other_page.reload()
    expect(other_page.locator("[data-receipt]")).to_have_text(
        f"Opened by Tom of Talking Therapies on {shown(referral.opened_at)}"
    )
    assert_accessible(other_page)


def test_triage_accepts_books_and_discharges_and_the_summary_reaches_the_referrer(
    hub, assessment, page, other_page
):
    # The referral was sent and accepted ten minutes ago, so that the appointment can be
    # booked in the episode (which starts at acceptance) and already be over.
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=10)):
        give_consent(hub, "assessment", hub.talking)
        referral = refer(hub, carry_assessment=True)
        login(page, hub.triage)
        open_referral(page, referral)
        page.get_by_role("button", name="Accept").click()
        expect_done(page, referral)
    expect(page.locator("[data-state]")).to_have_text("Accepted")
    expect(page.get_by_role("main")).to_contain_text("No appointments yet.")
    assert_accessible(page)
    referral.refresh_from_db()
    episode = referral.episode
    assert (referral.state, referral.decided_by, episode.service) == (
        "accepted",
        hub.triage,
        hub.talking,
    )
    assert episode.started_at >= referral.decided_at

    appointment_at = timezone.localtime(episode.started_at).replace(
        second=0, microsecond=0
    ) + dt.timedelta(minutes=1)
    page.get_by_label("Date and time").fill(typed(appointment_at))
    page.get_by_label("Kind").select_option(label="Assessment")
    page.get_by_role("button", name="Book appointment").click()

    expect(page.get_by_role("status")).to_have_text("Appointment booked.")
    appointment = Appointment.objects.get()
    row = page.locator(f'[data-appointment="{appointment.uuid}"]')
    for n, text in enumerate([shown(appointment_at), "Assessment", "Booked"]):
        expect(row.locator("td").nth(n)).to_have_text(text)
    assert_accessible(page)
    assert (appointment.episode, appointment.starts_at, appointment.kind) == (
        episode,
        appointment_at,
        "assessment",
    )

    row.get_by_label("What happened").select_option(label="Attended")
    row.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Appointment updated.")
    expect(row.locator("td").nth(2)).to_have_text("Attended")
    assert_accessible(page)
    appointment.refresh_from_db()
    referral.refresh_from_db()
    assert appointment.status == "attended"
    assert referral.first_contact_at == appointment_at

    discharge = disclosure(page, "Discharge")
    discharge.locator("summary").click()
    discharge.get_by_label("When").fill(typed(timezone.now()))
    discharge.get_by_label("Ending").select_option(label="Planned ending")
    discharge.get_by_label("Discharge summary").fill(DISCHARGE_TEXT)
    assert_accessible(page)
    discharge.get_by_role("button", name="Discharge").click()

    expect(page.get_by_role("status")).to_contain_text("Discharged.")
    referral.refresh_from_db()
    episode.refresh_from_db()
    assert (referral.state, referral.ending, episode.ending) == (
        "discharged",
        "planned",
        "planned",
    )
    assert episode.ended_at == referral.discharged_at
    summary = RecordEntry.objects.get(category="discharge")
    assert (summary.service, summary.author, summary.body) == (
        hub.talking,
        hub.triage,
        DISCHARGE_TEXT,
    )
    assert list(referral.shared_entries.filter(category="discharge")) == [summary]

    # The student agreed that Wellbeing may read NHS discharge summaries.
    give_consent(hub, "discharge", hub.wellbeing)
    login(other_page, hub.practitioner)
    open_referral(other_page, referral)
    expect(other_page.locator("[data-state]")).to_have_text(
        re.compile(r"^Discharged on \d{1,2} \w{3} \d{4} \(planned ending\)$")
    )
    card = carried_card(other_page, "discharge")
    expect(card.get_by_role("heading")).to_have_text("Discharge summary from Talking Therapies")
    expect(card).to_contain_text(DISCHARGE_TEXT)
    other_page.get_by_role("link", name="The student's record").click()
    expect(other_page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/$"))
    expect(other_page.get_by_role("region", name="Discharge")).to_contain_text(DISCHARGE_TEXT)
    assert_accessible(other_page)


@pytest.fixture
def crisis_referral(hub):
    """Wellbeing referred the student to the Crisis Team, which accepted and started
    treatment two hours ago: a discharge typed to the minute cannot fall before it."""
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2)):
        referral = refer(hub, to=hub.crisis, reason="Suicidal thoughts at night; no plan.")
        referral = services.accept_referral(
            actor=hub.crisis_practitioner, referral=referral, version=referral.version
        )
        return services.start_treatment(
            actor=hub.crisis_practitioner, referral=referral, version=referral.version
        )


def discharge_in_the_browser(page, referral, summary: str) -> None:
    open_referral(page, referral)
    discharge = disclosure(page, "Discharge")
    discharge.locator("summary").click()
    discharge.get_by_label("When").fill(typed(timezone.now()))
    discharge.get_by_label("Ending").select_option(label="Planned ending")
    discharge.get_by_label("Discharge summary").fill(summary)
    assert_accessible(page)
    discharge.get_by_role("button", name="Discharge").click()
    expect(page.get_by_role("status")).to_contain_text("Discharged.")


def test_a_crisis_discharge_asks_wellbeing_to_follow_up_within_72_hours(
    hub, crisis_referral, page, other_page
):
    referral = crisis_referral
    login(page, hub.crisis_practitioner)
    discharge_in_the_browser(page, referral, CRISIS_DISCHARGE_TEXT)

    referral.refresh_from_db()
    assert (referral.state, referral.ending) == ("discharged", "planned")
    assert RecordEntry.objects.get(category="discharge").body == CRISIS_DISCHARGE_TEXT
    task = FollowUpTask.objects.get()
    assert (task.student, task.service, task.referral, task.reason) == (
        hub.student,
        hub.wellbeing,
        referral,
        "Discharged from Crisis Team",
    )
    assert task.due_at - task.created_at == dt.timedelta(hours=72)
    assert task.completed_at is None

    login(other_page, hub.practitioner)
    open_from_menu(other_page, "Referrals")
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Referrals my service made")
    assert_accessible(other_page)
    other_page.get_by_role("link", name="Follow-ups").click()
    expect(other_page).to_have_url(re.compile(r"/referrals/follow-ups/$"))
    expect(other_page.get_by_role("heading", level=1)).to_have_text(
        "Follow-ups after NHS crisis care"
    )
    card = other_page.locator(f'[data-task="{task.uuid}"]')
    expect(card.get_by_role("heading")).to_have_text(hub.student.display_name)
    expect(card).to_contain_text("Discharged from Crisis Team · due")
    assert_accessible(other_page)
    due_text = re.search(r"due (\d+ \w+ \d{4} \d\d:\d\d)", card.inner_text()).group(1)
    due = dt.datetime.strptime(due_text, "%d %b %Y %H:%M").replace(
        tzinfo=timezone.get_current_timezone()
    )
    hours_ahead = (due - timezone.now()).total_seconds() / 3600
    assert 71.9 < hours_ahead <= 72

    card.get_by_label("What was done").fill("Phoned the student; seen at Wellbeing the next day.")
    card.get_by_role("button", name="Record follow-up").click()

    expect(other_page).to_have_url(re.compile(r"/referrals/follow-ups/$"))
    expect(other_page.get_by_role("status")).to_have_text("Follow-up recorded.")
    expect(other_page.locator("[data-task]")).to_have_count(0)
    expect(other_page.get_by_role("main")).to_contain_text("No follow-ups are due.")
    assert_accessible(other_page)
    task.refresh_from_db()
    assert task.completed_by == hub.practitioner
    assert task.completed_at is not None
    assert task.outcome == "Phoned the student; seen at Wellbeing the next day."


def test_a_declined_referral_reaches_the_liaison_gap_worklist_a_week_later(hub, page, other_page):
    referral = refer(hub)
    login(page, hub.triage)
    open_referral(page, referral)
    decline = disclosure(page, "Decline")
    decline.locator("summary").click()
    decline.get_by_label("Where the student was signposted").fill(SIGNPOSTED)
    decline.get_by_role("button", name="Decline referral").click()

    # Refused next to the field, the form left open with what was typed.
    decline = disclosure(page, "Decline")
    expect(decline).to_have_attribute("open", "")
    message = "Choose the reason for declining."
    reason = decline.get_by_label("Reason for declining")
    group = decline.locator(".nhsuk-form-group", has=page.get_by_label("Reason for declining"))
    expect(group).to_have_class(re.compile(r"\bnhsuk-form-group--error\b"))
    expect(group.locator(".nhsuk-error-message")).to_have_text(f"Error: {message}")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(re.compile(message))
    expect(decline.get_by_role("alert").get_by_role("link", name=message)).to_have_attribute(
        "href", f"#{reason.get_attribute('id')}"
    )
    expect(decline.get_by_label("Where the student was signposted")).to_have_value(SIGNPOSTED)
    assert_accessible(page)
    referral.refresh_from_db()
    assert (referral.state, referral.decided_at, referral.decline_reason) == ("sent", None, "")

    decline.get_by_label("Reason for declining").select_option(
        label="Needs a less intensive service"
    )
    decline.get_by_role("button", name="Decline referral").click()

    expect(page.get_by_role("status")).to_contain_text("Referral declined.")
    assert_accessible(page)
    referral.refresh_from_db()
    assert (referral.state, referral.decided_by, referral.decline_reason) == (
        "declined",
        hub.triage,
        "lower",
    )
    assert referral.signposted_to == SIGNPOSTED
    assert not detect_gaps()  # not the day it is declined

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        [item] = detect_gaps()
        assert (item.rule, item.student, item.service, item.referral) == (
            "declined_no_other_service",
            hub.student,
            hub.wellbeing,
            referral,
        )
        login(other_page, hub.liaison)
        other_page.goto("/referrals/gaps/")
        expect(other_page.get_by_role("heading", level=1)).to_have_text(
            "Students falling through the gaps"
        )
        card = other_page.locator('[data-gap="declined_no_other_service"]')
        # Wellbeing, a partner, is in the student's care, but Student Liaison is not: the
        # liaison worker learns there is a student, not who, and cannot act for Wellbeing.
        expect(card.get_by_role("heading")).to_have_text("A student of Wellbeing")
        expect(card.locator("[data-withheld]")).to_contain_text(
            "held by Wellbeing and not shared with you"
        )
        expect(card.get_by_role("button", name="Resolve")).to_have_count(0)
        assert_accessible(other_page)

        # Wellbeing refers the student to Student Liaison: now in its care, the liaison
        # worker reads who it is and acts.
        open_care_relationship(student=hub.student, service=hub.liaison_service, reason="referral")
        other_page.reload()
        expect(card.get_by_role("heading")).to_have_text(hub.student.display_name)
        expect(card.get_by_role("link", name=hub.student.display_name)).to_have_attribute(
            "href", f"/students/{hub.student.uuid}/"
        )
        expect(card).to_contain_text("Declined 8 days ago and not open to any other service.")
        expect(card).to_contain_text(f"(Wellbeing · found {shown(item.found_at)[:-6]})")
        assert_accessible(other_page)

        action = "Phoned the student; booked at Wellbeing and sent Student Space details."
        card.get_by_label("What was done").fill(action)
        card.get_by_role("button", name="Resolve").click()

        expect(other_page).to_have_url(re.compile(r"/referrals/gaps/$"))
        expect(other_page.get_by_role("status")).to_have_text("Recorded what was done.")
        expect(other_page.locator("[data-gap]")).to_have_count(0)
        expect(other_page.get_by_role("main")).to_contain_text(
            "Nobody is falling through the gaps right now."
        )
        assert_accessible(other_page)
        item.refresh_from_db()
        assert (item.resolved_by, item.action) == (hub.liaison, action)
        assert item.resolved_at is not None
        assert not detect_gaps()  # resolved, not raised again
    assert GapItem.objects.count() == 1


def test_the_waiting_list_shows_the_longest_wait_first_with_red_and_green_clocks(hub, page):
    older = refer(hub)
    Referral.objects.filter(pk=older.pk).update(sent_at=timezone.now() - dt.timedelta(days=50))
    jo = make_student(hub.university, "NB1000002", preferred_name="Jo", legal_given_name="Joanna")
    newer = create_referral(
        actor=hub.counsellor, student=jo, from_service=hub.counselling,
        to_service=hub.talking, source="service", reason="Panic attacks before exams.",
    )  # fmt: skip

    login(page, hub.triage)
    open_from_menu(page, "Referrals")
    page.get_by_role("link", name="Referrals to my service (waiting list)").click()
    expect(page).to_have_url(re.compile(r"/referrals/waiting/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting list · Talking Therapies")
    expect(page.get_by_role("main")).to_contain_text(
        "Standard: first contact within 42 days of referral."
    )
    assert_accessible(page)

    rows = page.get_by_role("table", name="Referrals waiting, longest wait first").locator(
        "tbody tr"
    )
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-referral", str(older.uuid))
    expect(rows.nth(1)).to_have_attribute("data-referral", str(newer.uuid))
    expect(rows.nth(0).locator("td").nth(0).locator("div")).to_have_text(hub.student.display_name)
    expect(rows.nth(0).locator("td").nth(1).locator("div")).to_have_text("Wellbeing")
    expect(rows.nth(1).locator("td").nth(0).locator("div")).to_have_text(jo.display_name)
    expect(rows.nth(1).locator("td").nth(1).locator("div")).to_have_text("Counselling")

    red, green = (rows.nth(n).locator("[data-clock]") for n in (0, 1))
    expect(red).to_have_attribute("data-clock", "red")
    expect(red).to_have_class(re.compile(r"\bnhsuk-tag--red\b"))
    expect(red).to_have_text("Past the standard")  # in words as well as colour
    expect(rows.nth(0)).to_contain_text(
        "Past the standard 50 days, not yet seen (standard 42 days)"
    )
    expect(green).to_have_attribute("data-clock", "green")
    expect(green).to_have_class(re.compile(r"\bnhsuk-tag--green\b"))
    expect(rows.nth(1)).to_contain_text("Within the standard 0 days, not yet seen")

    listed = AuditEvent.objects.filter(action="referrals.waiting_list.listed", actor=hub.triage)
    assert set(listed.values_list("student", flat=True)) == {hub.student.pk, jo.pk}
    assert set(Referral.objects.values_list("state", flat=True)) == {"sent"}


def test_withdrawing_from_a_page_triage_has_since_accepted_is_refused_saying_what_happened(
    hub, page, other_page
):
    referral = refer(hub)
    login(page, hub.practitioner)
    open_referral(page, referral)
    login(other_page, hub.triage)
    open_referral(other_page, referral)

    other_page.get_by_role("button", name="Accept").click()
    expect_done(other_page, referral)
    expect(other_page.locator("[data-state]")).to_have_text("Accepted")
    page.get_by_role("button", name="Withdraw").click()

    referral.refresh_from_db()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.uuid}/$"))
    # An error, announced at once (role="alert"), not a polite status.
    expect(page.get_by_role("alert")).to_contain_text(
        f"Tom changed this referral at {timezone.localtime(referral.last_changed_at):%H:%M} "
        "while you were looking at it: it has been accepted now. Nothing you did was saved."
    )
    expect(page.get_by_role("status")).to_have_count(0)
    expect(page.locator("[data-state]")).to_have_text("Accepted")
    assert_accessible(page)
    assert (referral.state, referral.last_changed_by, referral.withdrawn_at) == (
        "accepted",
        hub.triage,
        None,
    )
    assert referral.episode is not None
    assert referral.episode.is_open


def test_after_discharging_the_crisis_practitioner_goes_back_to_the_waiting_list(
    hub, crisis_referral, page
):
    login(page, hub.crisis_practitioner)
    discharge_in_the_browser(page, crisis_referral, CRISIS_DISCHARGE_TEXT)

    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting list")
    assert_accessible(page)


def test_after_declining_the_triage_worker_goes_back_to_the_waiting_list(hub, page):
    referral = refer(hub)
    login(page, hub.triage)
    open_referral(page, referral)
    decline = disclosure(page, "Decline")
    decline.locator("summary").click()
    decline.get_by_label("Reason for declining").select_option(label="Outside the service's area")
    decline.get_by_role("button", name="Decline referral").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Your service keeps what it wrote; the rest of the student's record is no longer shown"
    )

    expect(page.get_by_role("heading", level=1)).to_contain_text("Waiting list")
    assert_accessible(page)


def test_the_discharge_when_field_has_its_own_label_while_treatment_can_still_start(hub, page):
    """Three forms on the page have a "When" field; each label must name its own input."""
    referral = refer(hub)
    referral = services.accept_referral(
        actor=hub.triage, referral=referral, version=referral.version
    )
    login(page, hub.triage)
    open_referral(page, referral)
    whens = page.locator('input[name="at"]')
    expect(whens).to_have_count(3)
    assert [w.evaluate("e => e.labels.length") for w in whens.all()] == [1, 1, 1]
    discharge = disclosure(page, "Discharge")
    discharge.locator("summary").click()
    assert_accessible(page)

    discharge.locator("label", has_text="When").click()

    expect(discharge.get_by_label("When")).to_be_focused()
    expect(discharge.locator('input[name="at"]')).to_be_focused()
