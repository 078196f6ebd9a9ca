import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.consent.services import close_care_relationship, open_care_relationship
from joinedup.governance import rights, rules
from joinedup.people.models import Role
from joinedup.referrals.work.services import complete_task

D = dt.date


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


LOGGED_ON = D(2026, 11, 30)


def _log(hub, received_on=LOGGED_ON, **fields):
    return rights.log_request(
        actor=hub.org_admin, organisation=hub.university, kind="access",
        received_on=received_on, received_by="letter", requester="Sam Okafor", **fields,
    )  # fmt: skip


@pytest.mark.parametrize(("received", "month", "three"), [
    (D(2026, 1, 3), D(2026, 2, 3), D(2026, 4, 3)),
    (D(2027, 1, 31), D(2027, 2, 28), D(2027, 4, 30)),  # no 31 February: the last day
    (D(2028, 1, 31), D(2028, 2, 29), D(2028, 4, 30)),  # a leap year
    (D(2026, 11, 30), D(2026, 12, 30), D(2027, 2, 28)),
    (D(2026, 12, 31), D(2027, 1, 31), D(2027, 3, 31)),  # into the next year
])  # fmt: skip
def test_a_request_is_due_a_calendar_month_after_it_came_or_three_if_extended(
    received, month, three
):
    assert rules.add_months(received, 1) == month
    assert rules.add_months(received, 3) == three


@pytest.mark.parametrize(("received", "due", "extended_due"), [
    (D(2026, 1, 3), D(2026, 2, 3), D(2026, 4, 7)),  # Good Friday, then Easter Monday
    (D(2027, 1, 31), D(2027, 3, 1), D(2027, 4, 30)),  # 28 February 2027 is a Sunday
    (D(2028, 1, 31), D(2028, 2, 29), D(2028, 5, 2)),  # a Sunday, then the May bank holiday
    (D(2026, 11, 30), D(2026, 12, 30), D(2027, 3, 1)),
    (D(2026, 11, 25), D(2026, 12, 29), D(2027, 2, 25)),  # Christmas, Boxing Day observed
])  # fmt: skip
def test_a_due_day_that_is_not_a_working_day_moves_to_the_next(received, due, extended_due):
    assert rules.response_due(received) == due
    assert rules.response_due(received, extended=True) == extended_due


def test_an_answer_says_when_and_how_and_why_if_not_in_full():
    fine = {"received_on": D(2026, 11, 2), "outcome": "complied",
            "responded_on": D(2026, 11, 20), "response": "", "today": D(2026, 12, 6)}  # fmt: skip
    assert rules.rights_response_problems(**fine) == {}
    assert "outcome" in rules.rights_response_problems(**fine | {"outcome": ""})
    assert "responded_on" in rules.rights_response_problems(**fine | {"responded_on": None})
    early = rules.rights_response_problems(**fine | {"responded_on": D(2026, 11, 1)})
    assert "before the request came in" in early["responded_on"]
    later = rules.rights_response_problems(**fine | {"responded_on": D(2026, 12, 7)})
    assert "once it has been sent" in later["responded_on"]
    for outcome in ("partly", "refused"):
        assert "exemption" in rules.rights_response_problems(
            **fine | {"outcome": outcome, "response": "  "})["response"]  # fmt: skip
        given = {"outcome": outcome, "response": "Third-party data withheld."}
        assert rules.rights_response_problems(**fine | given) == {}


