"""Rows the access layer let through, rendered as FHIR resources in batches.

One extra query per batch fetches partners' identifiers for the records they sent; the
rows themselves arrive with their related rows selected, so rendering costs no queries.
"""

from django.utils import timezone

from joinedup.fhir import mapping
from joinedup.fhir.models import ExternalIdentifier
from joinedup.measures import instruments
from joinedup.measures.models import Answer


def render(kind_name: str, rows, *, registration_ids=frozenset(), now=None) -> list[dict]:
    """The resources of these rows of one kind (`registration_ids`: the students whose
    registration details the reader may see). An administration is a QuestionnaireResponse
    unless its score was stated without answers, and an Observation when it has a score."""
    rows = list(rows)
    now = now or timezone.now()
    extra = _external_identifiers(kind_name, rows)
    answers = _answers(rows) if kind_name == "QuestionnaireResponse" else {}
    resources = []
    for row in rows:
        resource = _one(kind_name, row, extra, registration_ids, now, answers)
        if resource is not None:
            resources.append(mapping.profiled(resource))
    return resources


def _one(kind_name, row, extra, registration_ids, now, answers) -> dict | None:
    match kind_name:
        case "Patient":
            return mapping.patient_resource(row, with_registration=row.pk in registration_ids)
        case "Organization":
            return mapping.organization_resource(row)
        case "HealthcareService":
            return mapping.healthcare_service_resource(row)
        case "ServiceRequest":
            return mapping.service_request_resource(row, extra.get(row.uuid, ()))
        case "Task":
            return mapping.task_resource(row)
        case "EpisodeOfCare":
            return mapping.episode_of_care_resource(row)
        case "Questionnaire":
            return mapping.questionnaire_resource(row)
        case "QuestionnaireResponse":
            if row.score_only:
                return None
            return mapping.questionnaire_response_resource(
                row, extra.get(row.uuid, ()), answers=answers[row.pk]
            )
        case "Observation":
            return mapping.observation_resource(row, extra.get(row.uuid, ()))
        case "Flag":
            return mapping.flag_resource(row)
        case "Consent":
            return mapping.consent_resource(row, now=now)
        case "AuditEvent":
            return mapping.audit_event_resource(
                row, row.student.uuid if row.student_id is not None else None
            )
    raise ValueError(f"Unknown resource type {kind_name!r}")


def _answers(rows) -> dict[int, dict[int, int]]:
    """Each administration's answers (item → position), in one query, as plain values."""
    found: dict[int, dict[int, int]] = {row.pk: {} for row in rows}
    # No ordering: Answer's default order joins every administration to sort by it.
    for administration_id, item, value in (
        Answer.objects.filter(administration_id__any_of=frozenset(found))
        .order_by()
        .values_list("administration_id", "item", "value")
    ):
        found[administration_id][item] = value
    return found


def _external_identifiers(kind_name: str, rows) -> dict:
    if kind_name not in ("ServiceRequest", "QuestionnaireResponse", "Observation") or not rows:
        return {}
    found: dict = {}
    for external in ExternalIdentifier.objects.filter(
        resource_type=kind_name, target_uuid__in=[r.uuid for r in rows]
    ):
        found.setdefault(external.target_uuid, []).append(external.as_fhir())
    return found


def questionnaires() -> list[dict]:
    """Every shipped measure as a Questionnaire (the directory of what can be sent)."""
    return [
        mapping.profiled(mapping.questionnaire_resource(i)) for i in instruments.all_instruments()
    ]
