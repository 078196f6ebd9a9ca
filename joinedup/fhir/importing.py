"""Receiving FHIR resources from partner systems: questionnaire responses, referrals, and
transaction Bundles of them, which may also carry the patient, the organisations and services
they name, and episodes of care (`joinedup.fhir.importing_patients` says what of those may be
created). A Bundle's entries are processed in `BUNDLE_ORDER`, references between them
translated to the records they became here.

Everything is checked before anything is saved, and saved through the other apps' services
(`measures.services.record_administration`, `referrals.services.create_referral`), which
score, audit and notify as on the pages. A resource carrying an identifier is remembered by
it (`ExternalIdentifier`): sending it again returns the record already made.

Questionnaire responses differ between systems. The measure is found from the response's
canonical (this server's, a LOINC panel's, or another organisation's ending in the measure's
name), from its contained Questionnaire's code, url or name, or else from the LOINC codes of
its items. Items are matched by their LOINC code: from the item's `definition`, from the
linkId when it is a LOINC code or path (as LHC-Forms writes "/44249-1/44250-9"), or from the
sender's contained Questionnaire; failing a code, a response of a known measure matches an
item by the number its linkId ends in ("phq9-q3"). An answer coding is matched by its code:
a LOINC answer code with any system or none, this server's own codes with its system or
none. An answered item that is no item of the measure is kept out of the score and named in
a warning. A total stated in the response is never trusted: the score is recomputed from
the answers (`shared/spec/measures.md` §9). An Observation carrying a measure's score (its
LOINC total code) is recorded as a score without items.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction as db_transaction
from django.utils import timezone
from pydantic import ValidationError as ModelError

from joinedup.audit.services import kept_through_rollback
from joinedup.consent.policy import decide
from joinedup.fhir import importing_patients, mapping
from joinedup.fhir.errors import BundleError, FhirError, wrong_method
from joinedup.fhir.resources import render
from joinedup.fhir.selectors import fhir_base
from joinedup.measures import instruments, scoring
from joinedup.measures.models import Administration
from joinedup.measures.services import record_administration
from joinedup.people.models import Service, Student
from joinedup.people.validators import normalise_nhs_number
from joinedup.referrals.models import Referral
from joinedup.referrals.services import create_referral

CREATABLE = ("QuestionnaireResponse", "ServiceRequest", "Observation")
# What a transaction Bundle may carry, in the order its entries are processed: each kind
# refers only to kinds before it, whatever order the sender listed them in.
BUNDLE_ORDER = (
    "Organization",
    "HealthcareService",
    "Patient",
    "EpisodeOfCare",
    "ServiceRequest",
    "QuestionnaireResponse",
    "Observation",
)
MAX_BUNDLE_ENTRIES = 500
# Far deeper than any resource taken here (a Bundle's nested questionnaire items included);
# a body nested deeper is refused before anything walks it recursively.
MAX_DEPTH = 64


def read_body(request, limit: int) -> dict:
    """The request body as a JSON object; 413 when too large, 400 when not JSON or nested
    too deeply."""
    if len(request.body) > limit:
        raise FhirError(
            413, f"The request is larger than the limit of {limit:,} bytes.", code="too-costly"
        )
    try:
        resource = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirError(400, f"The body is not valid JSON: {error}.", code="structure") from error
    except RecursionError as error:
        raise _too_deep() from error
    if _depth(resource) > MAX_DEPTH:
        raise _too_deep()
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise FhirError(
            400,
            "The body must be a FHIR resource: a JSON object with a resourceType.",
            code="structure",
            expression="resourceType",
        )
    return resource


def _too_deep() -> FhirError:
    return FhirError(
        400, f"The body is nested more than {MAX_DEPTH} levels deep.", code="structure"
    )


def _depth(value) -> int:
    """How deeply lists and objects nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in value)
    return deepest


def create(user, resource_type: str, resource: dict, *, request=None) -> "Made":
    """Create one resource: it as stored, whether it is new (False when its identifier was
    seen before and nothing changed), and warnings about what was not taken."""
    if resource_type not in CREATABLE:
        raise wrong_method(
            "GET",
            f"{resource_type} cannot be created here. This server accepts {', '.join(CREATABLE)}.",
        )
    if resource.get("resourceType") != resource_type:
        raise FhirError(
            400,
            f"The resource is a {resource.get('resourceType')}, but was sent to {resource_type}.",
            expression="resourceType",
        )
    with kept_through_rollback(), db_transaction.atomic():
        return _create(user, resource, request=request, here=resource_type)


