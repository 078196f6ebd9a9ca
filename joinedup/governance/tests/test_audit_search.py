import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff
from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.services import Entry, append
from joinedup.audit.tests.tampering import triggers_off
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.consent.services import open_break_glass
from joinedup.governance import rules, services
from joinedup.governance.models import ChainCheck
from joinedup.people.models import Role

NHS_NUMBER = "9434765919"
CLINICAL = "High: hearing voices telling them to jump"


@pytest.fixture
def trust_admin(hub):
    return make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)


@pytest.fixture
def reads(hub):
    """The crisis team and the university's wellbeing service each read the student."""
    hub.student.nhs_number = NHS_NUMBER
    hub.student.save()

    open_break_glass(
        actor=hub.crisis_practitioner,
        student=hub.student,
        reason="Risk to life: the ambulance service called about an overdose.",
    )
    for user in (hub.crisis_practitioner, hub.practitioner):
        _as(user).get(reverse("record:student-detail", args=[hub.student.uuid]))
    append([Entry(
        action="risk.assessment.recorded", actor=hub.crisis_practitioner, student=hub.student,
        category="risk", reason=CLINICAL, actor_service="Crisis Team",
        actor_organisation="Northbridge NHS Trust",
    )])  # fmt: skip


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def _search(client, **asked):
    today = timezone.localdate()
    query = {"start": str(today - dt.timedelta(days=6)), "end": str(today)} | asked
    return client.get(reverse("governance:audit"), query)


def test_a_search_period_runs_forwards_and_for_a_year_at_most():
    day = dt.date(2026, 12, 6)
    assert rules.period_problem(day, day) == ""
    assert "before its start" in rules.period_problem(day, day - dt.timedelta(days=1))
    assert rules.period_problem(day - dt.timedelta(days=365), day) == ""
    assert "a year or less" in rules.period_problem(day - dt.timedelta(days=366), day)


