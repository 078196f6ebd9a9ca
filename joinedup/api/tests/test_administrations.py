"""Questionnaires through the API: scored here from the answers, read through the policy."""

import datetime as dt

import pytest
from django.utils import timezone

from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.measures.models import Administration
from joinedup.measures.tests.factories import PHQ9_ITEM9, PHQ9_MODERATE, record, start_episode
from joinedup.risk.models import Flag


@pytest.fixture
def episode(hub):
    return start_episode(hub)


def body(episode, **fields):
    return {
        "episode": str(episode.uuid),
        "code": "PHQ-9",
        "session_number": 1,
        "completed_on": timezone.localdate().isoformat(),
        "answers": PHQ9_MODERATE,
        **fields,
    }


def test_a_questionnaire_is_scored_here_and_a_sent_total_is_ignored(hub, episode, wellbeing_api):
    response = wellbeing_api.post("/administrations", body(episode, total=0, band="minimal"))
    assert response.status_code == 201, response.content
    saved = Administration.objects.get()
    assert (saved.total, saved.band, saved.is_case) == (10.0, "moderate", True)
    out = response.json()
    assert (out["total"], out["band"], out["method"]) == (10.0, "moderate", "in_session")
    assert [a["value"] for a in out["answers"]] == PHQ9_MODERATE
    assert AuditEvent.objects.filter(action="measures.administration.recorded").exists()


def test_a_positive_risk_item_raises_a_flag(hub, episode, wellbeing_api):
    wellbeing_api.post("/administrations", body(episode, answers=PHQ9_ITEM9))
    assert Flag.objects.get().source == "questionnaire"


@pytest.mark.parametrize(
    ("answers", "field", "words"),
    [
        ([1, 2, 3], "answers", "PHQ-9 has 9 items"),
        ([7, 1, 1, 1, 2, 1, 1, 1, 0], "answers", "PHQ-9 item 1: 7 is not one of 0–3"),
        ([None] * 9, "detail", "Answer the questions before saving."),
        ([None, None, None, 1, 2, 1, 1, 1, 0], "detail", "cannot be scored"),
    ],
)
def test_bad_answers_are_named_and_nothing_is_saved(
    hub, episode, wellbeing_api, answers, field, words
):
    response = wellbeing_api.post("/administrations", body(episode, answers=answers))
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()["errors"][field])
    assert not Administration.objects.exists()
    assert not Flag.objects.exists()


def test_too_many_unanswered_items_can_be_saved_unscored_when_asked(hub, episode, wellbeing_api):
    answers = [None, None, None, 1, 2, 1, 1, 1, 0]
    response = wellbeing_api.post(
        "/administrations", body(episode, answers=answers, save_unscored=True)
    )
    assert response.status_code == 201
    assert (response.json()["is_valid"], response.json()["total"]) == (False, None)


def test_a_future_date_or_a_second_record_for_the_session_is_refused(hub, episode, wellbeing_api):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = wellbeing_api.post("/administrations", body(episode, completed_on=tomorrow))
    assert response.json()["errors"] == {"completed_on": ["The date cannot be in the future."]}
    assert wellbeing_api.post("/administrations", body(episode)).status_code == 201
    again = wellbeing_api.post("/administrations", body(episode))
    assert again.status_code == 400
    assert "already been recorded for session 1" in again.json()["detail"]
    assert Administration.objects.count() == 1


def test_only_an_open_episode_of_my_service(hub, episode, outsider_api):
    response = outsider_api.post("/administrations", body(episode))
    assert response.status_code == 404
    assert not Administration.objects.exists()


def test_listing_and_reading_follow_the_policy(hub, episode, client, wellbeing_api):
    mine = record(episode, hub.practitioner)
    theirs = record(start_episode(hub, hub.counselling), hub.counsellor, code="GAD-7",
                    answers=[1, 1, 1, 1, 1, 1, 1])  # fmt: skip
    listed = wellbeing_api.get(f"/students/{hub.student.uuid}/administrations").json()
    # A care relationship alone shows only Wellbeing's own questionnaires.
    assert [a["uuid"] for a in listed["items"]] == [str(mine.uuid)]
    assert wellbeing_api.get(f"/administrations/{theirs.uuid}").status_code == 404
    detail = wellbeing_api.get(f"/administrations/{mine.uuid}").json()
    assert [a["item"] for a in detail["answers"]] == list(range(1, 10))
    assert AuditEvent.objects.filter(action="measures.outcomes.read", allowed=True).exists()
    give_consent(hub, "outcomes", hub.wellbeing)
    listed = wellbeing_api.get(f"/students/{hub.student.uuid}/administrations").json()
    assert listed["count"] == 2
    only_gad = wellbeing_api.get(f"/students/{hub.student.uuid}/administrations", code="GAD-7")
    assert [a["uuid"] for a in only_gad.json()["items"]] == [str(theirs.uuid)]


def test_no_care_or_consent_means_no_questionnaires(hub, episode, client):
    administration = record(episode, hub.practitioner)
    crisis = Api(client, make_token(make_client(hub.crisis)))
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    listed = crisis.get(f"/students/{hub.student.uuid}/administrations").json()
    assert listed["count"] == 0
    assert crisis.get(f"/administrations/{administration.uuid}").status_code == 404
    academic = staff_api(client, hub.academic)
    assert academic.get(f"/students/{hub.student.uuid}/administrations").status_code == 404
    assert academic.get(f"/administrations/{administration.uuid}").status_code == 404


def test_a_refused_questionnaire_reads_exactly_as_a_made_up_one(hub, episode, outsider_api):
    """Southgate may not know the student at all: a real questionnaire of theirs must not
    answer differently from an id that was never issued."""
    administration = record(episode, hub.practitioner)
    real = outsider_api.get(f"/administrations/{administration.uuid}")
    made_up = outsider_api.get("/administrations/00000000-0000-4000-8000-000000000000")
    assert (real.status_code, real.json()) == (made_up.status_code, made_up.json())
    assert real.json()["detail"] == "No such questionnaire."
