"""What `Patient/<id>/$everything` is asked for: which types, the care dates (`start`,
`end`), what changed since (`_since`), and a page (`_count`, `_page`)."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from joinedup.fhir.errors import FhirError
from joinedup.fhir.search import DEFAULT_COUNT, MAX_COUNT, MAX_PAGE, date_range, is_whole_number

PARAMETERS = ("_type", "start", "end", "_since", "_count", "_page")
# Each type's care date: where its resource says when the care it records happened. A type
# without one (the patient, the places) is always in the record.
CARE_DATES = {
    "ServiceRequest": ("authoredOn",),
    "Task": ("authoredOn",),
    "EpisodeOfCare": ("period", "start"),
    "QuestionnaireResponse": ("authored",),
    "Observation": ("effectiveDateTime",),
    "Flag": ("period", "start"),
    "Consent": ("dateTime",),
    "AuditEvent": ("recorded",),
}


@dataclass(frozen=True)
class Wanted:
    types: frozenset[str] | None
    start: dt.datetime | None
    end: dt.datetime | None
    since: dt.datetime | None
    count: int
    page: int
    query: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, params) -> "Wanted":
        for name in params:
            if name not in PARAMETERS:
                raise FhirError(400, f"$everything takes {', '.join(PARAMETERS)}; not {name!r}.",
                                code="not-supported", expression=name)  # fmt: skip
        types = None
        if params.get("_type"):
            types = frozenset(t.strip() for t in params["_type"].split(",") if t.strip())
            unknown = sorted(types - set(settings.FHIR_RESOURCES))
            if unknown:
                raise FhirError(400, f"_type: {unknown[0]} is not served here.",
                                code="not-supported", expression="_type")  # fmt: skip
        start = _moment(params, "start", 0)
        end = _moment(params, "end", 1)
        if start and end and end <= start:
            raise FhirError(400, "end must be after start.", expression="end")
        return cls(
            types=types,
            start=start,
            end=end,
            since=_moment(params, "_since", 0),
            count=_number(params, "_count", DEFAULT_COUNT, MAX_COUNT),
            page=_number(params, "_page", 1, MAX_PAGE),
            query=tuple((k, v) for k in params for v in params.getlist(k) if k != "_page"),
        )

    def keeps(self, resource: dict) -> bool:
        """Whether a resource of the record is in what was asked for."""
        if self.since is not None:
            updated = (resource.get("meta") or {}).get("lastUpdated")
            if updated is not None and dt.datetime.fromisoformat(updated) < self.since:
                return False
        path = CARE_DATES.get(resource["resourceType"])
        if path is None or (self.start is None and self.end is None):
            return True
        value = resource
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            return True  # undated: not outside the dates asked for
        when = dt.datetime.fromisoformat(value)
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)

    def url(self, base: str, key: str, page: int) -> str:
        return f"{base}/Patient/{key}/$everything?{urlencode([*self.query, ('_page', page)])}"


def _moment(params, name: str, side: int) -> dt.datetime | None:
    """A date parameter as the start (side 0) or the end (side 1) of the time it names."""
    value = params.get(name)
    return date_range(value.replace(" ", "+"), name)[side] if value else None


def _number(params, name: str, default: int, most: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not is_whole_number(value) or int(value) < 1:
        raise FhirError(400, f"{name} must be a whole number above 0.", expression=name)
    return min(int(value), most)