@time_machine.travel(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC))
def test_a_request_is_logged_extended_once_and_answered_each_audited(hub):
    with pytest.raises(ValidationError, match="in the future"):
        _log(hub, received_on=timezone.localdate() + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="No student of University of Northbridge"):
        _log(hub, student_number="N0000000")
    assert _log(hub, student_number=hub.student.student_number.lower()).student_number
    row = _log(hub)
    assert row.due_on == D(2026, 12, 30)
    with pytest.raises(ValidationError, match="Say why"):
        rights.extend(actor=hub.org_admin, row=row, reason=" ")
    rights.extend(actor=hub.org_admin, row=row, reason="Ten years of records across services.")
    assert row.due_on == D(2027, 3, 1)  # 28 February 2027 is a Sunday
    with pytest.raises(ValidationError, match="only once"):
        rights.extend(actor=hub.org_admin, row=row, reason="Again.")
    with pytest.raises(ValidationError):
        rights.answer(actor=hub.org_admin, row=row, outcome="refused",
                      responded_on=D(2026, 12, 5), response="")  # fmt: skip
    rights.answer(actor=hub.org_admin, row=row, outcome="complied",
                  responded_on=D(2026, 12, 5), response="")  # fmt: skip
    with pytest.raises(ValidationError, match="answered already"):
        rights.answer(actor=hub.org_admin, row=row, outcome="complied",
                      responded_on=D(2026, 12, 6), response="")  # fmt: skip
    actions = list(AuditEvent.objects.filter(action__startswith="governance.rights.")
                   .values_list("action", "actor_organisation"))  # fmt: skip
    assert actions == [
        ("governance.rights.logged", "University of Northbridge"),
        ("governance.rights.logged", "University of Northbridge"),
        ("governance.rights.extended", "University of Northbridge"),
        ("governance.rights.answered", "University of Northbridge"),
    ]


def test_time_is_extended_only_within_the_first_month(hub):
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)):
        row = _log(hub, received_on=D(2026, 10, 1))
    assert row.due_on == D(2026, 11, 2)  # 1 November 2026 is a Sunday
    with time_machine.travel(dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)):
        rights.extend(actor=hub.org_admin, row=row, reason="Complex.")  # due today: in time
    row = _log(hub, received_on=D(2026, 10, 2))
    with time_machine.travel(dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)):
        with pytest.raises(ValidationError, match="The month has passed"):
            rights.extend(actor=hub.org_admin, row=row, reason="Complex.")
        page = _as(hub.org_admin).get(reverse("governance:rights-request", args=[row.uuid]))
        assert "Extend by two months" not in page.content.decode()


def test_an_admin_sees_only_their_own_organisations_requests(hub):
    row = _log(hub)
    trust_admin = make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)
    url = reverse("governance:rights-request", args=[row.uuid])
    assert _as(trust_admin).get(url).status_code == 404
    assert "Sam Okafor" not in _as(trust_admin).get(
        reverse("governance:rights-requests")).content.decode()  # fmt: skip
    with pytest.raises(PermissionDenied):
        rights.answer(actor=trust_admin, row=row, outcome="complied",
                      responded_on=D(2026, 12, 1), response="")  # fmt: skip
    assert _as(hub.practitioner).get(url).status_code == 403


@time_machine.travel(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC))
def test_open_requests_come_first_and_an_overdue_one_says_so(hub):
    late = _log(hub, received_on=D(2026, 10, 1))
    answered = _log(hub, received_on=D(2026, 9, 1))
    rights.answer(actor=hub.org_admin, row=answered, outcome="complied",
                  responded_on=D(2026, 9, 20), response="")  # fmt: skip
    soon = _log(hub, received_on=D(2026, 11, 20))
    assert list(rights.requests_of(hub.org_admin)) == [late, soon, answered]
    page = _as(hub.org_admin).get(reverse("governance:rights-requests")).content.decode()
    assert page.count("Overdue") == 1
    assert "Overdue by 34 days" in page  # due 2 November (1 November was a Sunday)
    assert "15 days left" in page  # due 21 December (20 December is a Sunday)
    assert page.count("data-clock") == 2  # not on the one answered


def test_a_clock_says_how_long_an_open_request_has_left():
    today = D(2026, 12, 7)
    said = {days: rules.clock_of(today + dt.timedelta(days=days), today)
            for days in (-2, -1, 0, 1, 7, 8)}  # fmt: skip
    assert [(c.words, c.colour) for c in said.values()] == [
        ("Overdue by 2 days", "red"), ("Overdue by 1 day", "red"), ("Due today", "orange"),
        ("1 day left", "yellow"), ("7 days left", "yellow"), ("8 days left", "grey"),
    ]  # fmt: skip


def test_a_bad_log_entry_is_refused_and_keeps_what_was_typed(hub):
    page = _as(hub.org_admin).post(reverse("governance:rights-request-new"), {
        "organisation": hub.university.pk, "kind": "access", "received_on": "2099-01-01",
        "received_by": "email", "requester": "Sam Okafor",
    })  # fmt: skip
    assert page.status_code == 400
    assert "cannot be received in the future" in page.content.decode()
    assert 'value="Sam Okafor"' in page.content.decode()
    assert not rights.requests_of(hub.org_admin).exists()


