"""Bulk Data `$export`: kick-off, polling, NDJSON files of only what the client may see."""

import gzip
import json

import pytest

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import record_consent
from joinedup.fhir import mapping
from joinedup.fhir.models import ExportJob
from joinedup.fhir.tests.conftest import client_user, fhir_client, token_for
from joinedup.measures.services import record_administration

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def kick_off(django_capture_on_commit_callbacks):
    """Start an export and run its task, as after the request's commit."""

    def start(client, url="/fhir/$export", **params):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(url, params, headers=ASYNC)
        assert response.status_code == 202, response.content
        return response["Content-Location"].split("testserver", 1)[1]

    return start


def _files(client, status_url) -> dict[str, list[dict]]:
    response = client.get(status_url)
    assert response.status_code == 200, response.content
    manifest = response.json()
    assert manifest["requiresAccessToken"] is True
    files = {}
    for output in manifest["output"]:
        download = client.get(output["url"].split("testserver", 1)[1])
        assert download.status_code == 200
        assert download["Content-Type"] == "application/fhir+ndjson"
        assert "Content-Encoding" not in download  # unzipped for a client that did not ask
        text = b"".join(download.streaming_content).decode()
        lines = [json.loads(line) for line in text.splitlines()]
        assert len(lines) == output["count"]
        for resource in lines:
            mapping.as_model(resource)
            assert resource["resourceType"] == output["type"]
        files[output["type"]] = lines
    return files


def _ids(files, kind):
    return {r["id"] for r in files.get(kind, [])}


def test_export_writes_ndjson_of_everything_the_client_may_see(record, hub, kick_off):
    client = fhir_client(hub.wellbeing)
    files = _files(client, kick_off(client))
    assert _ids(files, "Patient") == {str(record.student.uuid)}
    assert _ids(files, "QuestionnaireResponse") == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert _ids(files, "Flag") == {str(record.flag.uuid)}
    assert len(files["Questionnaire"]) == 6
    # Every line carries its version, the one a read gives.
    for lines in files.values():
        assert all(r == mapping.versioned(r) for r in lines)
    user = client_user(hub.wellbeing)
    exported = AuditEvent.objects.filter(actor=user, action="fhir.export", student=record.student)
    assert {"identity", "outcomes", "risk", "engagement"} <= set(
        exported.values_list("category", flat=True)
    )


def test_export_leaves_out_categories_without_consent(record, hub, kick_off):
    client = fhir_client(hub.talking)
    files = _files(client, kick_off(client, "/fhir/Patient/$export"))
    assert _ids(files, "Patient") == {str(record.student.uuid)}
    assert not {"QuestionnaireResponse", "Observation", "Flag", "EpisodeOfCare"} & set(files)
    assert _ids(files, "ServiceRequest") == {str(record.referral.uuid)}
    record_consent(actor=hub.student_user, student=record.student, category="outcomes",
                   purpose="direct_care", how_given="portal",
                   recipient_service=hub.talking)  # fmt: skip
    files = _files(client, kick_off(client, "/fhir/Patient/$export", _type="Observation"))
    assert set(files) == {"Observation"}
    assert _ids(files, "Observation") == {str(record.phq9.uuid), str(record.gad7.uuid)}


def test_unrelated_client_exports_nothing_of_the_student(record, hub, kick_off):
    client = fhir_client(hub.other_wellbeing)
    files = _files(client, kick_off(client, "/fhir/Patient/$export"))
    assert files == {}


def test_status_is_202_with_progress_until_done(record, hub):
    from joinedup.fhir import tasks

    client = fhir_client(hub.wellbeing)
    started = client.get("/fhir/$export", {"_type": "Patient"}, headers=ASYNC)
    status_url = started["Content-Location"].split("testserver", 1)[1]
    pending = client.get(status_url)  # the task runs after commit, which has not happened
    assert pending.status_code == 202
    assert pending["X-Progress"] == "Queued"
    job = ExportJob.objects.get()
    tasks.run_export.call(job.pk)
    assert client.get(status_url).status_code == 200


