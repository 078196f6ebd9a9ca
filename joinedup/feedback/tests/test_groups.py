"""Student advisory groups: open to students, run by managers, drafts commented on by members."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import make_student
from joinedup.feedback import services
from joinedup.feedback.models import AdvisoryGroup, Draft, DraftComment, Meeting


@pytest.fixture
def group(hub):
    return AdvisoryGroup.objects.create(
        organisation=hub.university, service=hub.wellbeing, name="Wellbeing voices",
        purpose="Shape how the wellbeing service works.",
    )  # fmt: skip


def _draft(group, closes_in_days=7):
    return Draft.objects.create(
        group=group,
        title="Drop-in hours move to the afternoon",
        body="From January, drop-in runs 1pm to 5pm.",
        comments_close_on=timezone.localdate() + dt.timedelta(days=closes_in_days),
    )


def test_a_manager_builds_the_group_and_students_see_it(client, hub, group):
    client.force_login(hub.service_manager)
    url = lambda part: reverse("feedback:group-add", args=[group.uuid, part])  # noqa: E731
    client.post(url("member"), {"member-student_number": hub.student.student_number.lower()})
    client.post(
        url("meeting"),
        {"meeting-held_on": "2026-11-02", "meeting-agenda": "Drop-in hours",
         "meeting-minutes": "Agreed to ask members about afternoons."},
    )  # fmt: skip
    client.post(
        url("action"),
        {"action-description": "Survey members on hours", "action-owner": "Sam (manager)"},
    )
    client.post(
        url("decision"), {"decision-text": "Pilot afternoons", "decision-decided_on": "2026-11-02"}
    )
    bad = client.post(url("meeting"), {"meeting-agenda": "No date"})
    assert bad.status_code == 400
    assert Meeting.objects.count() == 1
    assert list(group.members.all()) == [hub.student]

    client.force_login(hub.student_user)
    page = client.get(reverse("feedback:group", args=[group.uuid])).content.decode()
    for text in ("Drop-in hours", "Agreed to ask members", "Survey members on hours",
                 "Pilot afternoons", "You are a member"):  # fmt: skip
        assert text in page
    assert hub.student.student_number not in page  # the member list is for managers
    assert client.post(url("decision"), {"decision-text": "x"}).status_code == 403


def test_an_unknown_student_number_is_explained(hub, group):
    with pytest.raises(ValidationError, match="No student of University of Northbridge"):
        services.add_member(actor=hub.service_manager, group=group, student_number="NB9")
    other = make_student(hub.other_university, "SG1")
    with pytest.raises(ValidationError):
        services.add_member(actor=hub.service_manager, group=group, student_number="SG1")
    assert not group.members.filter(pk=other.pk).exists()


def test_members_comment_on_drafts_until_they_close(hub, group):
    draft = _draft(group)
    with pytest.raises(PermissionDenied):
        services.comment_on_draft(student=hub.student, draft=draft, text="Not a member yet")
    group.members.add(hub.student)
    services.comment_on_draft(student=hub.student, draft=draft, text="Afternoons suit me")
    with pytest.raises(ValidationError, match="Write a comment"):
        services.comment_on_draft(student=hub.student, draft=draft, text="  ")
    closed = _draft(group, closes_in_days=-1)
    with pytest.raises(ValidationError, match="closed"):
        services.comment_on_draft(student=hub.student, draft=closed, text="Too late")
    assert DraftComment.objects.count() == 1


def test_the_draft_page_shows_comments_to_managers_and_own_to_members(client, hub, group):
    draft = _draft(group)
    group.members.add(hub.student)
    client.force_login(hub.student_user)
    response = client.post(reverse("feedback:draft", args=[draft.uuid]), {"text": "Good idea"})
    assert response.status_code == 302
    empty = client.post(reverse("feedback:draft", args=[draft.uuid]), {"text": ""})
    assert empty.status_code == 400
    client.force_login(hub.service_manager)
    page = client.get(reverse("feedback:draft", args=[draft.uuid])).content.decode()
    assert "Good idea" in page
    assert hub.student.display_name not in page  # a manager's role reads no names
    assert "A member whose name is not shared with you" in page
    _also_practitioner(hub)
    page = client.get(reverse("feedback:draft", args=[draft.uuid])).content.decode()
    assert hub.student.display_name in page


def test_groups_of_another_university_are_hidden(client, hub, group):
    outsider = make_student(hub.other_university, "SG2", user=None)
    assert outsider.university != group.organisation
    client.force_login(hub.outsider)
    assert client.get(reverse("feedback:group", args=[group.uuid])).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_draft_of_another_university_is_missing_not_forbidden(client, hub, group, method):
    client.force_login(hub.outsider)
    send = getattr(client, method)

    real = send(reverse("feedback:draft", args=[_draft(group).uuid]))
    missing = send(reverse("feedback:draft", args=[uuid.uuid4()]))

    assert (real.status_code, missing.status_code) == (404, 404)


def test_a_manager_creates_a_group(client, hub):
    client.force_login(hub.service_manager)
    refused = client.post(reverse("feedback:groups"), {"name": "No scope", "purpose": "x"})
    assert refused.status_code == 400
    response = client.post(
        reverse("feedback:groups"),
        {"scope": f"s{hub.wellbeing.pk}", "name": "Voices", "purpose": "Advise us"},
    )
    group = AdvisoryGroup.objects.get()
    assert response.url == reverse("feedback:group", args=[group.uuid])
    assert group.service == hub.wellbeing
    client.force_login(hub.student_user)
    assert client.post(reverse("feedback:groups"), {"name": "x"}).status_code == 403


def _also_practitioner(hub):
    """The manager also works as a practitioner in Wellbeing, which is in the student's care."""
    from joinedup.people.models import Membership

    Membership.objects.create(
        user=hub.service_manager, organisation=hub.university, service=hub.wellbeing,
        role="practitioner",
    )  # fmt: skip


