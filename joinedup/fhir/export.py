"""FHIR Bulk Data export (`$export`): NDJSON files of every resource a client may see.

The kick-off records an `ExportJob` and enqueues `tasks.run_export`, which writes one file per
resource type through the same access rule as a search (`access.visible_by_student`: the
readable students worked out once, then rows fetched a few hundred students at a time, in
keyset-paged batches, so memory and time per batch stay flat whatever the size). Rows are
fetched as plain values and built without Django's per-instance work (`plain.PlainRows`), and
Observations are rendered in the QuestionnaireResponse pass over the same administrations:
both render exactly what the model rows would (tested). Each student whose data goes out is
audited once per category before the files can be fetched. Files are gzipped batch by batch
as they are written and kept in the database beside the job, so they share its protection
and go when it is cancelled or pruned (`prune_fhir_exports`); only the client that asked can
fetch them."""

import gc
import threading
import zlib
from contextlib import contextmanager
from dataclasses import replace

from django.db import transaction
from django.db.models import F
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from joinedup.consent.policy import audit_listing
from joinedup.fhir.access import (
    KINDS,
    PERSONAL,
    administrations,
    caseload_of,
    registration_readable,
    visible,
    visible_by_student,
)
from joinedup.fhir.errors import FhirError
from joinedup.fhir.mapping import versioned_json
from joinedup.fhir.models import ExportFile, ExportJob
from joinedup.fhir.plain import Directory, PlainRows
from joinedup.fhir.resources import questionnaires, render
from joinedup.fhir.search import date_range
from joinedup.people.models import Student

BATCH = 5000
AUDIT_BATCH = 5000
# A client's own audit trail is searchable (/fhir/AuditEvent) but not part of an export.
SYSTEM_TYPES = (*(k for k in KINDS if k != "AuditEvent"), "Questionnaire")
PATIENT_TYPES = tuple(t for t in PERSONAL if t != "AuditEvent")
# Types rendered from another type's rows in the same pass: same rows, access rule, update
# time and audit category (rendering leaves out the response of a score stated without
# answers, and the Observation of an administration without a score).
SHARED_ROWS = {"Observation": "QuestionnaireResponse"}
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def start_export(
    user, *, patient_level: bool, params, may_read, request_url: str, group=None
) -> ExportJob:
    """Check the kick-off parameters and record the job; the task starts after commit. A
    `group` (a service) limits the export to its caseload's patients."""
    from joinedup.fhir.tasks import run_export

    allowed = PATIENT_TYPES if patient_level or group is not None else SYSTEM_TYPES
    for name in params:
        if name not in ("_type", "_since", "_outputFormat"):
            raise FhirError(400, f"The $export parameter {name!r} is not supported.",
                            code="not-supported", expression=name)  # fmt: skip
    output_format = params.get("_outputFormat", NDJSON_FORMATS[0])
    if output_format not in NDJSON_FORMATS:
        raise FhirError(400, f"Only NDJSON output is offered, not {output_format!r}.",
                        code="not-supported", expression="_outputFormat")  # fmt: skip
    types = [t for t in params.get("_type", "").split(",") if t] or list(allowed)
    for name in types:
        if name not in allowed:
            raise FhirError(400, f"{name} cannot be exported here. Allowed: "
                            f"{', '.join(allowed)}.", code="not-supported",
                            expression="_type")  # fmt: skip
    if params.get("_type"):
        refused = [t for t in types if not may_read(t)]
        if refused:
            raise FhirError(403, f"This client's token lacks the scope system/{refused[0]}.read.",
                            code="forbidden", expression="_type")  # fmt: skip
    else:
        types = [t for t in types if may_read(t)]
    since = None
    if params.get("_since"):
        since = date_range(params["_since"].replace(" ", "+"), "_since")[0]
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user, request_url=request_url, resource_types=types, since=since,
            group=group,
        )  # fmt: skip
        transaction.on_commit(lambda: run_export.enqueue(job.pk))
    return job


def write_export(job: ExportJob) -> None:
    """Write the job's files, type by type; stops early when the client cancels.

    Each student whose data goes out is audited once, with every category exported, before
    the files can be fetched (one entry per student and category, not per row or type)."""
    with _fewer_collections():
        _write_export(job)


_COLLECTING = threading.Lock()
_exports_running = 0
_collecting_as_before: list[int] = []


@contextmanager
def _fewer_collections():
    """Python's cyclic garbage collector runs, at its usual thresholds, after every 700 new
    objects, and an export makes millions (a fifth of its time went to collecting). For the
    length of an export it runs after every 100,000, and leaves out what was alive before.
    The first export to start sets this and the last to end puts it back, so exports that
    overlap in one process never leave it set."""
    global _exports_running
    with _COLLECTING:
        if _exports_running == 0:
            _collecting_as_before[:] = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(100_000, 50, 100)
        _exports_running += 1
    try:
        yield
    finally:
        with _COLLECTING:
            _exports_running -= 1
            if _exports_running == 0:
                gc.set_threshold(*_collecting_as_before)
                gc.unfreeze()


