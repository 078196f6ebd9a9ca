"""`_history` (a resource's current version, and a type's changes since a time, as history
Bundles) and `Group` (a client's own service's caseload, read and found by a search)."""

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from conftest import make_student
from joinedup.fhir import mapping
from joinedup.fhir.tests.conftest import token_for
from joinedup.measures.models import Administration
from joinedup.people.models import Student
from joinedup.referrals.services import open_episode


@pytest.fixture
def client(record, hub):
    return HttpClient(headers={"Authorization": f"Bearer {token_for(hub.wellbeing)}"})


def _bundle(response, kind: str) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    mapping.as_model(body)  # bdl-3 and bdl-4: a history entry has its request and response
    assert body["type"] == kind
    return body


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["issue"][0]


def test_a_resources_history_is_its_current_version(client, record):
    url = f"/fhir/Patient/{record.student.uuid}"
    read = client.get(url)
    history = _bundle(client.get(f"{url}/_history"), "history")
    assert history["total"] == 1
    (entry,) = history["entry"]
    assert entry["resource"] == read.json()
    assert entry["request"] == {"method": "PUT", "url": f"Patient/{record.student.uuid}"}
    assert entry["response"]["etag"] == read["ETag"]
    assert entry["response"]["lastModified"] == read.json()["meta"]["lastUpdated"]
    version = read.json()["meta"]["versionId"]
    assert client.get(f"{url}/_history/{version}").json() == read.json()


def test_a_history_of_what_the_client_may_not_see_is_not_found(record, hub):
    stranger = HttpClient(headers={"Authorization": f"Bearer {token_for(hub.crisis)}"})
    url = f"/fhir/Observation/{record.phq9.uuid}/_history"
    assert _outcome(stranger.get(url), 404)["code"] == "not-found"
    listed = _bundle(stranger.get("/fhir/Observation/_history"), "history")
    assert listed["total"] == 0