@dataclass
class Made:
    """What a create made: the resource as stored, whether it is new, and warnings
    (OperationOutcome issues) about what of it was not taken."""

    resource: dict
    is_new: bool
    warnings: list[dict] = field(default_factory=list)


def _create(user, resource: dict, *, request, here: str, refs=None) -> Made:
    """`here` is the resource's FHIRPath in the request, named in every error; `refs`
    translates references to other entries of the same Bundle."""
    refs = refs if refs is not None else importing_patients.References()
    resource_type = resource["resourceType"]
    parsed = _parse(resource, here)
    places = {
        "HealthcareService": importing_patients.service,
        "Patient": importing_patients.patient,
        "EpisodeOfCare": importing_patients.episode,
    }
    if resource_type == "Organization":
        made, is_new = importing_patients.organisation(user, parsed, here=here, request=request)
    elif resource_type in places:
        made, is_new = places[resource_type](user, parsed, here=here, refs=refs, request=request)
    elif resource_type in SCORES:
        held = _already_held(user, resource_type, parsed, here, request)
        warnings: list[dict] = []
        score = SCORES[resource_type](user, parsed, here, request, refs, warnings)
        if held is not None:
            _same_as_held(held, score, resource_type, here)
            return Made(render(resource_type, [_reload(resource_type, held)])[0], False)
        made = _record(user, score, here, request)
        importing_patients.remember(resource_type, parsed, made.uuid)
        return Made(render(resource_type, [_reload(resource_type, made)])[0], True, warnings)
    else:
        existing = _already_made(user, resource_type, parsed, here, request)
        if existing is not None:
            return Made(existing, False)
        made = _service_request(user, parsed, here, request, refs)
        importing_patients.remember(resource_type, parsed, made.uuid)
        return Made(render(resource_type, [_reload(resource_type, made)])[0], True)
    return Made(render(resource_type, [_reload(resource_type, made)])[0], is_new)


def _parse(resource: dict, here: str):
    try:
        return mapping.as_model(resource)
    except ModelError as error:
        first = error.errors()[0]
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}"
            for part in first["loc"]
            if part != "__root__"
        ).lstrip(".")
        raise FhirError(
            400,
            f"{resource['resourceType']}.{path}: {first['msg']}.",
            code="structure",
            expression=f"{here}.{path}",
        ) from error
    except (KeyError, TypeError, ValueError) as error:
        raise FhirError(
            400,
            f"{resource.get('resourceType')!r} is not a resource type this server knows.",
            code="structure",
            expression=f"{here}.resourceType",
        ) from error


def _already_held(user, resource_type: str, parsed, here: str, request):
    """The record made before from a resource with one of these identifiers, if any (and if
    the client may see it: an identifier is no way into someone else's record)."""
    row = importing_patients.remembered(resource_type, parsed, _model(resource_type))
    if row is not None:
        importing_patients.only_visible(user, row, resource_type, request, here=here)
    return row


def _already_made(user, resource_type: str, parsed, here: str, request) -> dict | None:
    row = _already_held(user, resource_type, parsed, here, request)
    return None if row is None else render(resource_type, [_reload(resource_type, row)])[0]


def _model(resource_type: str):
    return Referral if resource_type == "ServiceRequest" else Administration


def _reload(resource_type: str, row):
    from joinedup.fhir.access import KINDS

    return KINDS[resource_type].rows().get(pk=row.pk)


# References -------------------------------------------------------------------------------


def _student(user, reference, field: str, request, refs=None) -> Student:
    """The student a reference names (`Patient/<id>`, or an NHS number identifier), if the
    client may know them; otherwise the same refusal as for a student who does not exist."""
    if reference is None:
        raise FhirError(422, f"{field} is required: which student is this about?",
                        code="required", expression=field)  # fmt: skip
    student = None
    if reference.reference:
        local = refs.resolve(reference.reference) if refs else reference.reference
        # This server's own absolute URL for a patient is a reference to them.
        local = local.removeprefix(f"{fhir_base(request)}/")
        key = local.removeprefix("Patient/")
        if local.startswith("Patient/") and importing_patients.is_uuid(key):
            student = Student.objects.filter(uuid=key).first()
    elif reference.identifier is not None:
        identifier = reference.identifier
        if identifier.system == mapping.NHS_NUMBER_SYSTEM and identifier.value:
            number = normalise_nhs_number(identifier.value)
            student = Student.objects.filter(nhs_number=number).first() if number else None
    if student is None or not decide(user, student, "identity", request=request).allowed:
        raise FhirError(
            422,
            f"{field} refers to a patient this server does not know (or your service may not "
            "see): use Patient/<id> from a search, or an NHS number identifier.",
            code="not-found",
            expression=field,
        )
    return student


