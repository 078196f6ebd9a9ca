"""Importing historical scores from another system's CSV export.

One row per questionnaire: a student identifier (`nhs_number`, or `student_number` for a
university service), `date` (YYYY-MM-DD), `measure` (e.g. PHQ-9), an optional `session`, and
either the item answers `item_1` … `item_N` (positions, as `scoring.score` takes them) or a
`score`: the score bands use (the total; the clinical score for the CORE-OM; the metric
score for the SWEMWBS). Scores are recomputed from answers, and a stated `score` that does
not match the answers is an error.

A file is all or nothing: every row is checked first and, if any fails, nothing is saved
and the report says which rows failed and why. Each row has a digest (`import_key`), so
importing the same file again changes nothing. Each score is filed under the student's
episode at the service whose dates cover its date, or under none: never under an episode
that began after it (`selectors.filing_episodes`).
"""

import csv
import datetime as dt
import functools
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from joinedup.audit.services import Entry, append
from joinedup.measures import instruments, scoring
from joinedup.measures.models import Administration, Answer
from joinedup.measures.selectors import filing_episodes
from joinedup.people.models import Student
from joinedup.people.validators import normalise_nhs_number

IDENTIFIERS = ("nhs_number", "student_number")
ITEM_COLUMNS = [
    f"item_{n}" for n in range(1, max(i.item_count for i in instruments.all_instruments()) + 1)
]
# A stated score may differ from the recomputed one by rounding in the other system.
SCORE_TOLERANCE = 0.05


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    identifier: tuple[str, str]
    completed_at: dt.datetime
    code: str
    session: int | None
    answers: list[int | None] | None
    result: object
    key: str = ""