@pytest.mark.browser
def test_a_data_protection_officer_logs_extends_and_answers_a_request(hub, page):
    open_care_relationship(student=hub.student, service=hub.wellbeing, reason="episode")
    login(page, hub.org_admin)
    open_from_menu(page, "Rights requests")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Access: a copy of their data").check()
    page.get_by_label("Received on").fill(str(timezone.localdate()))
    page.get_by_label("Letter").check()
    page.get_by_label("Who asks").fill("Sam Okafor")
    page.get_by_role("button", name="Log it").click()
    expect(page.get_by_role("status")).to_contain_text("The answer is due by")
    accessible_at_both_sizes(page)
    page.get_by_text("Correct the details", exact=True).click()
    page.get_by_label("Who asks").fill("Sam Okafor, for his daughter")
    page.get_by_label("Their student number, if they are a student").fill(
        hub.student.student_number
    )
    page.get_by_label("Why are you correcting it?").fill("His letter names his daughter.")
    page.get_by_role("button", name="Save the corrected details").click()
    expect(page.get_by_role("status")).to_contain_text("The details are corrected.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("for his daughter")
    page.get_by_role("button", name="Ask the services to prepare it").click()
    expect(page.get_by_role("status")).to_contain_text("1 service is asked to prepare it")
    expect(page.locator('[data-service-asked="Wellbeing"]')).to_contain_text("Preparing")
    page.get_by_label("Why more time is needed").fill("Records from four services.")
    page.get_by_role("button", name="Extend by two months").click()
    expect(page.locator("[data-due]")).to_contain_text("Extended by two months")
    page.get_by_label("Done in full").check()
    page.get_by_label("Answer sent on").fill(str(timezone.localdate()))
    page.get_by_role("button", name="Record the answer").click()
    expect(page.locator("[data-answer]")).to_contain_text("Done in full")
    accessible_at_both_sizes(page)


def _correction(row, **changed) -> dict:
    return {"do": "correct", "kind": row.kind, "received_on": row.received_on.isoformat(),
            "received_by": row.received_by, "requester": row.requester,
            "student_number": row.student_number, "details": row.details} | changed  # fmt: skip


def test_an_open_requests_details_are_corrected_and_its_clock_moves_with_the_day(hub):
    row = _log(hub)
    url = reverse("governance:rights-request", args=[row.uuid])
    client = _as(hub.org_admin)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    refused = client.post(url, _correction(row, received_on=tomorrow.isoformat(),
                                           requester="Sam O."))  # fmt: skip
    assert refused.status_code == 400
    assert "cannot be received in the future" in refused.content.decode()
    assert "Say why the details are being corrected." in refused.content.decode()  # both at once
    assert 'value="Sam O."' in refused.content.decode()  # what was typed is kept
    row.refresh_from_db()
    assert (row.requester, row.received_on) == ("Sam Okafor", LOGGED_ON)  # nothing saved
    unexplained = client.post(url, _correction(row, received_on="2026-11-02"))
    assert "Say why the details are being corrected." in unexplained.content.decode()
    done = client.post(url, _correction(row, received_on="2026-11-02", requester="Sam Okafor, "
                                        "for his daughter", why="The letter came on 2 November."),
                       follow=True)  # fmt: skip
    assert "The details are corrected. The answer is due by 2 December 2026." in (
        done.content.decode())  # fmt: skip
    row.refresh_from_db()
    assert (row.received_on, row.due_on) == (D(2026, 11, 2), D(2026, 12, 2))
    entry = AuditEvent.objects.get(action="governance.rights.corrected")
    assert entry.reason.endswith(
        ": received_on, requester corrected; received 2026-11-30 → 2026-11-02, due 2026-12-30 "
        "→ 2026-12-02. Why: The letter came on 2 November.")  # fmt: skip
    rights.answer(actor=hub.org_admin, row=row, outcome="complied",
                  responded_on=D(2026, 12, 1), response="")  # fmt: skip
    with pytest.raises(ValidationError, match="answered"):
        rights.correct(actor=hub.org_admin, row=row, why="A typo.", **{
            k: getattr(row, k) for k in rights.CORRECTABLE} | {"requester": "X"})  # fmt: skip
    assert "Correct the details" not in client.get(url).content.decode()
    with pytest.raises(PermissionDenied):
        rights.correct(
            actor=make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust), row=row,
            why="A typo.", **{k: getattr(row, k) for k in rights.CORRECTABLE},
        )  # fmt: skip


