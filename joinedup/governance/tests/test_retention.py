import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import verify_audit_chain
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import close_care_relationship, open_care_relationship
from joinedup.feedback.models import Feedback
from joinedup.governance import retention, rules
from joinedup.governance.models import RetentionRule, RetentionRun
from joinedup.measures.models import Administration, Answer
from joinedup.messaging.models import Message
from joinedup.people.models import Role, User
from joinedup.people.services import notify_student
from joinedup.people.tests.factories import plant_everything
from joinedup.record.models import RecordEntry
from joinedup.record.tests.factories import write_entry
from joinedup.referrals.models import (
    Appointment,
    AppointmentRequest,
    Episode,
    FollowUpTask,
    Referral,
)
from joinedup.risk.models import (
    Concern,
    ConcernMessage,
    Flag,
    PanelCase,
    ReturnToStudyPlan,
    RiskAssessment,
    SafetyPlan,
)

D = dt.date
SECRET = "Told us about the night on the bridge."


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def _years_ago(years: int, days: int = 1):
    return timezone.now() - dt.timedelta(days=365 * years + 2 + days)


@pytest.fixture
def old(hub):
    """A student whose care at Wellbeing ended seven years ago: past the university's six."""
    student = make_student(hub.university, "NB4000001")
    relationship = open_care_relationship(student=student, service=hub.wellbeing,
                                          reason="episode")  # fmt: skip
    close_care_relationship(relationship=relationship, because="episode_ended")
    CareRelationship.objects.filter(pk=relationship.pk).update(closed_at=_years_ago(7))
    entries = [write_entry(student, category, hub.wellbeing, hub.practitioner, body=SECRET)
               for category in ("notes", "risk")]  # fmt: skip
    RecordEntry.objects.filter(pk__in=[e.pk for e in entries]).update(created_at=_years_ago(7))
    Message.objects.create(student=student, service=hub.wellbeing, from_student=False,
                           author=hub.practitioner, body=SECRET, sent_at=_years_ago(7))  # fmt: skip
    return student


def test_a_period_is_a_year_to_a_hundred():
    assert "at least 1 year" in rules.retention_problem(0)
    assert "at least 1 year" in rules.retention_problem(None)
    assert rules.retention_problem(1) == ""
    assert rules.retention_problem(100) == ""
    assert "100 years or fewer" in rules.retention_problem(101)


def test_records_are_due_the_day_after_their_time_and_never_while_in_care():
    last = D(2020, 2, 29)
    assert rules.kept_until(last, 6) == D(2026, 2, 28)
    kept = {"last_contact": last, "years": 6, "in_care": False}
    assert not rules.is_due_for_erasure(today=D(2026, 2, 28), **kept)
    assert rules.is_due_for_erasure(today=D(2026, 3, 1), **kept)
    assert not rules.is_due_for_erasure(today=D(2040, 1, 1), **kept | {"in_care": True})


def test_each_kind_of_organisation_has_its_cited_default(hub):
    university = retention.periods_of(hub.university)["notes"]
    assert (university.years, university.source) == (
        6, "BACP Good Practice in Action 105; Limitation Act 1980")  # fmt: skip
    trust = retention.periods_of(hub.trust)["risk"]
    assert trust.years == 20
    assert "Records Management Code of Practice 2023" in trust.source


