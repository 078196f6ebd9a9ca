import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff
from joinedup.audit.models import AuditEvent
from joinedup.conftest import accessible_at_both_sizes, login
from joinedup.consent.services import open_break_glass
from joinedup.governance import rules, selectors, services, staff
from joinedup.governance.models import OverrideReview
from joinedup.people.models import Membership, Role

WHY = "Risk to life: the ambulance service called about an overdose."


@pytest.fixture
def trust_admin(hub):
    return make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)


@pytest.fixture
def override(hub):
    access = open_break_glass(actor=hub.crisis_practitioner, student=hub.student, reason=WHY)
    client = SignedInClient()
    client.force_login(hub.crisis_practitioner)
    client.get(reverse("record:student-detail", args=[hub.student.uuid]))  # reads under it
    return _ended(access)


def _ended(access):
    """The override has run its time (reviews come once it has ended)."""
    access.expires_at = timezone.now()
    access.save(update_fields=["expires_at"])
    return access


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def test_a_review_is_overdue_after_seven_days_unless_done():
    opened = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    assert not rules.is_overdue(opened, opened + dt.timedelta(days=7), reviewed=False)
    assert rules.is_overdue(opened, opened + dt.timedelta(days=7, seconds=1), reviewed=False)
    assert not rules.is_overdue(opened, opened + dt.timedelta(days=30), reviewed=True)


def test_not_appropriate_needs_a_note_and_an_outcome_is_needed():
    assert rules.review_problem("appropriate", "") == {}
    assert "note" in rules.review_problem("not_appropriate", "  ")
    assert "outcome" in rules.review_problem("", "fine")


def test_the_users_organisations_admin_sees_why_and_what_was_read_never_who(
    hub, trust_admin, override
):
    page = _as(trust_admin).get(reverse("governance:overrides")).content.decode()
    assert WHY in page
    assert "Crisis Team, Northbridge NHS Trust" in page
    read = page.split("data-read>")[1].split("</dd>")[0]  # the kinds of record read
    assert "Identity" in read
    assert "Risk" in read
    assert "To review" in page
    for who in (hub.student.display_name, hub.student.student_number, hub.student.legal_name):
        assert who not in page
    other = _as(hub.org_admin).get(reverse("governance:overrides")).content.decode()
    assert WHY not in other
    assert "data-no-overrides" in other
    assert (
        _as(hub.org_admin)
        .get(reverse("governance:override-review", args=[override.uuid]))
        .status_code
        == 404
    )
    assert _as(hub.practitioner).get(reverse("governance:overrides")).status_code == 403


def test_a_review_is_recorded_once_and_audited(hub, trust_admin, override):
    url = reverse("governance:override-review", args=[override.uuid])
    client = _as(trust_admin)
    refused = client.post(url, {"outcome": "not_appropriate", "note": ""})
    assert refused.status_code == 400
    assert "Say why it was not appropriate" in refused.content.decode()
    assert not OverrideReview.objects.exists()
    client.post(url, {"outcome": "not_appropriate", "note": "No risk to life was recorded."})
    review = OverrideReview.objects.get()
    assert (review.access, review.outcome, review.reviewed_by) == (
        override,
        "not_appropriate",
        trust_admin,
    )
    event = AuditEvent.objects.get(action="governance.override.reviewed")
    assert (event.actor, event.student, event.allowed) == (trust_admin, hub.student, None)
    client.post(url, {"outcome": "appropriate"})
    assert OverrideReview.objects.get().outcome == "not_appropriate"
    page = client.get(reverse("governance:overrides")).content.decode()
    assert "Not appropriate" in page
    assert "No risk to life was recorded." in page


def test_an_unreviewed_override_a_week_old_is_marked_overdue(hub, trust_admin, override):
    override.opened_at = timezone.now() - dt.timedelta(days=8)
    override.save()
    assert "Overdue" in _as(trust_admin).get(reverse("governance:overrides")).content.decode()


def test_an_organisation_admin_lands_on_the_reviews(hub, trust_admin):
    assert _as(trust_admin).get("/").url == reverse("governance:overrides")


@pytest.mark.browser
def test_the_data_protection_officer_reviews_an_override_in_the_browser(
    hub, trust_admin, override, page
):
    login(page, trust_admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access reviews")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Review it").click()
    page.get_by_label("Appropriate", exact=True).check()
    page.get_by_role("button", name="Record my review").click()
    expect(page.get_by_role("status")).to_have_text("Your review is recorded.")
    expect(page.locator("[data-review]")).to_contain_text("Appropriate")
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="What was done under it, in the audit log").click()
    expect(page.locator("[data-under-override]")).to_contain_text(str(override.uuid))
    entries = page.locator("[data-audit-entries]")
    expect(entries).to_contain_text("Emergency override opened")
    expect(entries.locator("[data-entry]")).to_have_count(
        AuditEvent.objects.filter(actor=override.user, student=override.student).count()
    )
    accessible_at_both_sizes(page)


