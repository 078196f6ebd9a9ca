"""Feedback after an episode: anonymity, themes, and the "you said, we did" loop."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.feedback import services
from joinedup.feedback.models import (
    Action,
    Feedback,
    InvitationUsed,
    Theme,
)
from joinedup.feedback.selectors import open_invitations
from joinedup.people.models import Notification, Role
from joinedup.portal.exports import subject_access
from joinedup.referrals.models import Episode


def _ended_episode(student, service, days_ago=3):
    relationship = open_care_relationship(student=student, service=service, reason="episode")
    ended = timezone.now() - dt.timedelta(days=days_ago)
    return Episode.objects.create(
        student=student,
        service=service,
        relationship=relationship,
        started_at=ended - dt.timedelta(days=60),
        ended_at=ended,
        ending=Episode.Ending.PLANNED,
    )


def _give(student, episode, *, anonymous=False, comment="The waiting was too long.", **ratings):
    return services.give_feedback(
        student=student,
        episode_uuid=episode.uuid,
        anonymous=anonymous,
        answers=services.Answers(comment=comment, **ratings),
    )


@pytest.fixture
def ended(hub):
    return _ended_episode(hub.student, hub.wellbeing)


def test_an_ended_episode_invites_feedback_once(hub, ended):
    assert list(open_invitations(hub.student)) == [ended]
    _give(hub.student, ended, overall=4)
    assert list(open_invitations(hub.student)) == []
    with pytest.raises(ValidationError, match="not open"):
        _give(hub.student, ended, overall=4)
    assert Feedback.objects.count() == 1


def test_old_and_open_episodes_invite_nothing(hub):
    _ended_episode(hub.student, hub.counselling, days_ago=120)
    relationship = open_care_relationship(student=hub.student, service=hub.talking, reason="x")
    Episode.objects.create(student=hub.student, service=hub.talking, relationship=relationship)
    assert list(open_invitations(hub.student)) == []


def test_anonymous_feedback_keeps_no_link_to_the_student(hub, ended):
    feedback = _give(hub.student, ended, anonymous=True, overall=2)
    feedback.refresh_from_db()
    assert feedback.student_id is None
    assert feedback.episode_id is None
    assert feedback.given_in == timezone.localdate().replace(day=1)
    used = InvitationUsed.objects.get()
    assert [f.name for f in used._meta.get_fields()] == ["episode"]  # no time, no feedback
    assert not AuditEvent.objects.filter(reason=str(feedback.uuid)).exists()


def test_anonymous_feedback_is_not_in_the_students_subject_access_export(hub, ended):
    _give(hub.student, ended, anonymous=True, comment="A secret comment")
    other = _ended_episode(hub.student, hub.counselling)
    _give(hub.student, other, comment="A named comment")
    exported = json.dumps(subject_access(hub.student))
    assert "A named comment" in exported
    assert "A secret comment" not in exported


def test_empty_and_oversized_feedback_is_refused_and_nothing_saved(hub, ended):
    with pytest.raises(ValidationError, match="at least one question"):
        _give(hub.student, ended, comment="   ")
    with pytest.raises(ValidationError, match="2,001 characters"):
        _give(hub.student, ended, comment="x" * 2001)
    assert not Feedback.objects.exists()
    assert not InvitationUsed.objects.exists()


def test_the_database_refuses_anonymous_feedback_with_a_student(hub, ended):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Feedback.objects.create(
            service=hub.wellbeing,
            anonymous=True,
            student=hub.student,
            given_in=timezone.localdate(),
        )


def test_staff_see_anonymous_feedback_without_a_name(client, hub, ended):
    named_student = make_student(hub.university, "NB1000002")
    _give(hub.student, ended, anonymous=True, comment="Anonymous words")
    _give(named_student, _ended_episode(named_student, hub.wellbeing), comment="Named words")
    client.force_login(hub.practitioner)
    page = client.get(reverse("feedback:list")).content.decode()
    assert "Anonymous words" in page
    assert "Named words" in page
    assert hub.student.display_name not in page
    assert hub.student.student_number not in page
    assert named_student.display_name in page


def test_feedback_is_read_only_by_staff_of_the_service(client, hub, ended):
    feedback = _give(hub.student, ended, comment="For wellbeing only")
    client.force_login(hub.counsellor)
    assert "For wellbeing only" not in client.get(reverse("feedback:list")).content.decode()
    with pytest.raises(PermissionDenied):
        services.tag_feedback(actor=hub.counsellor, feedback=feedback, theme_ids=[])
    client.force_login(hub.academic)
    assert client.get(reverse("feedback:list")).status_code == 403


def test_staff_tag_feedback_with_new_and_existing_themes(hub, ended):
    feedback = _give(hub.student, ended)
    existing = Theme.objects.create(service=hub.wellbeing, name="Waiting times")
    themes = services.tag_feedback(
        actor=hub.practitioner,
        feedback=feedback,
        theme_ids=[existing.pk],
        new_themes=[" Evening  slots", "waiting times", ""],
    )
    assert sorted(t.name for t in themes) == ["Evening slots", "Waiting times"]
    assert Theme.objects.count() == 2
    counselling_theme = Theme.objects.create(service=hub.counselling, name="Rooms")
    with pytest.raises(ValidationError, match="Wellbeing only"):
        services.tag_feedback(
            actor=hub.practitioner, feedback=feedback, theme_ids=[counselling_theme.pk]
        )
    assert set(feedback.themes.values_list("name", flat=True)) == {
        "Evening slots",
        "Waiting times",
    }


def _action(hub, themes):
    return services.create_action(
        actor=hub.service_manager,
        organisation=hub.university,
        service=hub.wellbeing,
        title="Evening appointments on Tuesdays",
        description="",
        themes=themes,
    )


def test_a_status_change_tells_named_students_who_raised_the_theme(
    hub, ended, django_capture_on_commit_callbacks
):
    theme = Theme.objects.create(service=hub.wellbeing, name="Evening slots")
    named = _give(hub.student, ended)
    named.themes.add(theme)
    anonymous_student = make_student(hub.university, "NB1000003", email="anon@student.nb.ac.uk")
    anonymous = _give(
        anonymous_student, _ended_episode(anonymous_student, hub.wellbeing), anonymous=True
    )
    anonymous.themes.add(theme)
    untagged_student = make_student(hub.university, "NB1000004")
    _give(untagged_student, _ended_episode(untagged_student, hub.wellbeing))
    action = _action(hub, [theme])
    with django_capture_on_commit_callbacks(execute=True):
        services.change_action_status(
            actor=hub.service_manager, action=action, status=Action.Status.IN_PROGRESS
        )
    told = Notification.objects.get()
    assert told.student == hub.student
    assert "Evening appointments on Tuesdays" in told.text
    assert "in progress" in told.text
    assert [m.to for m in mail.outbox] == [["alex@student.nb.ac.uk"]]
    assert not Notification.objects.filter(student=anonymous_student).exists()
    assert [u.status for u in action.updates.all()] == ["in_progress", "planned"]


def test_only_managers_move_actions_and_a_same_status_is_refused(hub, ended):
    theme = Theme.objects.create(service=hub.wellbeing, name="Evening slots")
    with pytest.raises(PermissionDenied):
        services.create_action(
            actor=hub.practitioner,
            organisation=hub.university,
            service=hub.wellbeing,
            title="x",
            description="",
            themes=[theme],
        )
    action = _action(hub, [theme])
    with pytest.raises(ValidationError, match="already"):
        services.change_action_status(actor=hub.service_manager, action=action, status="planned")
    with pytest.raises(ValidationError, match="status"):
        services.change_action_status(actor=hub.service_manager, action=action, status="nope")
    with pytest.raises(PermissionDenied):
        services.change_action_status(actor=hub.practitioner, action=action, status="done")


def test_an_action_needs_a_theme_of_its_own_service(hub):
    rooms = Theme.objects.create(service=hub.counselling, name="Rooms")
    with pytest.raises(ValidationError, match="at least one theme"):
        _action(hub, [])
    with pytest.raises(ValidationError, match="at least one theme"):
        _action(hub, [rooms])
    assert not Action.objects.exists()


def test_you_said_we_did_is_published_without_names(client, hub, ended):
    theme = Theme.objects.create(service=hub.wellbeing, name="Evening slots")
    _give(hub.student, ended).themes.add(theme)
    _action(hub, [theme])
    client.force_login(hub.student_user)
    page = client.get(reverse("feedback:you-said-we-did")).content.decode()
    assert "Evening appointments on Tuesdays" in page
    assert "Evening slots" in page
    assert hub.student.display_name not in page


def test_the_student_gives_feedback_through_the_form(client, hub, ended):
    client.force_login(hub.student_user)
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("feedback:give", args=[ended.uuid]) in home
    url = reverse("feedback:give", args=[ended.uuid])
    empty = client.post(url, {"anonymous": "no"})
    assert empty.status_code == 400
    assert "Answer at least one question" in empty.content.decode()
    missing = client.post(url, {"overall": "5"})
    assert missing.status_code == 400
    assert "Say whether to put your name" in (missing.content.decode())
    too_long = client.post(url, {"anonymous": "no", "comment": "x" * 2001})
    assert too_long.status_code == 400
    assert "the most we can take is 2000" in (too_long.content.decode())
    assert not Feedback.objects.exists()
    sent = client.post(url, {"anonymous": "yes", "overall": "5", "comment": "Kind staff"})
    assert sent.status_code == 302
    assert Feedback.objects.get().comment == "Kind staff"
    assert client.get(url).status_code == 302  # answered: no second go


def test_manager_pages_publish_and_move_an_action(client, hub, ended):
    theme = Theme.objects.create(service=hub.wellbeing, name="Evening slots")
    _give(hub.student, ended).themes.add(theme)
    client.force_login(hub.service_manager)
    response = client.post(
        reverse("feedback:actions"),
        {"scope": f"s{hub.wellbeing.pk}", "title": "Later opening", "themes": [theme.pk]},
    )
    action = Action.objects.get()
    assert response.url == reverse("feedback:action", args=[action.uuid])
    client.post(response.url, {"status": "done", "note": "Open till 8pm"})
    action.refresh_from_db()
    assert action.status == "done"
    assert Notification.objects.filter(student=hub.student).count() == 1
    client.force_login(hub.practitioner)
    assert client.get(reverse("feedback:actions")).status_code == 403


def test_an_organisation_wide_manager_sees_every_service(hub, ended):
    from joinedup.feedback.selectors import feedback_services_of

    head = make_staff("head@nb.ac.uk", Role.SERVICE_MANAGER, hub.university)
    assert set(feedback_services_of(head)) == {hub.wellbeing, hub.counselling}


def test_anonymous_feedback_reaches_no_api_or_fhir_view_of_the_student(client, hub, ended):
    from joinedup.fhir.selectors import student_bundle

    _give(hub.student, ended, anonymous=True, comment="Nobody may link this")
    bundle = json.dumps(student_bundle(hub.student_user, hub.student))
    assert "Nobody may link this" not in bundle
    client.force_login(hub.practitioner)
    api = client.get(f"/api/students/{hub.student.uuid}")
    assert api.status_code == 200
    assert "Nobody may link this" not in api.content.decode()
    staff_page = client.get(reverse("feedback:list")).content.decode()
    assert "Nobody may link this" in staff_page
    assert hub.student.display_name not in staff_page


def test_tagging_never_redirects_off_the_site(client, hub, ended):
    feedback = _give(hub.student, ended)
    client.force_login(hub.practitioner)
    url = reverse("feedback:tag", args=[feedback.uuid])
    away = client.post(url, {"next": "https://evil.example/"})
    assert away.url == reverse("feedback:list")
    home = client.post(url, {"next": "/feedback/?service=1"})
    assert home.url == "/feedback/?service=1"