def test_files_and_status_belong_to_the_client_that_asked(record, hub, kick_off):
    client = fhir_client(hub.wellbeing)
    status_url = kick_off(client)
    manifest = client.get(status_url).json()
    other = fhir_client(hub.counselling)
    assert other.get(status_url).status_code == 404
    file_url = manifest["output"][0]["url"].split("testserver", 1)[1]
    assert other.get(file_url).status_code == 404
    assert fhir_client(hub.wellbeing).get(file_url).status_code == 404  # another client


def test_delete_cancels_and_removes_the_files(record, hub, kick_off):
    client = fhir_client(hub.wellbeing)
    status_url = kick_off(client)
    file_url = client.get(status_url).json()["output"][0]["url"].split("testserver", 1)[1]
    assert client.delete(status_url).status_code == 202
    assert client.get(status_url).status_code == 404
    assert client.get(file_url).status_code == 404


@pytest.mark.parametrize(
    ("params", "headers", "expression"),
    [
        ({}, {}, "Prefer"),
        ({"_type": "Encounter"}, ASYNC, "_type"),
        ({"_outputFormat": "text/csv"}, ASYNC, "_outputFormat"),
        ({"_since": "last week"}, ASYNC, "_since"),
        ({"_elements": "id"}, ASYNC, "_elements"),
    ],
)
def test_bad_kick_offs_are_refused_with_an_outcome(record, hub, params, headers, expression):
    response = fhir_client(hub.wellbeing).get("/fhir/$export", params, headers=headers)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [expression]
    assert not ExportJob.objects.exists()


def test_export_of_a_type_outside_the_token_scopes_is_refused(record, hub, kick_off):
    client = fhir_client(hub.wellbeing, "system/Patient.read")
    response = client.get("/fhir/$export", {"_type": "Flag"}, headers=ASYNC)
    assert response.status_code == 403
    files = _files(client, kick_off(client))  # without _type: only what the scopes allow
    assert set(files) == {"Patient"}


def test_since_exports_only_what_changed(record, hub, kick_off):
    client = fhir_client(hub.wellbeing)
    files = _files(client, kick_off(client, _type="Flag", _since="2999-01-01T00:00:00Z"))
    assert files == {}


def test_old_exports_are_pruned_with_their_files(record, hub, kick_off):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from joinedup.fhir.models import ExportFile

    client = fhir_client(hub.wellbeing)
    kick_off(client)
    ExportJob.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    call_command("prune_fhir_exports", dry_run=True)
    assert ExportFile.objects.exists()
    call_command("prune_fhir_exports")
    assert not ExportJob.objects.exists()
    assert not ExportFile.objects.exists()


@pytest.mark.parametrize("service", ["wellbeing", "talking", "other_wellbeing", "crisis"])
def test_export_pieces_hold_exactly_the_rows_a_search_may_show(record, hub, service):
    from joinedup.fhir.access import KINDS, PERSONAL, visible, visible_by_student
    from joinedup.fhir.tests.conftest import token_for

    record_consent(actor=hub.student_user, student=record.student, category="outcomes",
                   purpose="direct_care", how_given="portal",
                   recipient_service=hub.crisis)  # fmt: skip
    token_for(getattr(hub, service))
    user = client_user(getattr(hub, service))
    for name in PERSONAL:
        if name == "AuditEvent":
            continue
        kind = KINDS[name]
        pieces = {row.pk for rows in visible_by_student(user, kind, size=1) for row in rows}
        assert pieces == set(visible(user, kind).values_list("pk", flat=True)), name


def test_rows_built_from_plain_values_render_as_model_rows_do(record, hub):
    """The export builds its rows from `values_list` (`plain.PlainRows`): every resource type
    must come out exactly as from the model instances a search or read renders."""
    from django.utils import timezone

    from joinedup.fhir.access import KINDS, visible
    from joinedup.fhir.plain import Directory, PlainRows
    from joinedup.fhir.resources import render
    from joinedup.referrals.models import Referral

    Referral.objects.filter(pk=record.referral.pk).update(episode=record.episode)
    record_consent(actor=hub.student_user, student=record.student, category="outcomes",
                   purpose="direct_care", how_given="portal",
                   recipient_organisation=hub.university)  # fmt: skip
    record_consent(actor=hub.student_user, student=record.student, category="risk",
                   purpose="direct_care", how_given="portal",
                   recipient_department=record.student.department)  # fmt: skip
    token_for(hub.wellbeing)
    user = client_user(hub.wellbeing)
    now = timezone.now()
    directory = Directory()
    for name, kind in KINDS.items():
        rows = visible(user, kind).order_by("pk")
        as_models = render(name, rows, registration_ids={record.student.pk}, now=now)
        plain = PlainRows(rows, directory).fetch(rows)
        assert render(name, plain, registration_ids={record.student.pk}, now=now) == as_models
        assert as_models or name in ("AuditEvent",), name
        for resource in as_models:
            mapping.as_model(resource)