def test_an_override_unreviewed_for_a_week_is_escalated_once_without_naming_anyone(
    hub, trust_admin, override, mailoutbox, django_capture_on_commit_callbacks
):
    reviewed = _ended(open_break_glass(actor=hub.triage, student=hub.student, reason=WHY))
    services.review_override(actor=trust_admin, access=reviewed, outcome="appropriate", note="")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_reviews() == 0  # not yet a week
    later = timezone.now() + dt.timedelta(days=7, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_reviews(now=later) == 1
    [sent] = mailoutbox
    assert sorted(sent.to) == ["dpo@nhs.example"]  # the contact, who is also the admin
    assert "1 emergency access" in sent.body
    assert "/governance/overrides/" in sent.body
    for secret in (WHY, hub.student.display_name, hub.student.student_number, "Cara"):
        assert secret not in sent.body
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_reviews(now=later) == 0
    assert len(mailoutbox) == 1
    override.opened_at = timezone.now() - dt.timedelta(days=8)
    override.save()
    page = _as(trust_admin).get(reverse("governance:overrides")).content.decode()
    assert "Escalated to the data protection contact" in page


def test_the_monthly_summary_counts_each_services_overrides_and_reviews(hub, trust_admin, override):
    second = _ended(open_break_glass(actor=hub.triage, student=hub.student, reason=WHY))
    services.review_override(actor=trust_admin, access=second, outcome="not_appropriate",
                             note="No risk to life recorded.")  # fmt: skip
    month = timezone.localdate().strftime("%Y-%m")
    page = _as(trust_admin).get(reverse("governance:override-summary"))  # this month
    text = page.content.decode()
    crisis = text.split('data-place="Crisis Team, Northbridge NHS Trust"')[1].split("</tr>")[0]
    talking = text.split('data-place="Talking Therapies, Northbridge NHS Trust"')[1].split(
        "</tr>")[0]  # fmt: skip
    cells = lambda row: re.findall(r"</span>(\d+)", row)  # noqa: E731
    assert cells(crisis) == ["1", "0", "0", "1"]
    assert cells(talking) == ["1", "0", "1", "0"]
    assert WHY not in text
    empty = _as(hub.org_admin).get(reverse("governance:override-summary"), {"month": month})
    assert "data-none-this-month" in empty.content.decode()
    wrong = _as(trust_admin).get(reverse("governance:override-summary"), {"month": "13-2026"})
    assert wrong.status_code == 200
    assert "Choose a month from the list." in wrong.content.decode()


def test_an_override_still_open_is_reviewed_once_it_has_ended(hub, trust_admin):
    access = open_break_glass(actor=hub.crisis_practitioner, student=hub.student, reason=WHY)
    with pytest.raises(ValidationError, match="Review it once it has ended"):
        services.review_override(actor=trust_admin, access=access, outcome="appropriate",
                                 note="")  # fmt: skip
    page = _as(trust_admin).get(reverse("governance:overrides")).content.decode()
    assert "data-still-open" in page
    assert "Review it<" not in page
    _ended(access)
    services.review_override(actor=trust_admin, access=access, outcome="appropriate", note="")
    assert OverrideReview.objects.get().access == access


def test_an_override_by_someone_who_has_since_left_is_still_reviewed_and_escalated(
    hub, trust_admin, override, mailoutbox, django_capture_on_commit_callbacks
):
    # They also work at the university: only the trust, where they used it, reviews it.
    Membership.objects.create(user=hub.crisis_practitioner, organisation=hub.university,
                              service=hub.wellbeing, role=Role.PRACTITIONER)  # fmt: skip
    staff.leave(actor=trust_admin, user=hub.crisis_practitioner, organisation=hub.trust)
    listed = _as(trust_admin).get(reverse("governance:overrides")).content.decode()
    assert str(override.uuid) in listed
    assert str(override.uuid) not in (
        _as(hub.org_admin).get(reverse("governance:overrides")).content.decode()
    )
    later = timezone.now() + dt.timedelta(days=7, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_reviews(now=later) == 1
    assert [sorted(sent.to) for sent in mailoutbox] == [["dpo@nhs.example"]]
    services.review_override(actor=trust_admin, access=override, outcome="appropriate", note="")
    assert OverrideReview.objects.get(access=override).reviewed_by == trust_admin


def test_each_organisation_is_emailed_its_monthly_summary_once_never_who(
    hub, trust_admin, override, mailoutbox, django_capture_on_commit_callbacks
):
    services.review_override(actor=trust_admin, access=override, outcome="appropriate", note="")
    second = _ended(open_break_glass(actor=hub.practitioner, student=hub.student, reason=WHY))
    month = timezone.localdate().replace(day=1)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("email_override_summaries", month=f"{month:%Y-%m}", stdout=out)
    assert "Sent 2 summaries" in out.getvalue()
    by_place = {tuple(sent.to): sent for sent in mailoutbox}
    trust = by_place[("dpo@nhs.example",)]
    assert "used emergency access to a student's record 1 time" in trust.body
    assert "Reviewed as appropriate: 1. Not appropriate: 0. Waiting for review: 0." in trust.body
    assert trust.body.endswith(f"/governance/overrides/summary/?month={month:%Y-%m}")
    university = by_place[(hub.org_admin.email,)]
    assert "Waiting for review: 1." in university.body
    told = by_place[("dpo@nb.ac.uk",)]  # the university's contact, who does not sign in
    assert "http" not in told.body
    for sent in mailoutbox:
        for secret in (WHY, hub.student.display_name, hub.student.student_number):
            assert secret not in sent.body
    assert second.organisation == hub.university
    with django_capture_on_commit_callbacks(execute=True):
        call_command("email_override_summaries", month=f"{month:%Y-%m}", stdout=out)
    assert len(mailoutbox) == 3  # once per organisation and month
    with pytest.raises(CommandError, match="not a month"):
        call_command("email_override_summaries", month="November")


def test_the_header_counts_the_ended_overrides_waiting_for_a_review(hub, trust_admin, override):
    open_break_glass(actor=hub.triage, student=hub.student, reason=WHY)  # still running
    assert selectors.overrides_to_review(trust_admin) == 1
    services.review_override(actor=trust_admin, access=override, outcome="appropriate", note="")
    assert selectors.overrides_to_review(trust_admin) == 0
    assert selectors.overrides_to_review(hub.org_admin) == 0  # the university's: none of theirs
