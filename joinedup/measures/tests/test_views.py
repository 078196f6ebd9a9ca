"""The questionnaire pages: the worklist, recording, links, trajectories and who may see them."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.measures.models import Administration, CompletionLink
from joinedup.measures.tests.factories import PHQ9_ITEM9, record, start_episode


@pytest.fixture
def episode(hub):
    return start_episode(hub)


def phq9_post(answers, session=1, **extra) -> dict:
    data = {"session_number": session, "completed_on": timezone.localdate().isoformat()} | extra
    data |= {f"item_{n}": str(v) for n, v in enumerate(answers, 1) if v is not None}
    return data


def chart_data(html: str, code: str) -> dict:
    match = re.search(rf'<script id="chart-{code}" type="application/json">(.*?)</script>', html)
    assert match, f"no chart data for {code}"
    return json.loads(match.group(1))


def test_practitioner_records_a_phq9_with_every_item_on_one_screen(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "PHQ-9"])
    page = client.get(url).content.decode()
    assert page.count('type="radio"') == 9 * 4
    assert "Little interest or pleasure in doing things" in page
    response = client.post(url, phq9_post([3, 3, 2, 2, 2, 2, 1, 1, 0]))
    assert response.status_code == 302
    administration = Administration.objects.get()
    assert (administration.total, administration.band, administration.session_number) == (
        16, "moderately severe", 1
    )  # fmt: skip


def test_too_many_unanswered_items_is_refused_and_nothing_is_saved(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "PHQ-9"])
    response = client.post(url, phq9_post([3, 3, 2, 2, 2, 2, None, None, None]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 questions are unanswered, so PHQ-9 cannot be scored" in html
    # The error summary takes the reader to the first unanswered question; each is marked.
    assert 'href="#id_item_7_0"' in html
    assert html.count("Not answered") == 3
    assert not Administration.objects.exists()
    # Ticking "save without a score" keeps an honest record that is not scored.
    client.post(url, phq9_post([3, 3, 2, 2, 2, 2, None, None, None], save_unscored="on"))
    assert Administration.objects.get().is_valid is False


def test_a_future_date_is_refused(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "PHQ-9"])
    response = client.post(url, phq9_post([1] * 9) | {"completed_on": "2099-01-01"})
    assert "The date cannot be in the future." in response.content.decode()
    assert not Administration.objects.exists()


def test_recording_twice_for_a_session_says_so(hub, client, episode):
    record(episode, hub.practitioner)
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "PHQ-9"])
    response = client.post(url, phq9_post([1] * 9))
    assert "PHQ-9 has already been recorded for session 1." in response.content.decode()
    assert Administration.objects.count() == 1


def test_the_due_session_advances_once_the_routine_measures_are_recorded(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("measures:outcomes", args=[hub.student.uuid])
    assert "Wellbeing: session 1" in client.get(url).content.decode()
    record(episode, hub.practitioner, "PHQ-9")
    assert "Wellbeing: session 1" in client.get(url).content.decode()
    record(episode, hub.practitioner, "GAD-7", [1] * 7)
    assert "Wellbeing: session 2" in client.get(url).content.decode()


def test_the_trajectory_chart_has_scores_bands_cutoff_and_reliable_change_band(
    hub, client, episode
):
    for session, answers in enumerate([[3] * 9, [2] * 9, [1] * 9], 1):
        record(episode, hub.practitioner, answers=[*answers[:8], 0], session=session)
    client.force_login(hub.practitioner)
    html = client.get(reverse("measures:outcomes", args=[hub.student.uuid])).content.decode()
    data = chart_data(html, "PHQ-9")
    assert [p["score"] for p in data["points"]] == [24, 16, 8]
    assert data["cutoff"] == 10
    assert data["reliable"] == {"from": 18, "to": 27}
    assert data["bands"][0]["label"] == "minimal"
    assert "Reliable improvement" in html
    assert "clinically significant" in html


def test_a_care_relationship_alone_shows_only_the_own_services_questionnaires(hub, client, episode):
    record(episode, hub.practitioner)
    crisis_episode = start_episode(hub, hub.crisis, routine=())
    record(crisis_episode, hub.crisis_practitioner, "GAD-7", [2] * 7)
    client.force_login(hub.crisis_practitioner)
    html = client.get(reverse("measures:outcomes", args=[hub.student.uuid])).content.decode()
    assert 'data-measure="GAD-7"' in html
    assert 'data-measure="PHQ-9"' not in html
    give_consent(hub, "outcomes", hub.crisis)
    html = client.get(reverse("measures:outcomes", args=[hub.student.uuid])).content.decode()
    assert 'data-measure="PHQ-9"' in html


@pytest.mark.parametrize("who", ["outsider", "academic", "researcher", "org_admin"])
def test_people_without_access_get_404_on_the_questionnaires_page(hub, client, episode, who):
    record(episode, hub.practitioner)
    client.force_login(getattr(hub, who))
    response = client.get(reverse("measures:outcomes", args=[hub.student.uuid]))
    assert response.status_code == 404


def test_another_services_practitioner_cannot_record_into_an_episode(hub, client, episode):
    client.force_login(hub.crisis_practitioner)
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    url = reverse("measures:administration-create", args=[episode.uuid, "PHQ-9"])
    assert client.get(url).status_code == 404
    assert client.post(url, phq9_post([1] * 9)).status_code == 404
    assert not Administration.objects.exists()


def test_an_unknown_measure_is_404(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "BDI-II"])
    assert client.get(url).status_code == 404


def test_the_worklist_shows_due_questionnaires_and_links_to_risk_flags(hub, client, episode):
    record(episode, hub.practitioner, answers=PHQ9_ITEM9)
    client.force_login(hub.practitioner)
    html = client.get(reverse("measures:worklist")).content.decode()
    assert "GAD-7" in html  # still due for session 1
    assert reverse("risk:flags") in html


def test_the_worklist_is_for_clinical_staff(hub, client):
    client.force_login(hub.academic)
    assert client.get(reverse("measures:worklist")).status_code == 403


def test_sending_a_link_shows_it_to_staff(hub, client, episode):
    client.force_login(hub.practitioner)
    response = client.post(
        reverse("measures:link-create", args=[episode.uuid]),
        {"session_number": 1, "codes": ["PHQ-9", "GAD-7"]},
        follow=True,
    )
    assert "A link has been emailed to the student" in response.content.decode()
    assert CompletionLink.objects.get().codes == ["PHQ-9", "GAD-7"]


def test_a_link_without_questionnaires_is_refused(hub, client, episode):
    client.force_login(hub.practitioner)
    response = client.post(
        reverse("measures:link-create", args=[episode.uuid]), {"session_number": 1}, follow=True
    )
    assert "Choose at least one questionnaire." in response.content.decode()
    assert not CompletionLink.objects.exists()


def test_the_student_sees_a_kinder_version_of_their_scores(hub, client, episode):
    for session, answers in enumerate([[3] * 8 + [0], [1] * 8 + [0]], 1):
        record(episode, hub.practitioner, answers=answers, session=session)
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:scores")).content.decode()
    assert "Low mood" in html
    assert "things are better than when you started" in html
    for clinical in ("Reliable", "cut-off", "moderately severe", "caseness"):
        assert clinical not in html


def test_the_worklist_lists_a_page_at_a_time_and_audits_the_names_it_shows(hub, client):
    from conftest import make_student
    from joinedup.audit.models import AuditEvent
    from joinedup.measures.tests.factories import open_episode

    start_episode(hub)
    for n in range(29):
        student = make_student(hub.university, f"W{n:04d}", preferred_name=f"Worklist {n:02d}")
        open_episode(actor=hub.practitioner, student=student, service=hub.wellbeing)
    client.force_login(hub.practitioner)

    first = client.get(reverse("measures:worklist")).content.decode()
    assert "30 episodes with questionnaires due" in first
    assert len(re.findall(r'href="/students/[0-9a-f-]+/measures/"', first)) == 25
    assert "Page 1 of 2" in first
    listed = AuditEvent.objects.filter(action="measures.worklist.listed")
    assert listed.count() == 25
    second = client.get(reverse("measures:worklist") + "?page=2").content.decode()
    assert "Page 2 of 2" in second
    assert listed.count() == 30