def test_what_has_passed_is_listed_then_erased_once_confirmed_and_audited(hub, old):
    in_care = make_student(hub.university, "NB4000002")
    open_care_relationship(student=in_care, service=hub.wellbeing, reason="episode")
    kept = write_entry(in_care, "notes", hub.wellbeing, hub.practitioner)
    RecordEntry.objects.filter(pk=kept.pk).update(created_at=_years_ago(9))
    nhs = write_entry(old, "notes", hub.crisis, hub.crisis_practitioner)
    RecordEntry.objects.filter(pk=nhs.pk).update(created_at=_years_ago(7))

    run = retention.list_due(hub.university)
    assert run.by_category == {"notes": 1, "risk": 1, "messages": 1}
    listed = RecordEntry.objects.filter(pk__in=run.listed["entries"])
    assert set(listed.values_list("student", flat=True)) == {old.pk}
    assert retention.list_due(hub.university) == run  # listed once
    assert RecordEntry.objects.filter(student=old, service=hub.wellbeing).count() == 2
    with pytest.raises(PermissionDenied):
        retention.confirm(actor=make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust),
                          run=run)  # fmt: skip
    assert retention.confirm(actor=hub.org_admin, run=run) == 3
    assert not RecordEntry.objects.filter(student=old, service=hub.wellbeing).exists()
    assert not Message.objects.filter(student=old).exists()
    assert RecordEntry.objects.filter(pk__in=[kept.pk, nhs.pk]).count() == 2
    erased = AuditEvent.objects.filter(action="governance.retention.erased").order_by("category")
    assert [(e.student, e.category) for e in erased] == [
        (old, "engagement"), (old, "notes"), (old, "risk")]  # fmt: skip
    assert erased[0].reason.startswith("1 messages erased: kept 6 years")
    assert "kept 6 years after the last contact with University of Northbridge" in erased[1].reason
    assert SECRET not in "".join(e.reason for e in erased)
    assert verify_audit_chain().broken is None
    with pytest.raises(ValidationError, match="erased already"):
        retention.confirm(actor=hub.org_admin, run=run)
    assert retention.list_due(hub.university) is None


def test_a_student_back_in_care_before_the_confirmation_keeps_their_records(hub, old):
    run = retention.list_due(hub.university)
    open_care_relationship(student=old, service=hub.counselling, reason="referral")
    assert retention.confirm(actor=hub.org_admin, run=run) == 0
    assert RecordEntry.objects.filter(student=old).count() == 2
    assert Message.objects.filter(student=old).count() == 1


def test_a_period_is_changed_by_an_admin_and_a_bad_one_refused(hub, old):
    client = _as(hub.org_admin)
    asked = {"organisation": hub.university.uuid, "do": "period", "category": "risk"}
    zero = client.post(reverse("governance:retention"), asked | {"years": "0"})
    assert zero.status_code == 400
    assert "at least 1 year" in zero.content.decode()
    unexplained = client.post(reverse("governance:retention"), asked | {"years": "2"})
    assert unexplained.status_code == 400
    assert "Say why you keep them for less than the default of 6 years" in (
        unexplained.content.decode())  # fmt: skip
    assert "risk" not in dict(RetentionRule.objects.values_list("category", "years"))
    shorter = client.post(reverse("governance:retention"), asked | {
        "years": "1", "why": "Only triage notes: the full record is kept by the trust."},
        follow=True)  # fmt: skip
    assert "Risk: 6 years → 1 year. The next daily listing uses it" in shorter.content.decode()
    said = AuditEvent.objects.filter(action="governance.retention.period_set").last()
    assert said.reason == ("risk: 6 → 1 years after the last contact. Why: Only triage notes: "
                           "the full record is kept by the trust.")  # fmt: skip
    client.post(
        reverse("governance:retention"), asked | {"years": "2", "why": "Two, on reflection."}
    )
    client.post(reverse("governance:retention"), asked | {"years": "8"})
    risk = retention.periods_of(hub.university)["risk"]
    assert (risk.years, risk.default_years) == (8, 6)
    assert risk.source == "BACP Good Practice in Action 105; Limitation Act 1980"
    assert "set by oscar@nb.ac.uk" in risk.set_by
    said = AuditEvent.objects.filter(action="governance.retention.period_set").last()
    assert said.reason == "risk: 2 → 8 years after the last contact"  # what it was, and is
    assert retention.list_due(hub.university).by_category == {"notes": 1, "messages": 1}
    back = client.post(reverse("governance:retention"), asked | {"years": "6"}, follow=True)
    assert "Risk: 8 years → 6 years, the default." in back.content.decode()
    assert not RetentionRule.objects.filter(category="risk").exists()  # the default again
    assert retention.periods_of(hub.university)["risk"].set_by == ""
    unticked = client.post(reverse("governance:retention"), {
        "organisation": hub.university.uuid, "do": "erase",
        "run": RetentionRun.objects.get().uuid,
    }, follow=True)  # fmt: skip
    assert "Tick the box to confirm" in unticked.content.decode()
    assert RecordEntry.objects.filter(student=old).count() == 2