def _write_export(job: ExportJob) -> None:
    user = job.requested_by
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    audited: dict[int, set[str]] = {}
    shared: dict[str, list[str]] = {}
    within = caseload_of(user) if job.group_id is not None else None
    for number, name in enumerate(job.resource_types, start=1):
        if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.CANCELLED).exists():
            return
        ExportJob.objects.filter(pk=job.pk).update(
            progress=f"Writing {name} ({number} of {len(job.resource_types)})"
        )
        file = _export_type(user, name, job, audited, shared, within)
        if file.count:
            ExportFile.objects.create(job=job, resource_type=name, count=file.count,
                                      gzipped=file.finish())  # fmt: skip
    _audit(user, audited, job)
    ExportJob.objects.filter(pk=job.pk).exclude(status=ExportJob.Status.CANCELLED).update(
        status=ExportJob.Status.COMPLETE, progress="", finished_at=timezone.now()
    )


def _audit(user, audited: dict[int, set[str]], job: ExportJob) -> None:
    student_ids = sorted(audited)
    for offset in range(0, len(student_ids), AUDIT_BATCH):
        audit_listing(
            user,
            # Keys only: a whole new Student per exported student costs a tenth of the export.
            [_key_only(pk) for pk in student_ids[offset : offset + AUDIT_BATCH]],
            action="fhir.export",
            reason=f"FHIR bulk export {job.uuid}",
            categories=lambda student: sorted(audited[student.pk]),
        )


def _key_only(pk: int) -> Student:
    return Student.from_db(None, ["id"], [pk])


class GzippedNdjson:
    """An NDJSON file being written, gzipped as it goes: a batch of resources at a time."""

    # Level 1: four times faster than the default, and the file still shrinks about tenfold.
    LEVEL = 1

    def __init__(self):
        self.count = 0
        self._compressor = zlib.compressobj(self.LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._parts: list[bytes] = []

    def write(self, resources) -> None:
        lines = [versioned_json(resource)[0] for resource in resources]
        if lines:
            self.count += len(lines)
            self._parts.append(self._compressor.compress(("\n".join(lines) + "\n").encode()))

    def finish(self) -> bytes:
        self._parts.append(self._compressor.flush())
        return b"".join(self._parts)


def _export_type(user, name: str, job: ExportJob, audited, shared, within) -> GzippedNdjson:
    """One type's file, noting in `audited` the categories each student's rows went out in.
    A type whose rows another type's pass already rendered (`SHARED_ROWS`) takes its file
    from `shared`. `within`: only these students' rows (a group's members)."""
    if name in shared:
        return shared.pop(name)
    file = GzippedNdjson()
    if name == "Questionnaire":
        file.write(questionnaires())
        return file
    kind = KINDS[name]
    # Types made from the same rows, with the same access rule and audit category, are
    # rendered in this one pass (an Observation is a scored administration's total), over
    # every administration: rendering skips those that are not one or the other.
    later = job.resource_types[job.resource_types.index(name) + 1 :]
    also = [t for t, source in SHARED_ROWS.items() if source == name and t in later]
    for other in also:
        shared[other] = GzippedNdjson()
    if also:
        kind = replace(kind, rows=administrations)
    if kind.category:
        pieces = visible_by_student(user, kind, within=within)
    else:
        pieces = [visible(user, kind)]
    now = timezone.now()
    directory = Directory()
    plain = None
    readable_registration: set[int] | None = None
    for rows in pieces:
        if job.since is not None and kind.updated is not None:
            updated = F(kind.updated) if isinstance(kind.updated, str) else kind.updated
            rows = rows.alias(_updated=updated).filter(_updated__gte=job.since)
        plain = plain or PlainRows(rows, directory)
        for batch in _batches(rows, plain):
            registration: set[int] = set()
            if kind.category is not None:
                student_ids = [r.pk if name == "Patient" else r.student_id for r in batch]
                if name == "Patient":
                    if readable_registration is None:  # once: one query, not one per batch
                        readable_registration = registration_readable(user)
                    registration = readable_registration.intersection(student_ids)
                for pk in student_ids:
                    audited.setdefault(pk, {"identity"}).add(kind.category)
                for pk in registration:
                    audited[pk].add("registration")
            file.write(render(name, batch, registration_ids=registration, now=now))
            for other in also:
                shared[other].write(render(other, batch, now=now))
    return file


def _batches(rows, plain: PlainRows):
    """The rows in keyset-paged batches, each built from plain values (`plain`)."""
    last = 0
    while True:
        batch = plain.fetch(rows.filter(pk__gt=last).order_by("pk")[:BATCH])
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        last = batch[-1].pk


def file_response(file: ExportFile, accept_encoding: str):
    """The file as stored (gzipped) to a client that accepts gzip, else unzipped as it is
    sent, a piece at a time."""
    if _accepts_gzip(accept_encoding):
        response = HttpResponse(bytes(file.gzipped), content_type=NDJSON_FORMATS[0])
        response["Content-Encoding"] = "gzip"
    else:
        response = StreamingHttpResponse(_gunzip(bytes(file.gzipped)),
                                         content_type=NDJSON_FORMATS[0])  # fmt: skip
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _accepts_gzip(accept_encoding: str) -> bool:
    for coding in accept_encoding.split(","):
        name, *parameters = (part.strip().lower() for part in coding.split(";"))
        if name in ("gzip", "*"):
            return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
                           for p in parameters)  # fmt: skip
    return False


def _gunzip(data: bytes, piece: int = 1 << 20):
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for offset in range(0, len(data), piece):
        yield decompressor.decompress(data[offset : offset + piece])
    yield decompressor.flush()


def manifest(job: ExportJob, base: str) -> dict:
    return {
        "transactionTime": job.created_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{base}/$export-files/{f.uuid}", "count": f.count}
            for f in job.files.only("uuid", "resource_type", "count", "job_id")
        ],
        "error": [],
    }