@pytest.mark.parametrize("cell", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_csv_cell_that_a_spreadsheet_would_run_is_kept_as_text(cell):
    assert rules.spreadsheet_safe(cell) == "'" + cell
    assert rules.spreadsheet_safe("Crisis Team") == "Crisis Team"
    assert rules.spreadsheet_safe("") == ""


def test_the_admin_finds_who_in_their_organisation_read_a_student(hub, trust_admin, reads):
    client = _as(trust_admin)
    page = _search(client, student=NHS_NUMBER[:3] + " " + NHS_NUMBER[3:6] + " " + NHS_NUMBER[6:])
    text = page.content.decode()
    assert page.status_code == 200
    assert "cara@nhs.example" in text
    assert "Read: Risk" in text
    assert "emergency override" in text
    assert "priya@nb.ac.uk" not in text  # the university's reads are the university's
    by_number = _search(client, student="nb1000001").content.decode()
    assert "cara@nhs.example" in by_number
    nobody = _search(client, student="NB9999999").content.decode()
    assert "data-no-entries" in nobody
    assert "cara@nhs.example" not in nobody
    university = _search(_as(hub.org_admin), student=NHS_NUMBER).content.decode()
    assert "priya@nb.ac.uk" in university
    assert "cara@nhs.example" not in university


def test_an_admin_never_reads_the_reason_of_a_change_to_a_record():
    assert rules.shows_reason(allowed=True, category="risk", action="record.read")
    assert rules.shows_reason(allowed=False, category="notes", action="record.note.read")
    assert rules.shows_reason(allowed=None, category="", action="governance.audit.searched")
    assert rules.shows_reason(allowed=None, category="risk", action="consent.break_glass.opened")
    assert not rules.shows_reason(allowed=None, category="risk", action="risk.flag.raised")


def test_the_search_shows_a_change_but_withholds_what_it_said(hub, trust_admin, reads):
    client = _as(trust_admin)
    page = _search(client, student=NHS_NUMBER).content.decode()
    assert "risk.assessment.recorded" in page
    assert "Withheld: it may describe the student" in page
    download = _search(client, student=NHS_NUMBER, download="csv").content.decode()
    assert "risk.assessment.recorded" in download
    for shown in (page, download):
        assert CLINICAL not in shown
        assert hub.student.display_name not in shown
        assert hub.student.legal_name not in shown


def test_the_search_narrows_by_staff_place_and_period(hub, trust_admin, reads):
    client = _as(trust_admin)
    found = _search(client, staff="CARA").content.decode()
    assert "cara@nhs.example" in found
    assert "data-no-entries" in _search(client, staff="cara tom").content.decode()
    assert "cara@nhs.example" in _search(client, place="Crisis Team").content.decode()
    assert "data-no-entries" in _search(client, place="Talking Therapies").content.decode()
    last_month = timezone.localdate() - dt.timedelta(days=30)
    earlier = _search(client, start=str(last_month - dt.timedelta(days=6)), end=str(last_month))
    assert "data-no-entries" in earlier.content.decode()
    # A place of another organisation is not a choice: refused, not searched.
    refused = _search(client, place="Wellbeing")
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()


def test_a_wrong_period_is_refused_with_what_to_do(hub, trust_admin):
    client = _as(trust_admin)
    backwards = _search(client, start="2026-12-06", end="2026-12-01")
    assert backwards.status_code == 400
    assert "Put the earlier date first" in backwards.content.decode()
    nonsense = _search(client, start="31/02/2026")
    assert nonsense.status_code == 400
    assert "Enter a real date" in nonsense.content.decode()
    assert not AuditEvent.objects.filter(action="governance.audit.searched").exists()


def test_every_search_and_download_is_audited(hub, trust_admin, reads):
    client = _as(trust_admin)
    _search(client, student=NHS_NUMBER)
    searched = AuditEvent.objects.get(action="governance.audit.searched")
    assert (searched.actor, searched.student, searched.allowed) == (trust_admin, hub.student, None)
    assert f"student '{NHS_NUMBER}'" in searched.reason
    assert searched.reason.endswith(" entries")
    download = _search(client, student=NHS_NUMBER, download="csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["entry", "when", "staff email"]
    assert {row[2] for row in rows[1:]} == {"cara@nhs.example", "dpo@nhs.example"}
    assert any(row[8] == "Read: Risk" and row[7] == NHS_NUMBER for row in rows[1:])
    assert any(row[8] == "Emergency override opened" for row in rows[1:])  # not a read: in words
    downloaded = AuditEvent.objects.get(action="governance.audit.downloaded")
    assert downloaded.reason.endswith(f": {len(rows) - 1} entries")


def test_the_first_visit_shows_the_last_week(hub, trust_admin, reads):
    page = _as(trust_admin).get(reverse("governance:audit")).content.decode()
    assert "cara@nhs.example" in page
    assert f'value="{timezone.localdate()}"' in page


def test_only_organisation_admins_search_or_verify(hub):
    for user in (hub.practitioner, hub.service_manager, hub.researcher):
        assert _as(user).get(reverse("governance:audit")).status_code == 403
        assert _as(user).post(reverse("governance:audit-verify")).status_code == 403


def _check(client, capture) -> str:
    """Ask for a check, as the button does; it runs (here at once) outside the request."""
    with capture(execute=True):
        asked = client.post(reverse("governance:audit-verify"))
    assert asked.status_code == 302
    return client.get(asked["Location"]).content.decode()


def test_verifying_names_the_first_altered_entry_and_is_audited(
    hub, trust_admin, reads, django_capture_on_commit_callbacks
):
    client = _as(trust_admin)
    intact = _check(client, django_capture_on_commit_callbacks)
    assert "data-chain-intact" in intact
    count = AuditEvent.objects.count() - 1  # less the search's own entry
    assert f"{count} entries checked" in intact
    verified = AuditEvent.objects.get(action="governance.audit.verified")
    assert verified.reason.endswith("intact")
    altered = AuditEvent.objects.filter(actor=hub.crisis_practitioner).first()
    with triggers_off(connection), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["nothing", altered.seq]
        )
    broken = _check(client, django_capture_on_commit_callbacks)
    assert f'data-chain-broken="{altered.seq}"' in broken
    assert f"entry {altered.seq} was altered after it was written" in broken
    assert AuditEvent.objects.filter(
        action="governance.audit.verified", reason__contains=f"broken at entry {altered.seq}"
    ).exists()


def test_a_check_runs_outside_the_request_and_the_page_waits_for_it(hub, trust_admin):
    client = _as(trust_admin)
    client.post(reverse("governance:audit-verify"))  # its task waits for the commit
    running = client.get(reverse("governance:audit-verify")).content.decode()
    assert "data-chain-running" in running
    assert 'hx-trigger="every 3s"' in running  # the page asks again until it is done
    client.post(reverse("governance:audit-verify"))
    assert ChainCheck.objects.count() == 1  # one check at a time
    check = ChainCheck.objects.get()
    services.finish_chain_check(check, verify_audit_chain())
    done = client.get(reverse("governance:audit-verify"), HTTP_HX_REQUEST="true")
    assert "data-chain-intact" in done.content.decode()
    assert "every 3s" not in done.content.decode()
    assert "<html" not in done.content.decode()  # only the part that changes


@pytest.mark.browser
def test_the_data_protection_officer_finds_who_read_a_record_last_week(
    hub, trust_admin, reads, page, tmp_path
):
    login(page, trust_admin)

    open_from_menu(page, "Audit log")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("Student number or NHS number").fill(NHS_NUMBER)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("[data-audit-entries]")).to_contain_text("cara@nhs.example")
    expect(page.locator("[data-audit-entries]")).to_contain_text("Read: Risk")
    accessible_at_both_sizes(page)
    with page.expect_download() as download:
        page.locator("[data-download]").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("audit-")
    assert "cara@nhs.example" in saved.read_text()
    page.get_by_role("link", name="Check that the audit log is complete and unaltered").click()
    page.get_by_role("button", name="Check the audit log").click()
    expect(page.locator("[data-chain-intact]")).to_contain_text("complete and unaltered")
    accessible_at_both_sizes(page)