def test_observations_rendered_with_their_responses_match_those_exported_alone(
    record, hub, kick_off
):
    client = fhir_client(hub.wellbeing)
    alone = _files(client, kick_off(client, _type="Observation"))
    together = _files(client, kick_off(client, _type="QuestionnaireResponse,Observation"))
    reversed_order = _files(client, kick_off(client, _type="Observation,QuestionnaireResponse"))
    assert alone["Observation"] == together["Observation"] == reversed_order["Observation"]
    assert together["QuestionnaireResponse"] == reversed_order["QuestionnaireResponse"]
    assert _ids(alone, "Observation") == {str(record.phq9.uuid), str(record.gad7.uuid)}


@pytest.mark.parametrize(
    ("accept", "zipped"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False),
     ("identity", False), ("", False)],
)  # fmt: skip
def test_files_are_sent_gzipped_only_to_a_client_that_accepts_it(
    record, hub, kick_off, accept, zipped
):
    client = fhir_client(hub.wellbeing)
    manifest = client.get(kick_off(client)).json()
    url = next(o["url"] for o in manifest["output"] if o["type"] == "QuestionnaireResponse")
    download = client.get(url.split("testserver", 1)[1], headers={"Accept-Encoding": accept})
    assert download.status_code == 200
    assert "Accept-Encoding" in download["Vary"]
    if zipped:
        assert download["Content-Encoding"] == "gzip"
        text = gzip.decompress(download.content).decode()
    else:
        assert "Content-Encoding" not in download
        text = b"".join(download.streaming_content).decode()
    ids = {json.loads(line)["id"] for line in text.splitlines()}
    assert ids == {str(record.phq9.uuid), str(record.gad7.uuid)}


def test_a_file_is_written_gzipped_batch_by_batch():
    from joinedup.fhir.export import GzippedNdjson

    file = GzippedNdjson()
    file.write([{"resourceType": "Patient", "id": "1"}, {"resourceType": "Patient", "id": "é"}])
    file.write([])
    file.write([{"resourceType": "Patient", "id": "3"}])
    text = gzip.decompress(file.finish()).decode()
    assert file.count == 3
    assert [json.loads(line)["id"] for line in text.splitlines()] == ["1", "é", "3"]
    assert text.endswith("}\n")