def import_history(
    *, actor, service, lines: Iterable[str], progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Check every row, then save them all in one transaction, or nothing."""
    report = ImportReport()
    reader = csv.DictReader(lines)
    problem = _header_problem(reader.fieldnames or [])
    if problem:
        report.errors.append((1, problem))
        return report
    rows = []
    item_columns = [c for c in ITEM_COLUMNS if c in reader.fieldnames]
    for raw in reader:
        report.rows += 1
        try:
            rows.append(_parse(raw, reader.line_num, item_columns))
        except ValueError as error:
            report.errors.append((reader.line_num, str(error)))
        if progress and report.rows % 1000 == 0:
            progress(1000)
    if progress:
        progress(report.rows % 1000)
    students = _students_for(service, {row.identifier for row in rows})
    for row in rows:
        student_id = students.get(row.identifier)
        if student_id is None:
            report.errors.append(
                (
                    row.line,
                    f"No student with {row.identifier[0]} "
                    f"{row.identifier[1]!r} at {service.organisation}.",
                )
            )
            continue
        row.key = _key(service.pk, student_id, row)
    if report.errors:
        report.errors.sort()
        return report
    with transaction.atomic():
        existing = _existing_keys([row.key for row in rows])
        new, seen = [], set(existing)
        for row in rows:
            if row.key not in seen:
                seen.add(row.key)
                new.append(row)
        report.already_present = len(rows) - len(new)
        episodes = filing_episodes(
            service, [(students[row.identifier], row.completed_at) for row in new]
        )
        report.errors = _session_clashes(new, episodes)
        if report.errors:
            return report
        _insert(new, episodes, students, service, actor)
        report.imported = len(new)
        per_student = Counter(students[row.identifier] for row in new)
        append(
            [
                Entry(
                    "measures.history.imported",
                    actor=actor,
                    student=Student(pk=student_id),
                    category="outcomes",
                    reason=f"{count} questionnaires imported into {service}",
                )
                for student_id, count in sorted(per_student.items())
            ]
        )
    return report


def _header_problem(columns: list[str]) -> str | None:
    if "date" not in columns or "measure" not in columns:
        return "The file needs the columns date and measure."
    if not any(c in columns for c in IDENTIFIERS):
        return "The file needs a student identifier column: nhs_number or student_number."
    if "score" not in columns and "item_1" not in columns:
        return "The file needs either item columns (item_1, item_2, …) or a score column."
    return None


def _parse(raw: dict, line: int, item_columns: list[str]) -> _Row:
    if None in raw:
        raise ValueError("The row has more values than the header has columns.")
    identifier = next(
        ((c, raw[c].strip()) for c in IDENTIFIERS if (raw.get(c) or "").strip()), None
    )
    if identifier is None:
        raise ValueError("The row has no nhs_number or student_number.")
    if identifier[0] == "nhs_number":
        identifier = ("nhs_number", normalise_nhs_number(identifier[1]))
    code = (raw.get("measure") or "").strip().upper()
    instrument = instruments.get(code)  # raises ValueError naming the known measures
    completed_at = _date(raw.get("date") or "")
    session = _session(raw.get("session") or "")
    answers = _answers(raw, instrument, item_columns)
    stated = _stated_score(raw)
    if answers is not None:
        result = scoring.score(code, answers)
        if (
            stated is not None
            and result.main_score is not None
            and abs(stated - result.main_score) > SCORE_TOLERANCE
        ):
            raise ValueError(
                f"The stated score {stated:g} does not match the answers, which "
                f"score {result.main_score:g}."
            )
    elif stated is not None:
        result = scoring.stated(code, stated)
    else:
        raise ValueError("The row has neither item answers nor a score.")
    return _Row(line, identifier, completed_at, code, session, answers, result)


def _stated_score(raw: dict) -> float | None:
    text = (raw.get("score") or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"The score {text!r} is not a number.") from None


@functools.cache
def _date(text: str) -> dt.datetime:
    """Noon on the day given (histories rarely record the time); cached, as files repeat
    dates many times."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"The date {text!r} is not a date like 2025-01-31.") from None
    if day > timezone.localdate():
        raise ValueError(f"The date {day} is in the future.")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _session(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"The session {text!r} is not a whole number from 1.")
    return int(text)


def _answers(raw: dict, instrument, item_columns: list[str]) -> list[int | None] | None:
    """The answers in item order; `item_columns` are the file's item columns, in order."""
    count = instrument.item_count
    extra = next((c for c in item_columns[count:] if (raw[c] or "").strip()), None)
    if extra:
        raise ValueError(f"{instrument.code} has {count} items, but {extra} has a value.")
    values = [(raw.get(column) or "").strip() for column in ITEM_COLUMNS[:count]]
    if not any(values):
        return None
    answers = []
    for n, value in enumerate(values, 1):
        if not value:
            answers.append(None)
        elif value.lstrip("-").isdigit():
            answers.append(int(value))
        else:
            raise ValueError(f"{instrument.code} item {n}: {value!r} is not a whole number.")
    return answers


def _students_for(service, identifiers: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found = {}
    nhs = [value for kind, value in identifiers if kind == "nhs_number"]
    numbers = [value for kind, value in identifiers if kind == "student_number"]
    for chunk in _chunks(nhs):
        for pk, value in Student.objects.filter(nhs_number__in=chunk).values_list(
            "pk", "nhs_number"
        ):
            found["nhs_number", value] = pk
    for chunk in _chunks(numbers):
        # Student numbers are unique within a university, so only the service's own count.
        for pk, value in Student.objects.filter(
            university_id=service.organisation_id, student_number__in=chunk
        ).values_list("pk", "student_number"):
            found["student_number", value] = pk
    return found


def _key(service_id: int, student_id: int, row: _Row) -> str:
    answers = row.answers if row.answers is not None else row.result.main_score
    text = json.dumps(
        [
            service_id,
            student_id,
            row.completed_at.date().isoformat(),
            row.code,
            row.session,
            answers,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _session_clashes(rows: list[_Row], episodes: list) -> list[tuple[int, str]]:
    """Rows whose measure is already recorded for the same session of the episode their
    date files them under, in the database or earlier in the file."""
    sessions = [
        (row, episode)
        for row, episode in zip(rows, episodes, strict=True)
        if episode is not None and row.session is not None
    ]
    taken = set()
    episode_ids = sorted({episode.pk for _row, episode in sessions})
    for chunk in _chunks(episode_ids):
        taken.update(
            Administration.objects.filter(
                episode_id__in=chunk, session_number__isnull=False
            ).values_list("episode_id", "session_number", "code")
        )
    errors = []
    for row, episode in sessions:
        key = (episode.pk, row.session, row.code)
        if key in taken:
            errors.append(
                (
                    row.line,
                    f"{row.code} is already recorded for session {row.session} of the "
                    f"episode of care its date ({row.completed_at:%Y-%m-%d}) falls in.",
                )
            )
        taken.add(key)
    return errors


def _existing_keys(keys: list[str]) -> set[str]:
    found = set()
    for chunk in _chunks(keys):
        found.update(
            Administration.objects.filter(import_key__in=chunk).values_list("import_key", flat=True)
        )
    return found


def _chunks(values: list):
    # SQLite allows fewer parameters in one query than PostgreSQL.
    size = 900 if connection.vendor == "sqlite" else 20_000
    for start in range(0, len(values), size):
        yield values[start : start + size]


ADMINISTRATION_COLUMNS = (
    "id",
    "uuid",
    "student_id",
    "service_id",
    "episode_id",
    "session_number",
    "code",
    "completed_at",
    "method",
    "recorded_by_id",
    "is_valid",
    "is_prorated",
    "total",
    "main_score",
    "band",
    "is_case",
    "has_risk",
    "risk_unanswered",
    "subscales",
    "score_only",
    "import_key",
    "created_at",
)


def _insert(rows: list[_Row], episodes: list, students, service, actor) -> None:
    """Write the administrations, each filed under its episode (or none), then their
    answers, with the fastest bulk path the database has (PostgreSQL's COPY; one prepared
    statement on SQLite)."""
    now = timezone.now()
    ids = _reserve_ids(len(rows))
    administrations = []
    for pk, row, episode in zip(ids, rows, episodes, strict=True):
        r = row.result
        administrations.append((
            pk, uuid.uuid4(), students[row.identifier], service.pk,
            episode.pk if episode else None, row.session, row.code,
            row.completed_at, Administration.Method.IMPORTED.value, actor.pk if actor else None,
            r.valid, r.prorated, r.total, r.main_score, r.band or "", r.caseness, r.risk,
            r.risk_unanswered, json.dumps(r.subscales or {}), isinstance(r, scoring.Stated),
            row.key, now,
        ))  # fmt: skip
    _write(Administration._meta.db_table, ADMINISTRATION_COLUMNS, administrations)
    answers = (
        (pk, n, value)  # plain integers, which the fast path of `_write` expects
        for pk, row in zip(ids, rows, strict=True)
        if row.answers is not None
        for n, value in enumerate(row.answers, 1)
        if value is not None
    )
    _write(Answer._meta.db_table, ("administration_id", "item", "value"), answers)


def _reserve_ids(count: int) -> list[int]:
    """Primary keys for `count` new administrations, taken before writing so that answers
    can name them without reading the rows back."""
    table = Administration._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        # SQLite lets one writer in at a time; the transaction holds the lock from here on.
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our table
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _write(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                # Text format built in bulk: much faster than adapting value by value.
                for batch in _batches(rows, 20_000):
                    copy.write("".join(map(_copy_line, batch)))
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})",  # noqa: S608 - names are ours
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )


def _batches(rows: Iterable[tuple], size: int):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_line(row: tuple) -> str:
    if all(type(v) is int for v in row):
        return "\t".join(map(str, row)) + "\n"
    return "\t".join(map(_copy_text, row)) + "\n"


def _copy_text(value) -> str:
    """A value in COPY's text format. Our strings (codes, bands, keys, JSON of numbers) hold
    no tabs, newlines or backslashes, so they need no escaping."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _sqlite_value(value):
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value
