"""Merging two records of one student: every row moves, nothing half done, the audit log
untouched and still resolving, refused in words when the two cannot be one person."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from conftest import PASSWORD, make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import accesses_to, verify_audit_chain
from joinedup.consent.models import CareRelationship, SharingRequest
from joinedup.consent.policy import decide, find_student, readable_students
from joinedup.consent.services import ask_to_share, open_care_relationship
from joinedup.fhir.models import ExternalIdentifier
from joinedup.people import merging
from joinedup.people.merging import HANDLING, MergeRefusedError, merge_students, relation_key
from joinedup.people.models import Role, Student, User
from joinedup.people.tests.factories import plant_everything
from joinedup.record.tests.factories import write_entry
from joinedup.reminders.models import ReminderPreference
from joinedup.risk import services as risk

MERGE = reverse("people:student-merge")


@pytest.fixture
def twins(hub):
    """One student registered twice at Northbridge: by Wellbeing with an NHS number, and by
    Counselling without one (a typo in the student number)."""
    kept = make_student(
        hub.university, "NB2000001", legal_given_name="Joanna", legal_family_name="Morgan",
        preferred_name="Jo", nhs_number="9434765919", email="jo@student.nb.ac.uk",
    )  # fmt: skip
    user = User.objects.create_user("jo.morgan@student.nb.ac.uk", PASSWORD)
    merged = make_student(
        hub.university, "NB2000010", legal_given_name="Joanna", legal_family_name="Morgan",
        preferred_name="", pronouns="she/her", phone="07700 900123", user=user,
        department=hub.history,
    )  # fmt: skip
    return kept, merged


def test_every_relation_to_a_student_is_handled_by_the_merge():
    """A new foreign key to Student fails here until `merging.HANDLING` says what a merge
    does with its rows (and `test_a_merge_moves_every_row` plants one)."""
    keys = {relation_key(r) for r in merging.student_relations()}
    missing = keys - set(HANDLING)
    assert not missing, f"Say in people/merging.py HANDLING how a merge treats: {missing}"
    assert not set(HANDLING) - keys, "HANDLING names a relation that no longer exists"


def test_every_unique_constraint_on_a_student_says_what_a_duplicate_does():
    for relation in merging.student_relations():
        handling = HANDLING[relation_key(relation)]
        if handling.how != "move":
            continue
        unique = merging._unique_sets(relation.related_model, relation.field.name)
        assert not unique or handling.duplicates, (
            f"{relation_key(relation)} is unique per student: say whether a duplicate folds "
            "or refuses the merge."
        )


def test_a_merge_moves_every_row(hub, twins):
    kept, merged = twins
    planted = plant_everything(hub, merged, tag="merged")
    write_entry(kept, "assessment", hub.wellbeing, hub.practitioner, title="Kept's own")
    earlier = make_student(hub.university, "NB2000099", legal_given_name="Joanna",
                           legal_family_name="Morgan")  # fmt: skip
    merge_students(actor=hub.org_admin, kept=merged, merged=earlier)
    moved = [key for key, h in HANDLING.items() if h.how == "move"]
    assert set(moved) - {"people.Student.merged_into"} <= set(planted), "plant one of each"

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    for relation in merging.student_relations():
        key = relation_key(relation)
        if HANDLING[key].how != "move":
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: merged.pk})
        assert not rows.exists(), f"{key} still names the merged record"
    for key, row in planted.items():
        if key == "feedback.AdvisoryGroup_members.student":
            assert kept in row.members.all()
        else:
            row.refresh_from_db()
            assert row.student_id == kept.pk, key
    assert kept.entries.count() == 2
    earlier.refresh_from_db()
    assert earlier.merged_into_id == kept.pk  # an earlier tombstone points to the one kept


def test_the_merged_record_stays_as_a_tombstone_and_its_audit_entries_resolve(hub, twins):
    kept, merged = twins
    decide(hub.practitioner, merged, "identity")  # an access the student will want to see
    open_care_relationship(student=merged, service=hub.counselling, reason="episode")
    decide(hub.counsellor, merged, "identity")
    before = list(AuditEvent.objects.filter(student=merged).values_list("seq", "hash"))

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    merged.refresh_from_db()
    assert merged.is_merged
    assert merged.merged_into == kept
    assert merged.merged_at is not None
    assert not Student.objects.filter(pk=merged.pk).exists()  # never listed or found
    assert Student.records.filter(pk=merged.pk).exists()
    # The audit log is not rewritten: its entries still name (and resolve to) the tombstone.
    after = list(
        AuditEvent.objects.filter(student=merged).exclude(action__startswith="people.student.")
    )
    assert [(e.seq, e.hash) for e in after] == before
    assert all(e.student.merged_into == kept for e in after)
    assert verify_audit_chain().broken is None
    # The student sees every access, to either record.
    assert {e.actor_id for e in accesses_to(kept)} >= {hub.counsellor.pk}


def test_a_merge_is_audited_on_both_records(hub, twins):
    kept, merged = twins
    plant_everything(hub, merged, tag="m")

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    on_kept = AuditEvent.objects.get(action="people.student.merged", student=kept)
    assert on_kept.actor == hub.org_admin
    assert on_kept.basis == "admin"
    assert "NB2000010" in on_kept.reason
    assert "1 record entries" in on_kept.reason
    on_merged = AuditEvent.objects.get(action="people.student.merged_away", student=merged)
    assert "NB2000001" in on_merged.reason
    assert on_kept.actor_organisation == "University of Northbridge"


def test_the_kept_record_takes_what_it_lacks_and_the_sign_in(hub, twins):
    kept, merged = twins
    merged.national_data_opt_out = True
    merged.save()

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    kept.refresh_from_db()
    assert kept.pronouns == "she/her"
    assert kept.phone == "07700 900123"
    assert kept.department == hub.history
    assert kept.preferred_name == "Jo"
    assert kept.email == "jo@student.nb.ac.uk"
    assert kept.nhs_number == "9434765919"
    assert kept.national_data_opt_out  # opted out on either record: opted out
    assert kept.user.email == "jo.morgan@student.nb.ac.uk"
    assert kept.user.student_record == kept


def test_when_both_records_have_a_sign_in_the_merged_ones_is_closed(hub, twins):
    kept, merged = twins
    kept.user = User.objects.create_user("jo2@student.nb.ac.uk", PASSWORD)
    kept.save()
    old = merged.user

    plan = merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    old.refresh_from_db()
    assert plan.account == "closed"
    assert not old.is_active
    assert not hasattr(old, "student_record") or old.student_record is None


def test_the_kept_record_is_read_with_both_records_care(hub, twins):
    kept, merged = twins
    open_care_relationship(student=merged, service=hub.counselling, reason="episode")
    assert not readable_students(hub.counsellor, "identity").filter(pk=kept.pk).exists()

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    assert readable_students(hub.counsellor, "identity").filter(pk=kept.pk).exists()
    # A link to the merged record opens the one kept.
    assert find_student(merged.uuid) == kept


def test_two_open_relationships_of_one_service_are_kept_and_reused(hub, twins):
    kept, merged = twins
    open_care_relationship(student=kept, service=hub.wellbeing, reason="episode")
    open_care_relationship(student=merged, service=hub.wellbeing, reason="episode")

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    assert CareRelationship.objects.open().filter(student=kept, service=hub.wellbeing).count() == 2
    again = open_care_relationship(student=kept, service=hub.wellbeing, reason="episode")
    assert again.student == kept  # reused, no error


def test_the_same_waiting_request_on_both_records_is_kept_once(hub, twins):
    kept, merged = twins
    for student in (kept, merged):
        open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
        ask_to_share(actor=hub.practitioner, student=student, category="risk")

    plan = merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    assert SharingRequest.objects.filter(student=kept).count() == 1
    assert next(m for m in plan.moves if m.key == "consent.SharingRequest.student").folded == 1


def test_the_kept_records_reminder_choice_stands_and_the_merged_ones_goes(hub, twins):
    kept, merged = twins
    ReminderPreference.objects.create(student=kept, channel="email")
    ReminderPreference.objects.create(student=merged, channel="none")

    merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    assert list(ReminderPreference.objects.values_list("student", "channel")) == [
        (kept.pk, "email")
    ]


def test_a_safety_plan_by_one_service_on_both_records_stops_the_merge(hub, twins):
    kept, merged = twins
    for student in (kept, merged):
        risk.save_safety_plan(
            actor=hub.practitioner, student=student, service=hub.wellbeing, warning_signs="S"
        )
    with pytest.raises(MergeRefusedError) as refused:
        merge_students(actor=hub.org_admin, kept=kept, merged=merged)
    assert "safety plan written by Wellbeing" in str(refused.value)
    merged.refresh_from_db()
    assert not merged.is_merged


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"nhs_number": "4857773120"}, "different NHS numbers (943 476 5919 and 485 777 3120)"),
        ({"university": "other"}, "different universities"),
    ],
)
def test_two_records_that_cannot_be_one_person_are_not_merged(hub, twins, change, words):
    kept, merged = twins
    if change.get("university"):
        merged.university = hub.other_university
        merged.save()
        make_staff("ola@sg.ac.uk", Role.ORG_ADMIN, hub.other_university)
        hub.org_admin.memberships.create(organisation=hub.other_university, role=Role.ORG_ADMIN)
    else:
        Student.objects.filter(pk=merged.pk).update(**change)
        merged.refresh_from_db()

    with pytest.raises(MergeRefusedError) as refused:
        merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    assert words in " ".join(refused.value.messages)
    assert not Student.records.get(pk=merged.pk).is_merged


def test_a_record_is_not_merged_with_itself(hub, twins):
    kept, _merged = twins
    with pytest.raises(MergeRefusedError, match="cannot be merged with itself"):
        merge_students(actor=hub.org_admin, kept=kept, merged=kept)


def test_only_an_admin_of_the_students_university_merges(hub, twins):
    kept, merged = twins
    elsewhere = make_staff("ola@sg.ac.uk", Role.ORG_ADMIN, hub.other_university)
    for actor in (hub.practitioner, elsewhere):
        with pytest.raises(PermissionDenied):
            merge_students(actor=actor, kept=kept, merged=merged)


def test_nothing_is_half_merged_when_a_step_fails(hub, twins, monkeypatch):
    kept, merged = twins
    planted = plant_everything(hub, merged, tag="m")

    def broken(kept, merged):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(merging, "_repoint_partner_identifiers", broken)
    with pytest.raises(RuntimeError):
        merge_students(actor=hub.org_admin, kept=kept, merged=merged)

    for key, row in planted.items():
        if key != "feedback.AdvisoryGroup_members.student":
            row.refresh_from_db()
            assert row.student_id == merged.pk, key
    assert not Student.records.get(pk=merged.pk).is_merged
    assert not AuditEvent.objects.filter(action__startswith="people.student.merged").exists()


def test_a_partner_systems_id_of_the_merged_patient_names_the_one_kept(hub, twins):
    kept, merged = twins
    ExternalIdentifier.objects.create(
        resource_type="Patient", system="https://epr.example/id", value="P1",
        target_uuid=merged.uuid,
    )  # fmt: skip
    merge_students(actor=hub.org_admin, kept=kept, merged=merged)
    assert ExternalIdentifier.objects.get(value="P1").target_uuid == kept.uuid


def test_the_merged_records_number_is_free_for_another_student(hub, twins):
    kept, merged = twins
    merge_students(actor=hub.org_admin, kept=kept, merged=merged)
    other = make_student(hub.university, "NB2000010", legal_given_name="Sam")
    other.full_clean()
    assert Student.objects.get(student_number="NB2000010") == other


# The page ----------------------------------------------------------------------------------


def _post(client, kept, merged, **extra):
    return client.post(MERGE, {"university": kept.university_id, "kept": kept.student_number,
                               "merged": merged.student_number, **extra})  # fmt: skip


def test_the_admin_compares_two_records_side_by_side_before_merging(hub, twins, client):
    kept, merged = twins
    plant_everything(hub, merged, tag="m")
    client.force_login(hub.org_admin)

    response = _post(client, kept, merged)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Check that these are one student" in html
    assert "NB2000001" in html
    assert "NB2000010" in html
    assert "Record entries" in html
    assert "Audit entries" in html
    assert "Merge these records" in html
    assert "Signs m" not in html
    assert "Assessment m" not in html
    assert not Student.records.get(pk=merged.pk).is_merged
    compared = AuditEvent.objects.filter(action="people.student.merge_compared")
    assert {e.student_id for e in compared} == {kept.pk, merged.pk}
    assert {e.basis for e in compared} == {"admin"}


def test_the_admin_confirms_and_the_records_are_merged(hub, twins, client):
    kept, merged = twins
    client.force_login(hub.org_admin)

    response = _post(client, kept, merged, confirm="yes")

    assert response.status_code == 302
    assert Student.records.get(pk=merged.pk).merged_into == kept
    page = client.get(response["Location"]).content.decode()
    assert "Record NB2000010 is now part of NB2000001" in page


@pytest.mark.parametrize(
    ("kept", "merged", "field", "message"),
    [
        ("NB2000001", "NB2000001", "merged", "A record cannot be merged with itself."),
        ("NB2000001", "NB9999999", "merged", "No record has the student number NB9999999"),
        ("", "NB2000010", "kept", "Enter the student number of the record to keep."),
    ],
)
def test_a_merge_that_cannot_be_says_why_beside_the_field(
    hub, twins, client, kept, merged, field, message
):
    client.force_login(hub.org_admin)
    response = client.post(MERGE, {"university": hub.university.pk, "kept": kept, "merged": merged})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert f'value="{merged}"' in html  # what was typed stays
    assert not Student.records.filter(merged_into__isnull=False).exists()


def test_different_nhs_numbers_are_refused_beside_the_field(hub, twins, client):
    kept, merged = twins
    Student.objects.filter(pk=merged.pk).update(nhs_number="4857773120")
    client.force_login(hub.org_admin)
    html = _post(client, kept, merged, confirm="yes").content.decode()
    assert 'id="id_merged_error"' in html
    assert "different NHS numbers" in html
    assert "Merge these records" not in html
    assert not Student.records.get(pk=merged.pk).is_merged


def test_an_admin_of_another_university_finds_no_record_of_ours(hub, twins, client):
    _kept, _merged = twins
    elsewhere = make_staff("ola@sg.ac.uk", Role.ORG_ADMIN, hub.other_university)
    client.force_login(elsewhere)
    missing = client.post(MERGE, {"university": hub.other_university.pk, "kept": "NB0000000",
                                  "merged": "NB0000001"}).content.decode()  # fmt: skip
    ours = client.post(MERGE, {"university": hub.other_university.pk, "kept": "NB2000001",
                               "merged": "NB2000010"}).content.decode()  # fmt: skip
    assert "Joanna" not in ours
    assert "Check that these are one student" not in ours

    def said(html, kept, merged):
        html = re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf token>", html)
        return html.replace(kept, "<kept>").replace(merged, "<merged>")

    assert said(ours, "NB2000001", "NB2000010") == said(missing, "NB0000000", "NB0000001")
    # Their own university is the only one they may choose.
    refused = client.post(MERGE, {"university": hub.university.pk, "kept": "NB2000001",
                                  "merged": "NB2000010"})  # fmt: skip
    assert "Joanna" not in refused.content.decode()


@pytest.mark.parametrize("who", ["practitioner", "outsider", "academic", "student_user"])
def test_only_organisation_admins_open_the_merge_page(hub, client, who):
    client.force_login(getattr(hub, who))
    assert client.get(MERGE).status_code == 403
    assert client.post(MERGE, {"kept": "NB1000001", "merged": "NB1000001"}).status_code == 403