def test_a_page_refused_to_a_member_of_staff_is_found_in_their_organisations_log(hub):
    refused = _as(hub.practitioner).get(reverse("governance:audit"))
    assert refused.status_code == 403
    assert Client().get(reverse("governance:audit")).status_code == 302  # signed out: no entry
    [entry] = AuditEvent.objects.filter(action="http.refused")
    assert (entry.actor, entry.allowed, entry.reason) == (
        hub.practitioner,
        False,
        "GET /governance/audit/",
    )
    assert entry.actor_organisation == "University of Northbridge"  # fmt: skip
    found = _search(_as(hub.org_admin), reads_only="on").content.decode()
    assert "GET /governance/audit/" in found
    assert "Refused" in found


def test_a_check_that_stops_is_said_to_have_stopped_never_intact_and_frees_the_next(
    hub, trust_admin, monkeypatch, django_capture_on_commit_callbacks
):
    client = _as(trust_admin)

    def stops(*args, **kwargs):
        raise OSError("disk unreadable")

    monkeypatch.setattr("joinedup.audit.selectors.verify_audit_chain", stops)
    with django_capture_on_commit_callbacks(execute=True):  # the task fails; the page goes on
        client.post(reverse("governance:audit-verify"))
    page = client.get(reverse("governance:audit-verify")).content.decode()
    assert "data-chain-unfinished" in page
    assert "It stopped: could not finish: disk unreadable." in page
    assert "data-chain-intact" not in page
    # A worker that died leaves its check unfinished: after an hour it holds nothing up.
    monkeypatch.undo()
    ChainCheck.objects.all().delete()
    services.request_chain_check(actor=trust_admin)
    ChainCheck.objects.update(requested_at=timezone.now() - rules.CHAIN_CHECK_LASTS)
    assert (
        "data-chain-unfinished" in client.get(reverse("governance:audit-verify")).content.decode()
    )
    services.request_chain_check(actor=trust_admin)
    assert ChainCheck.objects.count() == 2


def test_an_action_is_said_in_words():
    assert rules.action_in_words("consent.break_glass.opened") == "Emergency override opened"
    assert rules.action_in_words("referrals.task.set") == "Task set"
    assert rules.action_in_words("record.read") == "Record opened"
    assert rules.action_in_words("governance.audit.searched") == "Audit log searched"
    assert rules.action_in_words("fhir.record.read") == "FHIR: Record opened"
    assert rules.action_in_words("http.refused") == "Page refused"


def test_an_override_reference_finds_what_was_done_under_it_and_only_that(hub, trust_admin, reads):
    access = hub.student.break_glass_uses.get()
    with time_machine.travel(access.expires_at + dt.timedelta(minutes=5)):  # after it ended
        append([Entry(action="record.read", actor=hub.crisis_practitioner, student=hub.student,
                      category="notes", allowed=True, basis="care_relationship",
                      actor_organisation="Northbridge NHS Trust")])  # fmt: skip
    review = _as(trust_admin).get(reverse("governance:overrides")).content.decode()
    assert f"?override={access.uuid}&amp;start=" in review
    found = _search(_as(trust_admin), override=str(access.uuid), start="2020-01-01")
    assert found.status_code == 200
    shown = found.content.decode()
    entries = set(found.context["page"].object_list)
    assert {e.action for e in entries} == {"consent.break_glass.opened", "record.read",
                                           "risk.assessment.recorded"}  # fmt: skip
    assert {e.actor for e in entries} == {hub.crisis_practitioner}
    assert all(e.at <= access.expires_at for e in entries)
    assert f"under emergency override {access.uuid}" in shown
    assert "Emergency override opened" in shown
    searched = AuditEvent.objects.filter(action="governance.audit.searched").last()
    assert f"override '{access.uuid}'" in searched.reason
    refused = _search(_as(hub.org_admin), override=str(access.uuid))  # the university's admin
    assert refused.status_code == 400
    assert "No emergency override with this reference" in refused.content.decode()
    typo = _search(_as(trust_admin), override="not-a-reference")
    assert "Enter the reference as the override" in typo.content.decode()