@time_machine.travel(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC))
def test_the_header_counts_the_requests_overdue_or_due_within_a_week(hub):
    _log(hub, received_on=D(2026, 10, 1))  # overdue
    _log(hub, received_on=D(2026, 11, 12))  # due 14 December: 8 days left
    assert rights.due_soon(hub.org_admin) == 1
    _log(hub, received_on=D(2026, 11, 13))  # due 14 December too (13th is a Sunday)
    _log(hub, received_on=D(2026, 11, 11))  # due 11 December
    page = _as(hub.org_admin).get(reverse("governance:rights-requests")).content.decode()
    link = page[page.index('href="/governance/requests/"') :]
    assert link[: link.index("</a>")].endswith(
        '<span class="jup-nav-count" data-nav-count>2<span class="nhsuk-u-visually-hidden"> '
        "due within a week or overdue</span></span>")  # fmt: skip


@time_machine.travel(dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC))
def test_the_services_holding_the_students_records_are_asked_to_prepare_them(hub):
    wellbeing = open_care_relationship(student=hub.student, service=hub.wellbeing,
                                       reason="episode")  # fmt: skip
    close_care_relationship(relationship=wellbeing, because="episode_ended")  # before: counts
    open_care_relationship(student=hub.student, service=hub.counselling, reason="episode")
    open_care_relationship(student=hub.student, service=hub.crisis, reason="episode")  # the NHS
    row = _log(hub, student_number=hub.student.student_number)
    assert [s.name for s in rights.services_holding(row)[1]] == ["Counselling", "Wellbeing"]
    page = _as(hub.org_admin).get(reverse("governance:rights-request", args=[row.uuid]))
    for name in ("Counselling", "Wellbeing"):  # who held the student is learnt only on asking
        assert name not in page.content.decode().split('id="maincontent"')[-1]

    tasks = rights.ask_services(actor=hub.org_admin, row=row)
    assert {(t.service, t.student) for t in tasks} == {(hub.counselling, hub.student),
                                                       (hub.wellbeing, hub.student)}  # fmt: skip
    assert {timezone.localtime(t.due_at).date() for t in tasks} == {D(2026, 12, 23)}  # week ahead
    assert tasks[0].reason == "Rights request (access): prepare what it needs from our records"
    assert "the answer is due by 30 December 2026" in tasks[0].detail
    with pytest.raises(ValidationError, match="asked already"):
        rights.ask_services(actor=hub.org_admin, row=row)
    asked = AuditEvent.objects.get(action="governance.rights.services_asked")
    assert asked.reason.endswith("Counselling, Wellbeing asked, due 2026-12-23")
    assert (asked.student, asked.category) == (hub.student, "engagement")

    seen = _as(hub.practitioner).get(reverse("referrals:tasks")).content.decode()
    assert "Rights request (access): prepare what it needs from our records" in seen
    complete_task(actor=hub.practitioner, task=next(t for t in tasks if t.service == hub.wellbeing))
    page = _as(hub.org_admin).get(reverse("governance:rights-request", args=[row.uuid]))
    shown = page.content.decode()
    assert 'Wellbeing: <strong class="nhsuk-tag nhsuk-tag--green">Ready</strong>' in shown
    assert 'Counselling: <strong class="nhsuk-tag nhsuk-tag--grey">Preparing</strong>' in shown


def test_services_are_found_only_from_a_student_number_they_have_held(hub):
    unnamed = _log(hub)
    with pytest.raises(ValidationError, match="Give the student's number"):
        rights.ask_services(actor=hub.org_admin, row=unnamed)
    never = make_student(hub.university, "NB4009999")
    no_care = _log(hub, student_number=never.student_number)
    with pytest.raises(ValidationError, match="has held this student in its care"):
        rights.ask_services(actor=hub.org_admin, row=no_care)
    with pytest.raises(PermissionDenied):
        rights.ask_services(actor=make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust),
                            row=no_care)  # fmt: skip
    assert not no_care.service_tasks.exists()