@pytest.mark.browser
def test_an_admin_confirms_a_retention_run(hub, old, page):
    login(page, hub.org_admin)
    open_from_menu(page, "Retention")
    accessible_at_both_sizes(page)
    page.get_by_role("button", name="List what has passed its retention now").click()
    run = page.locator('[data-retention-run="University of Northbridge"]')
    expect(run).to_contain_text("3 records have passed their retention")
    expect(run).to_contain_text("Messages: 1")
    expect(run.locator("[data-listed]")).to_contain_text("NB4000001")
    expect(run.locator("[data-listed]")).not_to_contain_text(SECRET)
    page.get_by_label("I confirm these records are to be erased.").check()
    page.get_by_role("button", name="Erase them").click()
    expect(page.get_by_role("status")).to_contain_text("3 records erased")
    expect(run).to_contain_text("Nothing is waiting to be erased")
    accessible_at_both_sizes(page)


def test_the_daily_job_lists_but_erases_nothing(hub, old):
    out = io.StringIO()
    call_command("list_retention_due", stdout=out)
    assert "University of Northbridge: 3 records." in out.getvalue()
    assert RetentionRun.objects.get().confirmed_at is None
    assert RecordEntry.objects.filter(student=old).count() == 2


def test_the_admins_and_the_contact_are_told_once_of_a_new_listing_never_whose(
    hub, old, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        retention.list_due(hub.university)
    with django_capture_on_commit_callbacks(execute=True):
        retention.list_due(hub.university)  # the same listing: no second email
    to_admins, to_contact = sorted(mailoutbox, key=lambda sent: sent.to != [hub.org_admin.email])
    assert to_admins.to == [hub.org_admin.email]
    assert to_admins.subject == "Records past their retention at University of Northbridge"
    assert "3 records at University of Northbridge have passed" in to_admins.body
    assert to_admins.body.endswith("/governance/retention/")
    assert to_contact.to == ["dpo@nb.ac.uk"]  # told where an admin acts, no link to sign in
    assert "under Retention" in to_contact.body
    assert "http" not in to_contact.body
    for sent in mailoutbox:
        for secret in (SECRET, old.student_number, old.display_name):
            assert secret not in sent.body


def test_everything_a_service_keeps_is_erased_or_anonymised_and_reports_keep_their_counts(hub):
    student = make_student(hub.university, "NB4000003")
    with time_machine.travel(timezone.now() - dt.timedelta(days=365 * 8)):
        planted = plant_everything(hub, student, tag=SECRET)
        ConcernMessage.objects.create(concern=planted["risk.Concern.student"], text=SECRET,
                                      author=hub.practitioner, from_reporter=False)  # fmt: skip
        AppointmentRequest.objects.create(
            appointment=Appointment.objects.get(episode__student=student), wants="cancel",
            reason=SECRET,
        )  # fmt: skip
        for relationship in CareRelationship.objects.filter(student=student, closed_at=None):
            close_care_relationship(relationship=relationship, because="episode_ended")
    administration = planted["measures.Administration.student"]
    planted_as = {row.__class__: row for row in planted.values()}
    planted_as[Appointment] = Appointment.objects.get()
    scores = (administration.total, Administration.objects.count(), Episode.objects.count())

    run = retention.list_due(hub.university)
    assert run.by_category == {
        "answers": 1, "appointments": 1, "assessment": 1, "concerns": 1, "feedback": 1,
        "flags": 1, "follow_ups": 1, "messages": 1, "panel_cases": 1, "referrals": 1,
        "return_plans": 1, "risk_assessments": 1, "safety_plans": 1,
    }  # fmt: skip
    [listed] = retention.listed_in(run)
    assert (listed.student_number, listed.counts) == ("NB4000003", run.by_category)
    assert retention.confirm(actor=hub.org_admin, run=run) == 13

    for gone in (RecordEntry, Message, RiskAssessment, SafetyPlan, ReturnToStudyPlan, Answer,
                  ConcernMessage, AppointmentRequest):  # fmt: skip
        assert not gone.objects.exists(), gone
    administration.refresh_from_db()
    assert (administration.total, Administration.objects.count(),
            Episode.objects.count()) == scores  # fmt: skip
    for model, fields in ((Referral, ("reason", "signposted_to")), (Flag, ("reason",)),
                          (Concern, ("observed",)), (FollowUpTask, ("reason", "detail", "outcome")),
                          (PanelCase, ("summary", "decision")), (Feedback, ("comment",)),
                          (Appointment, ("place", "cancel_reason", "move_reason"))):  # fmt: skip
        texts = set(model.objects.values_list(*fields))
        assert texts == {
            tuple(rules.ERASED_TEXT if getattr(planted_as[model], f) else "" for f in fields)
        }, model
    erased = AuditEvent.objects.filter(action="governance.retention.erased")
    assert {(e.category, e.reason.split(":")[0]) for e in erased} == {
        ("assessment", "1 assessment entries erased"), ("engagement", "1 messages erased"),
        ("risk", "1 risk assessments erased"), ("risk", "1 safety plans erased"),
        ("adjustments", "1 return plans erased"), ("outcomes", "1 answers anonymised"),
        ("registration", "1 referrals anonymised"), ("engagement", "1 appointments anonymised"),
        ("risk", "1 flags anonymised"), ("notes", "1 concerns anonymised"),
        ("notes", "1 follow ups anonymised"), ("risk", "1 panel cases anonymised"),
        ("engagement", "1 feedback anonymised"),
    }  # fmt: skip
    assert verify_audit_chain().broken is None
    assert retention.list_due(hub.university) is None  # what is anonymised is not listed again


def _left_years_ago(hub, number, years, *, service=None, status="graduated"):
    account = User.objects.create_user(f"{number}@students.nb.ac.uk", "x")
    student = make_student(hub.university, number, status=status, email=f"{number}@nb.ac.uk",
                           nhs_number="9434765919" if number.endswith("1") else "",
                           date_of_birth=D(2001, 8, 17), user=account)  # fmt: skip
    with time_machine.travel(timezone.now() - dt.timedelta(days=365 * years)):
        relationship = open_care_relationship(student=student, service=service or hub.wellbeing,
                                              reason="episode")  # fmt: skip
        close_care_relationship(relationship=relationship, because="episode_ended")
        notify_student(student, SECRET)
    return student


def test_an_identity_is_erased_once_everyone_has_passed_their_retention_and_they_have_left(hub):
    gone = _left_years_ago(hub, "NB4000011", 21)
    enrolled = _left_years_ago(hub, "NB4000012", 21, status="enrolled")
    nhs = _left_years_ago(hub, "NB4000013", 7)
    with time_machine.travel(timezone.now() - dt.timedelta(days=365 * 7)):
        write_entry(nhs, "notes", hub.crisis, hub.crisis_practitioner)  # the trust keeps 20 years
    recent = _left_years_ago(hub, "NB4000014", 3)

    run = retention.list_due(hub.university)
    assert run.listed["identities"] == [gone.pk]
    assert retention.listed_in(run)[0].counts == {"identities": 1}
    account = gone.user
    assert retention.confirm(actor=hub.org_admin, run=run) == 1

    gone.refresh_from_db()
    assert (gone.display_name, gone.student_number, gone.nhs_number, gone.email) == (
        "Erased identity", f"ERASED-{gone.pk}", "", "")  # fmt: skip
    assert gone.date_of_birth == D(2001, 1, 1)  # the year, for reports
    assert gone.erased_at is not None
    assert gone.user is None
    account.refresh_from_db()
    assert not account.is_active
    assert not account.has_usable_password()
    assert "NB4000011" not in account.email
    assert not gone.notifications.exists()
    for kept in (enrolled, nhs, recent):
        kept.refresh_from_db()
        assert kept.erased_at is None
        assert kept.legal_given_name != "Erased"
    [said] = AuditEvent.objects.filter(action="governance.retention.erased")
    assert (said.student, said.category) == (gone, "identity")
    assert "last contact with every organisation" in said.reason
    assert verify_audit_chain().broken is None
    assert retention.list_due(hub.university) is None
    assert retention.list_due(hub.trust) is None  # identities are the university's to erase


def test_the_page_says_what_happens_to_each_kind_of_record_once_its_time_has_passed(hub):
    page = _as(hub.org_admin).get(reverse("governance:retention")).content.decode()
    risk = page[page.index('data-period="risk"') :]
    risk = risk[: risk.index("</tr>")]
    assert "Erased: record entries of this kind; risk assessments; safety plans." in risk
    assert "dates kept for reports: risk flag reasons" in risk
    identity = page[page.index('data-period="identity"') :]
    assert "only once they have left the university" in identity[: identity.index("</tr>")]
    assert "at least 6 years" in identity[: identity.index("</tr>")]
    assert retention.fate_of("discharge") == ["Erased: record entries of this kind."]