def test_a_types_history_lists_what_changed_since_most_recent_first(client, record, hub):
    Administration.objects.filter(pk=record.phq9.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    changed = _bundle(client.get("/fhir/Observation/_history", {"_since": since}), "history")
    assert [e["resource"]["id"] for e in changed["entry"]] == [str(record.gad7.uuid)]
    every = _bundle(client.get("/fhir/Observation/_history"), "history")
    assert [e["resource"]["id"] for e in every["entry"]] == [
        str(record.gad7.uuid),
        str(record.phq9.uuid),
    ]
    first = _bundle(client.get("/fhir/Observation/_history", {"_count": 1}), "history")
    assert first["total"] == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "/fhir/Observation/_history?" in following
    second = _bundle(client.get(following.split("testserver", 1)[1]), "history")
    assert [e["resource"]["id"] for e in second["entry"]] == [str(record.phq9.uuid)]
    # A score is never changed once recorded: its one version was a create.
    assert second["entry"][0]["request"] == {"method": "POST", "url": "Observation"}
    assert second["entry"][0]["response"]["status"] == "201"


def test_an_episode_ended_since_is_in_its_types_history(client, record, hub):
    since = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _bundle(client.get("/fhir/EpisodeOfCare/_history", {"_since": since}),
                   "history")["total"] == 0  # fmt: skip
    record.episode.ended_at = timezone.now() + dt.timedelta(seconds=2)
    record.episode.ending = "planned"
    record.episode.save()
    later = _bundle(client.get("/fhir/EpisodeOfCare/_history", {"_since": since}), "history")
    assert [e["resource"]["status"] for e in later["entry"]] == ["finished"]


@pytest.mark.parametrize(("path", "params", "status", "words"), [
    ("/fhir/_history", {}, 404, "no history across all types"),
    ("/fhir/Organization/_history", {}, 404, "records no time of change"),
    ("/fhir/Observation/_history", {"_at": "2026"}, 400, "_at is not supported"),
    ("/fhir/Observation/_history", {"code": "44261-6"}, 400, "code is not supported"),
    ("/fhir/Observation/_history", {"_since": "yesterday"}, 400, "_since: yesterday is not"),
    ("/fhir/Nothing/_history", {}, 404, "does not support Nothing"),
])  # fmt: skip
def test_histories_that_cannot_be_given_say_why(client, path, params, status, words):
    assert words in _outcome(client.get(path, params), status)["diagnostics"]


def test_a_client_reads_and_finds_its_own_services_caseload_as_a_group(client, record, hub):
    other = make_student(hub.university, "S2002")
    open_episode(actor=hub.practitioner, student=other, service=hub.wellbeing)
    group = client.get(f"/fhir/Group/{hub.wellbeing.uuid}")
    assert group.status_code == 200, group.content
    body = group.json()
    mapping.as_model(body)
    assert body["quantity"] == 2
    assert (body["type"], body["actual"]) == ("person", True)
    assert "member" not in body  # who they are goes out only through an export
    assert body["managingEntity"]["reference"] == f"Organization/{hub.wellbeing.organisation.uuid}"
    assert group["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    unchanged = client.get(f"/fhir/Group/{hub.wellbeing.uuid}",
                           headers={"If-None-Match": group["ETag"]})  # fmt: skip
    assert unchanged.status_code == 304
    found = _bundle(client.get("/fhir/Group"), "searchset")
    assert [e["resource"] for e in found["entry"]] == [body]
    assert _bundle(client.get("/fhir/Group", {"_id": "nobody"}), "searchset")["total"] == 0
    # What clients add to any search: a count, a page size, elements.
    counted = _bundle(client.get("/fhir/Group", {"_summary": "count"}), "searchset")
    assert (counted["total"], counted["entry"]) == (1, [])
    first = _bundle(client.get("/fhir/Group", {"_count": "10", "_elements": "quantity"}),
                    "searchset")["entry"][0]["resource"]  # fmt: skip
    assert first["quantity"] == 2
    assert "characteristic" not in first
    lenient = client.get("/fhir/Group", {"name": "x"}, headers={"Prefer": "handling=lenient"})
    (group_found, notice) = _bundle(lenient, "searchset")["entry"]
    assert group_found["resource"]["id"] == str(hub.wellbeing.uuid)
    assert "name is not one this server knows" in notice["resource"]["issue"][0]["diagnostics"]


def test_another_services_group_is_not_found_and_a_group_needs_its_scope(client, record, hub):
    issue = _outcome(client.get(f"/fhir/Group/{hub.talking.uuid}"), 404)
    assert "its own service's caseload" in issue["diagnostics"]
    narrow = HttpClient(headers={
        "Authorization": f"Bearer {token_for(hub.wellbeing, 'system/Patient.read')}"})  # fmt: skip
    issue = _outcome(narrow.get(f"/fhir/Group/{hub.wellbeing.uuid}"), 403)
    assert "system/Group.read" in issue["diagnostics"]
    refused = _outcome(client.get("/fhir/Group", {"name": "x"}), 400)
    assert "'name' is not supported for Group" in refused["diagnostics"]
    for path in (f"/fhir/Group/{hub.wellbeing.uuid}/_history", "/fhir/Group/_history",
                 f"/fhir/Group/{hub.wellbeing.uuid}/_history/1"):  # fmt: skip
        assert "keeps no versions or history" in _outcome(client.get(path), 404)["diagnostics"]
    assert "_count must be a whole number" in _outcome(
        client.get("/fhir/Group", {"_count": "ten"}), 400)["diagnostics"]  # fmt: skip
    refused = client.post("/fhir/Group", "{}", content_type="application/fhir+json")
    assert _outcome(refused, 405)["code"] == "not-supported"
    assert refused["Allow"] == "GET"


def test_a_patient_whose_details_change_is_in_the_history_since(client, record):
    """Every save of a student, a partial one too, is a change a partner can ask for."""
    a_week_ago = timezone.now() - dt.timedelta(days=7)
    Student.objects.filter(pk=record.student.pk).update(created_at=a_week_ago,
                                                        changed_at=a_week_ago)  # fmt: skip
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = _bundle(client.get("/fhir/Patient/_history", {"_since": since}), "history")
    assert before["total"] == 0
    record.student.preferred_name = "Lexi"
    record.student.save(update_fields=["preferred_name"])
    after = _bundle(client.get("/fhir/Patient/_history", {"_since": since}), "history")
    (entry,) = after["entry"]
    assert entry["resource"]["id"] == str(record.student.uuid)
    assert entry["response"]["lastModified"] > since.replace("Z", "")
