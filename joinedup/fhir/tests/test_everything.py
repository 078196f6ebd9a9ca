"""`Patient/<id>/$everything` with its parameters: `_type`, `start`/`end`, `_since`,
`_count` and paging, each narrowing what the client may see anyway."""

import datetime as dt

import pytest
from django.utils import timezone

from joinedup.fhir.tests.conftest import fhir_client
from joinedup.fhir.tests.test_server import _get


@pytest.fixture
def everything(record, hub):
    client = fhir_client(hub.wellbeing)

    def get(expect=200, **params):
        return _get(client, f"/fhir/Patient/{record.student.uuid}/$everything", expect, **params)

    return get


def _responses(bundle) -> set[str]:
    return {e["resource"]["id"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"}  # fmt: skip


def _kinds(bundle) -> list[str]:
    return [
        e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "match"
    ]


def test_type_narrows_the_record(everything, record):
    body = everything(_type="QuestionnaireResponse,Observation")
    kinds = _kinds(body)
    assert kinds.count("QuestionnaireResponse") == 2
    assert kinds.count("Observation") == 2
    assert not {"Patient", "Flag", "ServiceRequest"} & set(kinds)
    assert everything(400, _type="Encounter")["issue"][0]["expression"] == ["_type"]


def test_start_and_end_keep_the_care_in_those_dates(everything, record):
    week_ago = (timezone.now() - dt.timedelta(days=7)).date()
    early = everything(_type="QuestionnaireResponse", end=week_ago.isoformat())
    assert _responses(early) == {str(record.phq9.uuid)}
    late = everything(_type="QuestionnaireResponse",
                      start=(week_ago + dt.timedelta(days=1)).isoformat())  # fmt: skip
    assert _responses(late) == {str(record.gad7.uuid)}
    assert "Patient" in _kinds(everything(start="2099-01-01"))  # undated: always there
    everything(400, start="2026-02-01", end="2026-01-01")


def test_since_keeps_what_changed(everything):
    assert _kinds(everything(_since="2000-01-01T00:00:00Z"))
    assert not {"QuestionnaireResponse", "Flag"} & set(_kinds(everything(_since="2099-01-01")))


def test_count_pages_through_the_record_without_overlap(everything):
    whole = everything()
    total = whole["total"]
    assert total == len(_kinds(whole)) > 4
    seen, page, next_url = [], 1, True
    while next_url:
        body = everything(_count="3", _page=str(page))
        assert body["total"] == total
        seen += [e["fullUrl"] for e in body["entry"] if e["search"]["mode"] == "match"]
        next_url = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if next_url:
            assert "_count=3" in next_url[0]
            assert f"_page={page + 1}" in next_url[0]
        page += 1
    assert len(seen) == len(set(seen)) == total
    everything(400, _count="0")
    everything(400, colour="blue")