def test_a_full_disk_while_writing_fails_the_export_and_offers_nothing(
    record, hub, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import OperationalError

    from joinedup.fhir.models import ExportFile

    create = ExportFile.objects.create
    written = []

    def until_the_disk_fills(**fields):
        if written:  # the first file fits; the second does not
            raise OperationalError('could not extend file "base/16384/24601": No space left')
        written.append(create(**fields))
        return written[-1]

    monkeypatch.setattr(ExportFile.objects, "create", until_the_disk_fills)
    client = fhir_client(hub.wellbeing)
    with django_capture_on_commit_callbacks(execute=True):
        kicked = client.get("/fhir/$export", headers=ASYNC)
    assert kicked.status_code == 202
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    response = client.get(f"/fhir/$export-status/{job.uuid}")
    assert response.status_code == 500
    said = response.json()["issue"][0]["diagnostics"]
    assert said.startswith("The export failed on the server. Start a new export")
    assert "No space" not in said  # the server's words stay in its log
    assert len(written) == 1  # the one whole file is never offered: no manifest


def test_a_group_export_holds_only_the_services_caseload(record, hub, kick_off):
    from conftest import make_student

    # Visible to the service by consent, but not in its care: not a member of its group.
    shared = make_student(hub.student.university, "NB1000777")
    for category in ("identity", "outcomes"):
        record_consent(actor=hub.student_user, student=shared, category=category,
                       purpose="direct_care", how_given="portal",
                       recipient_service=hub.wellbeing)  # fmt: skip
    client = fhir_client(hub.wellbeing)
    everyone = _ids(_files(client, kick_off(client)), "Patient")
    assert everyone == {str(record.student.uuid), str(shared.uuid)}
    group = f"/fhir/Group/{hub.wellbeing.uuid}/$export"
    files = _files(client, kick_off(client, group))
    assert _ids(files, "Patient") == {str(record.student.uuid)}
    assert _ids(files, "QuestionnaireResponse") == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert "Organization" not in files  # patient data only, as a patient-level export
    assert ExportJob.objects.filter(group=hub.wellbeing).count() == 1
    later = _files(client, kick_off(client, group, _since="2099-01-01T00:00:00Z"))
    assert later == {}


def test_another_services_group_is_not_found(record, hub):
    client = fhir_client(hub.wellbeing)
    for key in (hub.talking.uuid, "not-a-group"):
        response = client.get(f"/fhir/Group/{key}/$export", headers=ASYNC)
        assert response.status_code == 404
        assert (
            "Group/<its service's HealthcareService id>"
            in (response.json()["issue"][0]["diagnostics"])
        )
    refused = client.get(f"/fhir/Group/{hub.wellbeing.uuid}/$export", {"_type": "Organization"},
                         headers=ASYNC)  # fmt: skip
    assert refused.status_code == 400
    assert not ExportJob.objects.exists()


def test_a_score_stated_without_answers_is_an_observation_alone(record, hub, kick_off):
    """Everywhere a resource is served: a score another system stated without answers is an
    Observation derived from no response, never an empty QuestionnaireResponse."""
    alone = record_administration(
        actor=hub.practitioner, student=record.student, service=hub.wellbeing, code="PHQ-9",
        answers=None, score=14, method="imported",
    )  # fmt: skip
    client = fhir_client(hub.wellbeing)
    answered = {str(record.phq9.uuid), str(record.gad7.uuid)}
    searched = client.get("/fhir/QuestionnaireResponse", {"patient": record.student.uuid})
    assert searched.json()["total"] == 2
    assert {e["resource"]["id"] for e in searched.json()["entry"]} == answered
    assert client.get(f"/fhir/QuestionnaireResponse/{alone.uuid}").status_code == 404
    observation = client.get(f"/fhir/Observation/{alone.uuid}").json()
    assert observation["valueQuantity"]["value"] == 14
    assert "derivedFrom" not in observation
    scored = client.get(f"/fhir/Observation/{record.phq9.uuid}").json()
    assert scored["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{record.phq9.uuid}"}]
    bundle = client.get(f"/fhir/Patient/{record.student.uuid}/$everything").json()
    kinds = {(e["resource"]["resourceType"], e["resource"].get("id")) for e in bundle["entry"]}
    assert ("Observation", str(alone.uuid)) in kinds
    assert ("QuestionnaireResponse", str(alone.uuid)) not in kinds
    for types in ("QuestionnaireResponse,Observation", "QuestionnaireResponse", "Observation"):
        files = _files(client, kick_off(client, _type=types))
        if "QuestionnaireResponse" in types:
            assert _ids(files, "QuestionnaireResponse") == answered
        if "Observation" in types:
            assert _ids(files, "Observation") == answered | {str(alone.uuid)}
            exported = next(o for o in files["Observation"] if o["id"] == str(alone.uuid))
            assert exported == observation  # with the version a read gives


def test_an_export_collects_garbage_less_often_and_puts_it_back(record, hub, kick_off,
                                                               monkeypatch):  # fmt: skip
    import gc

    from joinedup.fhir import export

    before = gc.get_threshold()
    during = []
    write = export._write_export
    monkeypatch.setattr(export, "_write_export",
                        lambda job: (during.append(gc.get_threshold()), write(job)))  # fmt: skip
    client = fhir_client(hub.wellbeing)
    assert _files(client, kick_off(client))["Patient"]
    assert during == [(100_000, 50, 100)]
    assert gc.get_threshold() == before
    with export._fewer_collections():  # two exports overlapping in one process
        with export._fewer_collections():
            pass
        assert gc.get_threshold() == (100_000, 50, 100)  # the first still runs
    assert gc.get_threshold() == before
