import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from nhs_number import is_valid
from playwright.sync_api import expect

from conftest import SignedInClient, make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.conftest import accessible_at_both_sizes, login, open_from_menu
from joinedup.consent.services import open_care_relationship
from joinedup.governance import optouts, rules
from joinedup.governance.models import OptOutCheck
from joinedup.people.models import Role

# Valid NHS numbers (their check digits hold): the trust's patients.
STAYS, LEAVES, THIRD = "9434765919", "9078685875", "9069235056"


@pytest.fixture
def trust_admin(hub):
    return make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)


@pytest.fixture
def patients(hub):
    found = []
    for number, nhs in enumerate((STAYS, LEAVES, THIRD)):
        student = make_student(hub.university, f"NB30{number}", nhs_number=nhs)
        open_care_relationship(student=student, service=hub.crisis, reason="referral")
        found.append(student)
    return found


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def _upload(client, hub, text: str, **more):
    return client.post(reverse("governance:opt-outs"), {
        "organisation": hub.trust.uuid, "do": "import",
        "file": SimpleUploadedFile("answer.dat", text.encode()), **more,
    })  # fmt: skip


def test_the_returned_file_is_read_line_by_line_and_each_bad_line_named():
    read = rules.read_returned_list(f"{STAYS},\n\n {THIRD} \n", is_valid)
    assert read.numbers == {STAYS, THIRD}
    assert read.problems == []
    bad = rules.read_returned_list(f"{STAYS},\n943476591\n9434765918,\nabc\n", is_valid)
    assert bad.numbers == {STAYS}
    assert [p.split(":")[0] for p in bad.problems] == ["Line 2", "Line 3", "Line 4"]


def test_an_nhs_admin_checks_their_patients_and_imports_the_answer(hub, trust_admin, patients):
    client = _as(trust_admin)
    client.post(reverse("governance:opt-outs"), {"organisation": hub.trust.uuid, "do": "start"})
    check = OptOutCheck.objects.get()
    assert check.numbers == sorted([STAYS, LEAVES, THIRD])
    sent = client.get(reverse("governance:opt-out-sent", args=[check.uuid]))
    assert sent.content.decode() == "".join(f"{n},\n" for n in sorted([STAYS, LEAVES, THIRD]))
    # The service returns those who may be used: LEAVES has opted out.
    done = _upload(client, hub, f"{STAYS},\n{THIRD},\n")
    assert done.status_code == 302
    check.refresh_from_db()
    assert check.opted_out == [LEAVES]
    assert check.expires_at - check.returned_at == rules.OPT_OUT_CHECK_LASTS
    assert optouts.national_opt_outs().numbers == {LEAVES}
    page = client.get(reverse("governance:opt-outs")).content.decode()
    assert "1 of 3 patients has opted out" in page
    later = timezone.now() + rules.OPT_OUT_CHECK_LASTS + dt.timedelta(minutes=1)
    assert optouts.national_opt_outs(now=later).numbers == frozenset()
    assert optouts.national_opt_outs(now=later).missing == ["Northbridge NHS Trust"]
    assert set(AuditEvent.objects.filter(action__startswith="governance.opt_out.")
               .values_list("action", flat=True)) == {
        "governance.opt_out.check_sent", "governance.opt_out.numbers_downloaded",
        "governance.opt_out.answer_imported"}  # fmt: skip
    for student in patients:  # nothing is written on the record
        student.refresh_from_db()
        assert not student.national_data_opt_out


def test_a_bad_answer_file_imports_nothing_and_names_each_problem(hub, trust_admin, patients):
    client = _as(trust_admin)
    client.post(reverse("governance:opt-outs"), {"organisation": hub.trust.uuid, "do": "start"})
    bad = _upload(client, hub, f"{STAYS},\n94347659,\nnot a number\n")
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Line 2: “94347659,”" not in text  # the comma is not part of the number
    assert "Line 2: “94347659” is not a valid NHS number." in text
    assert "Line 3: “not a number” is not a valid NHS number." in text
    unsent = _upload(client, hub, f"{STAYS},\n9692713407,\n")
    assert "1 NHS number was not in the list sent (9692713407)" in unsent.content.decode()
    empty = _upload(client, hub, "\n\n")
    assert "holds no NHS numbers" in empty.content.decode()
    nothing = _upload(client, hub, "")
    assert "tick the box below and import it again" in nothing.content.decode()
    contradiction = _upload(client, hub, f"{STAYS},\n", everyone_opted_out="on")
    assert "not everyone opted out" in contradiction.content.decode()
    assert OptOutCheck.objects.get().returned_at is None
    # Said so, an empty answer means everyone checked has opted out.
    _upload(client, hub, "", everyone_opted_out="on")
    assert OptOutCheck.objects.get().opted_out == sorted([STAYS, LEAVES, THIRD])


def test_students_own_choices_are_exported_for_the_partner(hub, trust_admin, patients):
    patients[2].national_data_opt_out = True
    patients[2].save()
    url = reverse("governance:opt-out-choices", args=[hub.trust.uuid])
    rows = list(csv.reader(io.StringIO(_as(trust_admin).get(url).content.decode())))
    assert rows == [["nhs_number"], [THIRD]]
    assert AuditEvent.objects.filter(action="governance.opt_out.choices_exported").exists()
    assert _as(hub.org_admin).get(url).status_code == 404


def test_a_university_admin_is_told_the_nhs_partners_check(hub, trust_admin, patients):
    page = _as(hub.org_admin).get(reverse("governance:opt-outs")).content.decode()
    assert "data-no-nhs-organisation" in page
    check = optouts.start_check(actor=trust_admin, organisation=hub.trust)
    assert _as(hub.org_admin).get(
        reverse("governance:opt-out-sent", args=[check.uuid])).status_code == 404  # fmt: skip


@pytest.mark.browser
def test_an_nhs_admin_runs_a_national_opt_out_check(hub, trust_admin, patients, page, tmp_path):
    login(page, trust_admin)
    open_from_menu(page, "National data opt-out")
    expect(page.locator('[data-opt-out-status="Northbridge NHS Trust"]')).to_contain_text(
        "Never checked"
    )
    accessible_at_both_sizes(page)
    page.get_by_role("button", name="Start a new check").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the NHS numbers to send").click()
    sent = tmp_path / "sent.dat"
    download.value.save_as(sent)
    answer = tmp_path / "answer.dat"
    answer.write_text("".join(line for line in sent.read_text().splitlines(keepends=True)
                              if LEAVES not in line))  # fmt: skip
    page.get_by_label("The file the service returned").set_input_files(answer)
    page.get_by_role("button", name="Import the answer").click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 1 of 3 patients have opted out")
    expect(page.locator('[data-opt-out-status="Northbridge NHS Trust"]')).to_contain_text("Current")
    accessible_at_both_sizes(page)