# QuestionnaireResponse --------------------------------------------------------------------


@dataclass
class _Score:
    """What a received QuestionnaireResponse or Observation says, checked: who, which
    measure, the answers (a response) or the score (an Observation), and when."""

    student: Student
    instrument: object
    completed_at: dt.datetime
    answers: list[int | None] | None = None
    score: float | None = None


def _questionnaire_response(user, response, here: str, request, refs=None, warnings=None) -> _Score:
    if response.status not in ("completed", "amended"):
        raise FhirError(
            422,
            f"Only a completed questionnaire can be scored; this one is {response.status!r}.",
            code="business-rule",
            expression=f"{here}.status",
        )
    student = _student(user, response.subject, f"{here}.subject", request, refs)
    sender = _SendersQuestionnaire.of(response)
    instrument = _instrument(response, sender, here)
    answers, stated = _answers(instrument, response, sender, here, warnings)
    if warnings is not None:
        warnings.extend(_scoring_notes(instrument, answers, stated, here))
    completed_at = _completed_at(_moment(response.authored), f"{here}.authored")
    return _Score(student, instrument, completed_at, answers=answers)


def _scoring_notes(instrument, answers: list[int | None], stated, here: str) -> list[dict]:
    """What the sender should know of the score worked out from its answers: none could be
    (too many items unanswered), or it differs from the total the sender stated."""
    result = scoring.score(instrument.code, answers)
    if not result.valid:
        missing = ", ".join(map(str, result.missing_items))
        return [_note(f"No score was recorded: {instrument.code} items {missing} are not "
                      f"answered, and it is scored with at most {instrument.max_missing} "
                      "missing. The answers given were stored.", f"{here}.item")]  # fmt: skip
    stated_value, field = stated or (None, "")
    # To one decimal place, as scores are shown (a prorated total may be sent rounded).
    scored = {round(x, 1) for x in (result.main_score, result.total) if x is not None}
    recorded = result.main_score if result.main_score is not None else result.total
    if stated_value is not None and recorded is not None and round(stated_value, 1) not in scored:
        return [_note(f"The total sent ({stated_value:g}) was not kept: the answers score "
                      f"{recorded:g}, which was recorded.", field)]  # fmt: skip
    return []


def _note(diagnostics: str, field: str) -> dict:
    return {"severity": "warning", "code": "informational", "diagnostics": diagnostics,
            "expression": [field]}  # fmt: skip


def _stated_value(entry) -> float | None:
    """The number a stated total carries, however it is sent."""
    for answer in entry.answer or []:
        for value in (answer.valueInteger, answer.valueDecimal,
                      answer.valueQuantity and answer.valueQuantity.value):  # fmt: skip
            if value is not None:
                return float(value)
    return None


def _completed_at(moment, field: str) -> dt.datetime:
    completed_at = moment or timezone.now()
    if completed_at > timezone.now():
        raise FhirError(422, "The questionnaire cannot be completed in the future.",
                        code="business-rule", expression=field)  # fmt: skip
    return completed_at


def _record(user, score: _Score, here: str, request) -> Administration:
    """Record (score, file, audit, flag) through the measures service, as on the pages."""
    service = importing_patients.client_service(user)
    try:
        return record_administration(
            actor=user,
            student=score.student,
            service=service,
            code=score.instrument.code,
            method=Administration.Method.IMPORTED,
            request=request,
            # filed under the episode its date falls in, if any
            answers=score.answers,
            score=score.score,
            completed_at=score.completed_at,
        )
    except (ValueError, ValidationError) as error:
        raise FhirError(422, _message(error), code="business-rule", expression=here) from error


