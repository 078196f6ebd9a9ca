"""Recording questionnaires, completion links and risk signals."""

import datetime as dt
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.measures.models import Administration, CompletionLink
from joinedup.measures.services import (
    complete_from_link,
    link_from_token,
    send_completion_link,
)
from joinedup.measures.tests.factories import PHQ9_ITEM9, PHQ9_MODERATE, record, start_episode
from joinedup.risk.models import Flag


@pytest.fixture
def episode(hub):
    return start_episode(hub)


def test_recording_stores_each_answer_and_the_computed_scores(hub, episode):
    administration = record(episode, hub.practitioner)
    assert sorted(administration.answers.values_list("item", "value")) == list(
        enumerate(PHQ9_MODERATE, 1)
    )
    assert (administration.total, administration.band, administration.is_case) == (
        10,
        "moderate",
        True,
    )
    assert administration.recorded_by == hub.practitioner
    event = AuditEvent.objects.filter(action="measures.administration.recorded").get()
    assert (event.category, event.student_id, event.actor_service) == (
        "outcomes",
        hub.student.pk,
        "Wellbeing",
    )


def test_unanswered_items_are_not_stored_and_a_prorated_total_is_flagged(hub, episode):
    administration = record(episode, hub.practitioner, answers=[2, 1, None, 1, 2, 1, 1, 1, 0])
    assert administration.answers.count() == 8
    assert administration.is_prorated
    assert administration.total == pytest.approx(9 / 8 * 9)


def test_an_answer_out_of_range_is_refused_naming_the_item_and_saves_nothing(hub, episode):
    with pytest.raises(ValueError, match="item 3"):
        record(episode, hub.practitioner, answers=[0, 0, 7, 0, 0, 0, 0, 0, 0])
    assert not Administration.objects.exists()


def test_a_measure_cannot_be_recorded_twice_for_one_session(hub, episode):
    record(episode, hub.practitioner)
    with pytest.raises(ValidationError, match="already been recorded for session 1"):
        record(episode, hub.practitioner)
    assert Administration.objects.count() == 1


def test_a_positive_item_9_raises_a_flag_for_every_service_in_the_students_care(
    hub, episode, mailoutbox, django_capture_on_commit_callbacks
):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    with django_capture_on_commit_callbacks(execute=True):
        administration = record(episode, hub.practitioner, answers=PHQ9_ITEM9)
    flag = Flag.objects.get()
    assert (flag.administration, flag.source, flag.level.name) == (
        administration,
        "questionnaire",
        "High",
    )
    assert flag.reason == "PHQ-9 risk item 9 answered above zero"
    assert flag.due_at - flag.raised_at == dt.timedelta(hours=24)
    recipients = {address for mail in mailoutbox for address in mail.to}
    assert {hub.practitioner.email, hub.crisis_practitioner.email} <= recipients
    for mail in mailoutbox:
        # No clinical content leaves by email: no measure, item, score or name.
        assert "PHQ" not in mail.body
        assert "item" not in mail.body
        assert hub.student.preferred_name not in mail.body


def test_no_flag_without_a_positive_risk_item(
    hub, episode, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(episode, hub.practitioner, answers=[3, 3, 3, 3, 3, 3, 3, 3, None])
    assert not Flag.objects.exists()
    assert mailoutbox == []


def test_a_link_is_emailed_to_the_student_and_works_once(
    hub, episode, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        token = send_completion_link(
            actor=hub.practitioner, episode=episode, session_number=2, codes=["PHQ-9", "GAD-7"]
        )
    assert len(mailoutbox) == 1
    assert token in mailoutbox[0].body
    link = link_from_token(token)
    recorded = complete_from_link(
        link=link, answers_by_code={"PHQ-9": PHQ9_MODERATE, "GAD-7": [1] * 7}
    )
    assert [(a.code, a.session_number, a.method) for a in recorded] == [
        ("PHQ-9", 2, "link"),
        ("GAD-7", 2, "link"),
    ]
    assert recorded[0].recorded_by == hub.student_user
    with pytest.raises(ValidationError, match="already been used"):
        complete_from_link(link=link, answers_by_code={"PHQ-9": PHQ9_MODERATE, "GAD-7": [1] * 7})
    assert Administration.objects.count() == 2


def test_an_expired_link_records_nothing(hub, episode):
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["GAD-7"]
    )
    link = link_from_token(token)
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert not link.is_usable()
        with pytest.raises(ValidationError):
            complete_from_link(link=link, answers_by_code={"GAD-7": [1] * 7})
    assert not Administration.objects.exists()


def test_a_tampered_token_names_no_link(hub, episode):
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["GAD-7"]
    )
    assert link_from_token(token[:-2] + "xx") is None
    assert CompletionLink.objects.count() == 1


def test_a_link_needs_a_questionnaire(hub, episode):
    with pytest.raises(ValidationError, match="at least one"):
        send_completion_link(actor=hub.practitioner, episode=episode, session_number=1, codes=[])