def test_a_manager_reads_member_names_only_where_the_policy_allows(client, hub, group):
    from joinedup.audit.models import AuditEvent

    group.members.add(hub.student)
    client.force_login(hub.service_manager)
    url = reverse("feedback:group", args=[group.uuid])
    page = client.get(url).content.decode()
    assert hub.student.display_name not in page
    assert hub.student.student_number not in page
    assert "A member whose name is not shared with you" in page
    reads = AuditEvent.objects.filter(action="feedback.group.names_read", student=hub.student)
    assert [(e.allowed, e.basis, e.category) for e in reads] == [(False, "none", "identity")]

    _also_practitioner(hub)
    page = client.get(url).content.decode()
    assert f"{hub.student.display_name} ({hub.student.student_number})" in page
    assert [(e.allowed, e.basis) for e in reads.order_by("seq")] == [
        (False, "none"),
        (True, "relationship"),
    ]


def test_reading_comments_audits_the_basis_the_policy_decides(client, hub, group):
    from joinedup.audit.models import AuditEvent

    group.members.add(hub.student)
    draft = _draft(group)
    services.comment_on_draft(student=hub.student, draft=draft, text="Fine by me")
    _also_practitioner(hub)
    client.force_login(hub.service_manager)
    client.get(reverse("feedback:group", args=[group.uuid]))
    client.get(reverse("feedback:draft", args=[draft.uuid]))
    reads = AuditEvent.objects.filter(action="feedback.group.names_read", student=hub.student)
    assert {(e.allowed, e.basis, e.category) for e in reads} == {(True, "relationship", "identity")}
    assert reads.count() == 2
    client.force_login(hub.student_user)
    client.get(reverse("feedback:group", args=[group.uuid]))
    assert reads.count() == 2  # a member sees no member list, so nothing is read


def test_adding_a_member_names_them_only_to_whom_the_policy_allows(client, hub, group):
    client.force_login(hub.service_manager)
    add = reverse("feedback:group-add", args=[group.uuid, "member"])
    page = client.post(add, {"member-student_number": "nb1000001"}, follow=True)
    html = page.content.decode()
    assert "The student with the number nb1000001 joined the group." in html
    assert hub.student.display_name not in html
    assert list(group.members.all()) == [hub.student]