def _same_as_held(held: Administration, score: _Score, resource_type: str, here: str) -> None:
    """A resource resent under an identifier already held must say what the record says:
    the same patient, measure, answers or score. Anything else is refused, so a resend
    never silently drops a correction, or another patient's questionnaire."""
    if held.student_id != score.student.pk:
        problem = "names a record about another patient"
    elif held.code != score.instrument.code:
        problem = f"names a {held.code}, not a {score.instrument.code}"
    elif score.answers is not None and _held_answers(held) != score.answers:
        problem = "names a response with other answers"
    elif score.score is not None and held.main_score != score.score:
        problem = f"names a score of {held.main_score:g}, not {score.score:g}"
    else:
        return
    raise FhirError(
        409,
        f"This {resource_type}'s identifier {problem} here. Records are not changed by "
        "sending them again: give a new record an identifier of its own.",
        code="conflict",
        expression=f"{here}.identifier",
    )


def _held_answers(held: Administration) -> list[int | None]:
    given = dict(held.answers.values_list("item", "value"))
    return [given.get(n) for n in range(1, len(instruments.get(held.code).items) + 1)]


def _moment(value) -> dt.datetime | None:
    """A FHIR dateTime as an aware datetime: a bare date means the start of that day here."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if timezone.is_naive(value):
        value = value.replace(tzinfo=timezone.get_current_timezone())
    return value


class _SendersQuestionnaire:
    """What the sender's own Questionnaire, contained in the response, says: the LOINC code
    of each of its items (by linkId), and its own code, url and name."""

    def __init__(self, questionnaire=None):
        self.item_codes: dict[str, str] = {}
        self.codes: list[str] = []
        self.names: list[str] = []
        if questionnaire is None:
            return
        stack = list(questionnaire.item or [])
        while stack:
            item = stack.pop()
            stack.extend(item.item or [])
            for coding in item.code or []:
                if _is_loinc(coding.system) and coding.code:
                    self.item_codes[item.linkId] = coding.code
        self.codes = [c.code for c in questionnaire.code or [] if _is_loinc(c.system) and c.code]
        self.names = [n for n in (questionnaire.url, questionnaire.name, questionnaire.title) if n]

    @classmethod
    def of(cls, response) -> "_SendersQuestionnaire":
        """The contained Questionnaire the response names (`#id`), or its only one."""
        contained = [
            c for c in response.contained or [] if c.get_resource_type() == "Questionnaire"
        ]
        wanted = (response.questionnaire or "").removeprefix("#")
        named = [c for c in contained if c.id and c.id == wanted]
        chosen = named[0] if named else contained[0] if len(contained) == 1 else None
        return cls(chosen)


def _is_loinc(system: str | None) -> bool:
    return system is not None and system.rstrip("/") in (mapping.LOINC, "https://loinc.org")


def _loinc_of(item, sender: _SendersQuestionnaire) -> str | None:
    if item.definition and "loinc.org" in item.definition:
        match = mapping.LOINC_AT_END.search(item.definition.rstrip("/"))
        if match:
            return match.group(1)
    if item.linkId in sender.item_codes:
        return sender.item_codes[item.linkId]
    last = item.linkId.rstrip("/").rsplit("/", 1)[-1]
    if instruments.loinc_code_problem(last) is None:
        return last
    return None


def _flat_items(items):
    for item in items or []:
        yield item
        yield from _flat_items(item.item)


def _instrument(response, sender: _SendersQuestionnaire, here: str):
    """The measure, in this order: named by the response's canonical (ours, a LOINC panel's,
    or another organisation's naming the measure), by the contained Questionnaire's code,
    url or name, else the one measure whose LOINC item codes include every coded item sent."""
    every = instruments.all_instruments()
    names = [response.questionnaire or "", *sender.names]
    for name in filter(None, names):
        found = mapping.instruments_named(name, every)
        if len(found) == 1:
            return found[0]
    for panel in sender.codes:
        found = [i for i in every if i.loinc_panel == panel]
        if len(found) == 1:
            return found[0]
    codes = {_loinc_of(i, sender) for i in _flat_items(response.item)} - {None}
    candidates = [i for i in every if codes and codes <= _codes_of(i)]
    if len(candidates) != 1:
        raise FhirError(
            422,
            f"Cannot tell which questionnaire {response.questionnaire or 'this'} is: refer to "
            "one of this server's Questionnaires (GET /fhir/Questionnaire), a LOINC panel, or "
            "a canonical ending in the measure's name, or code each item with its LOINC code.",
            code="code-invalid",
            expression=f"{here}.questionnaire",
        )
    return candidates[0]


def _codes_of(instrument) -> set[str]:
    return (
        {item.loinc for item in instrument.items}
        | {instrument.loinc_total}
        | {u.loinc for u in instrument.unscored_items}
    )


_TRAILING_NUMBER = re.compile(r"(\d+)$")


def _answers(
    instrument, response, sender: _SendersQuestionnaire, here: str, warnings=None
) -> tuple[list[int | None], tuple[float, str] | None]:
    """The answers by item number, and the total the sender stated (with where), if any.
    An item is matched by its LOINC code, else (for a response of this measure whose
    linkIds are not codes) by the number its linkId ends in. An answered item that is not
    scored (none of the measure's, or one it asks but never scores) is not stored, and is
    named in a warning; a stated total is never trusted."""
    by_loinc = {item.loinc: item for item in instrument.items if item.loinc}
    by_number = {str(item.number): item for item in instrument.items}
    unscored = {u.loinc for u in instrument.unscored_items} - {None}
    answers: dict[int, int] = {}
    stated = None
    for index, entry in enumerate(_flat_items(response.item)):
        field = f"{here}.item[{index}]"
        code = _loinc_of(entry, sender)
        if mapping.plain_name(entry.linkId).endswith("total") or (
            code and code == instrument.loinc_total
        ):
            value = _stated_value(entry)
            stated = (value, field) if value is not None else stated
            continue  # a stated total is never trusted
        if code in unscored:
            if entry.answer and warnings is not None:
                warnings.append(_not_scored(instrument, entry, code, field))
            continue
        item = by_loinc.get(code) if code else None
        if item is None and code is None:
            number = _TRAILING_NUMBER.search(entry.linkId)
            item = by_number.get(number.group(1).lstrip("0")) if number else None
        if item is None:
            if entry.answer and warnings is not None:
                warnings.append(_unscored(instrument, entry, code, field))
            continue  # a group, a display item, or an item of no measure here
        if item.number in answers:
            raise FhirError(422, f"{instrument.code} item {item.number} is answered twice.",
                            code="business-rule", expression=field)  # fmt: skip
        if not entry.answer:
            continue
        if len(entry.answer) > 1:
            raise FhirError(422, f"{instrument.code} item {item.number} has "
                            f"{len(entry.answer)} answers; it takes one.",
                            code="business-rule", expression=f"{field}.answer")  # fmt: skip
        answers[item.number] = _answer_value(instrument, item, entry.answer[0], field)
    if not answers:
        raise FhirError(422, f"The response answers none of {instrument.code}'s items.",
                        code="required", expression=f"{here}.item")  # fmt: skip
    return [answers.get(item.number) for item in instrument.items], stated


def _unscored(instrument, entry, code, field: str) -> dict:
    return _note(
        f"Item {entry.linkId!r} (LOINC {code or 'none'}) is not an item of "
        f"{instrument.code}; it was kept out of the score and not stored.",
        field,
    )


def _not_scored(instrument, entry, code, field: str) -> dict:
    return _note(
        f"Item {entry.linkId!r} (LOINC {code}) is asked with {instrument.code} but "
        "is not part of its score; its answer was not stored.",
        field,
    )


def _answer_value(instrument, item, answer, field: str) -> int:
    allowed = instruments.format_range(instrument.answer_min, instrument.answer_max)
    if answer.valueCoding is not None:
        coding = answer.valueCoding
        for option in instrument.options:
            ours = mapping.answer_coding(instrument, option)
            # A LOINC answer code means one answer whatever system it is sent with; this
            # server's own codes are numbers, matched with its system or none.
            if option.loinc and coding.code == option.loinc:
                return option.value
            if coding.system in (None, ours["system"]) and coding.code == ours["code"]:
                return option.value
        raise FhirError(
            422,
            f"{instrument.code} item {item.number}: the answer code "
            f"{coding.system or '(no system)'}|{coding.code} is not one of its answers.",
            code="code-invalid",
            expression=f"{field}.answer[0].valueCoding",
        )
    if answer.valueInteger is not None:
        if not instrument.answer_min <= answer.valueInteger <= instrument.answer_max:
            raise FhirError(
                422,
                f"{instrument.code} item {item.number}: {answer.valueInteger} is outside the "
                f"answers {allowed}.",
                code="value",
                expression=f"{field}.answer[0].valueInteger",
            )
        return answer.valueInteger
    raise FhirError(
        422,
        f"{instrument.code} item {item.number}: answer with a valueCoding (LOINC answer code) "
        f"or a valueInteger ({allowed}).",
        code="value",
        expression=f"{field}.answer[0]",
    )


# Observation: a score without its answers ----------------------------------------------


def _observation(user, observation, here: str, request, refs=None, warnings=None) -> _Score:
    """An Observation carrying a questionnaire's score (PHQ-9 total, LOINC 44261-6, …),
    recorded as that measure's score without items."""
    if observation.status not in ("final", "amended", "corrected"):
        raise FhirError(422, f"Only a final score can be recorded; this one is "
                        f"{observation.status!r}.", code="business-rule",
                        expression=f"{here}.status")  # fmt: skip
    student = _student(user, observation.subject, f"{here}.subject", request, refs)
    codings = observation.code.coding or []
    found = {i.code: i for c in codings if c.code for i in mapping.scored_as(c.system, c.code)}
    if len(found) != 1:
        known = ", ".join(
            f"{i.code} {mapping.score_coding(i)['code']}" for i in instruments.all_instruments()
        )
        raise FhirError(
            422,
            "The Observation's code is not the score of a questionnaire this server knows "
            f"(by LOINC where one exists: {known}).",
            code="code-invalid",
            expression=f"{here}.code",
        )
    (instrument,) = found.values()
    value = _observed_value(observation, f"{here}")
    effective = observation.effectiveDateTime or (
        observation.effectivePeriod.start if observation.effectivePeriod else None
    )
    completed_at = _completed_at(_moment(effective or observation.issued), f"{here}.effective")
    if observation.derivedFrom and warnings is not None:
        warnings.append({
            "severity": "warning", "code": "informational",
            "diagnostics": "derivedFrom was not kept: the score is recorded alone, derived from "
            "no response held here. Send the QuestionnaireResponse itself to record the "
            "answers.",
            "expression": [f"{here}.derivedFrom"],
        })  # fmt: skip
    return _Score(student, instrument, completed_at, score=value)


# The received types that become a questionnaire's score, and how each is read.
SCORES = {"QuestionnaireResponse": _questionnaire_response, "Observation": _observation}


def _observed_value(observation, here: str) -> float:
    if observation.valueQuantity is not None and observation.valueQuantity.value is not None:
        return float(observation.valueQuantity.value)
    if observation.valueInteger is not None:
        return float(observation.valueInteger)
    raise FhirError(422, "The score is missing: give it as valueQuantity.value or valueInteger.",
                    code="required", expression=f"{here}.value[x]")  # fmt: skip


# ServiceRequest ---------------------------------------------------------------------------


def _service_request(user, service_request, here: str, request, refs=None) -> Referral:
    if service_request.status not in ("active", "draft"):
        raise FhirError(422, "A new referral must be active (sent) or draft.",
                        code="business-rule", expression=f"{here}.status")  # fmt: skip
    student = _student(user, service_request.subject, f"{here}.subject", request, refs)
    to_service = _performer(service_request, here, refs)
    reasons = [c.text for c in service_request.reasonCode or [] if c.text]
    reasons += [n.text for n in service_request.note or [] if n.text]
    from_service = importing_patients.client_service(user)
    source = "gp" if from_service.kind == Service.Kind.GENERAL_PRACTICE else "service"
    try:
        return create_referral(
            actor=user,
            student=student,
            to_service=to_service,
            source=source,
            reason="\n\n".join(reasons),
            from_service=from_service,
            send=service_request.status == "active",
            request=request,
        )
    except ValidationError as error:
        fields = getattr(error, "message_dict", {})
        expression = {
            "to_service": f"{here}.performer[0]",
            "reason": f"{here}.reasonCode[0].text",
        }.get(next(iter(fields), ""), here)
        raise FhirError(422, _message(error), code="business-rule",
                        expression=expression) from error  # fmt: skip


def _performer(service_request, here: str, refs=None) -> Service:
    performers = service_request.performer or []
    reference = performers[0].reference if performers else None
    if reference and refs is not None:
        reference = refs.resolve(reference)
    key = (reference or "").removeprefix("HealthcareService/")
    service = None
    if reference and reference.startswith("HealthcareService/") and importing_patients.is_uuid(key):
        service = Service.objects.select_related("organisation").filter(uuid=key).first()
    if service is None:
        raise FhirError(
            422,
            "performer must name the receiving service as HealthcareService/<id> "
            "(GET /fhir/HealthcareService lists them).",
            code="not-found",
            expression=f"{here}.performer[0]",
        )
    return service


def _message(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


# Transaction Bundles ----------------------------------------------------------------------


def transaction(user, resource: dict, *, request=None) -> dict:
    """Import a transaction Bundle: every entry or none. Each problem is reported as an
    OperationOutcome issue naming the entry and the field; resending the same Bundle changes
    nothing (entries are matched by their identifiers)."""
    if resource.get("resourceType") != "Bundle":
        raise FhirError(400, "POST a Bundle here.", expression="resourceType")
    if resource.get("type") != "transaction":
        raise FhirError(422, "Only transaction Bundles are accepted here (type: transaction).",
                        expression="Bundle.type")  # fmt: skip
    entries = resource.get("entry")
    if not isinstance(entries, list) or not entries:
        raise FhirError(422, "The Bundle has no entries.", code="required",
                        expression="Bundle.entry")  # fmt: skip
    if len(entries) > MAX_BUNDLE_ENTRIES:
        raise FhirError(413, f"A Bundle may hold at most {MAX_BUNDLE_ENTRIES} entries.",
                        code="too-costly", expression="Bundle.entry")  # fmt: skip
    results: dict[int, Made] = {}
    errors: list[tuple[int, FhirError]] = []
    refs = importing_patients.References()
    with kept_through_rollback(), db_transaction.atomic():
        for index in _processing_order(entries):
            entry = entries[index]
            where = f"Bundle.entry[{index}]."
            try:
                with db_transaction.atomic():
                    results[index] = _entry(user, entry, where, request, refs)
                refs.add(entry, entry["resource"], results[index].resource)
            except FhirError as error:
                error.diagnostics = f"Entry {index}: {error.diagnostics}"
                error.expression = error.expression or where.rstrip(".")
                errors.append((index, error))
        for error in importing_patients.unreachable_patients(user, refs):
            index = int(error.expression.split("[", 1)[1].split("]", 1)[0])
            error.diagnostics = f"Entry {index}: {error.diagnostics}"
            errors.append((index, error))
        if errors:
            problems = [error for _index, error in sorted(errors, key=lambda pair: pair[0])]
            status = max(e.status for e in problems)
            raise BundleError(status if status < 500 else 422, problems)
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [_response_entry(results[index]) for index in range(len(entries))],
    }


def _response_entry(made: Made) -> dict:
    response = {
        "status": "201 Created" if made.is_new else "200 OK",
        "location": f"{made.resource['resourceType']}/{made.resource['id']}",
    }
    if made.warnings:
        response["outcome"] = {"resourceType": "OperationOutcome", "issue": made.warnings}
    return {"resource": made.resource, "response": response}


def _processing_order(entries: list) -> list[int]:
    """Entry indexes with the kinds others refer to first (see `BUNDLE_ORDER`); an entry of
    another kind keeps its place at the end, where `_entry` refuses it."""

    def rank(index: int) -> int:
        entry = entries[index]
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        return BUNDLE_ORDER.index(kind) if kind in BUNDLE_ORDER else len(BUNDLE_ORDER)

    return sorted(range(len(entries)), key=lambda index: (rank(index), index))


def _entry(user, entry, where: str, request, refs) -> Made:
    if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
        raise FhirError(400, "Each entry needs a resource.", expression=f"{where}resource")
    resource = entry["resource"]
    resource_type = resource.get("resourceType")
    request_part = entry.get("request")
    request_part = request_part if isinstance(request_part, dict) else {}
    method, url = request_part.get("method"), request_part.get("url")
    if method != "POST" or not isinstance(url, str) or url.split("?")[0] != resource_type:
        raise FhirError(
            422,
            f"Each entry must be a create: request.method POST and request.url {resource_type!r}.",
            expression=f"{where}request",
        )
    if resource_type not in BUNDLE_ORDER:
        raise FhirError(422, f"{resource_type} cannot be imported. A Bundle may carry "
                        f"{', '.join(BUNDLE_ORDER)}.", code="not-supported",
                        expression=f"{where}resource.resourceType")  # fmt: skip
    return _create(user, resource, request=request, here=f"{where}resource", refs=refs)
