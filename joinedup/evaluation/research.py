"""Research extracts: the rules that make a row safe to share, and the writer of the files.

`shared/spec/evaluation.md`, "Research extracts":

- a student is named only by a pseudonym, HMAC-SHA256 of their internal id under a key kept
  outside the extract (`RESEARCH_PSEUDONYM_KEY`), so the same student links across extracts
  from one deployment and cannot be re-identified without the key;
- no names, contact details, student numbers, NHS numbers, free text or exact dates: dates
  become a month (`2025-03`), age a five-year band (`20-24`);
- outcomes: the first and last valid score of every measure the service report covers
  (`MEASURE_COLUMNS`), and the NHS Talking Therapies flags;
- the quasi-identifiers (institution, age band, gender, ethnicity group, disability,
  international, and the service and referral month of each episode) are checked for
  k-anonymity: every combination released describes at least k students. Students in a
  smaller group are generalised step by step (`GENERALISATION_STEPS`: a referral month
  becomes a quarter, then a year; a service is shown only as its kind; and so on) and, if
  that is not enough, suppressed (left out); the release note says, for each
  quasi-identifier, how it was shown and for how many, and counts those suppressed.

k-anonymity is counted in students, not rows: one row is one episode, and a student with
three episodes must not count as three people. A student's values are the same on each of
their rows (age is taken at their first episode in the extract), and all their rows are
generalised by the same steps, so the pseudonym cannot join two differently generalised
rows back into a finer one. The check is made per row: someone who knows several of one
student's episodes can still narrow the candidates by the pseudonym that links them.

The rules are pure functions over plain values; `write_extract` writes the files.
"""

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from joinedup.measures import instruments

NOT_RECORDED = "not_recorded"
NOT_SHOWN = "not_shown"
# The quasi-identifiers, as the release note names them. The first six describe the student
# and are the same on each of their rows; the service and the referral month describe one
# episode.
QUASI_IDENTIFIERS = {
    "institution": "institution",
    "age_band": "age band",
    "gender": "gender",
    "ethnicity_group": "ethnicity group",
    "disability": "disability",
    "international": "international status",
    "service": "service",
    "referral_month": "referral month",
}
# The columns that carry them, in the order of the tuple every rule below takes and returns.
# A service is carried by three columns: once its name is hidden its kind and its
# organisation's kind still tell services apart, so the check groups by all three.
QUASI_IDENTIFIER_COLUMNS = (
    "institution",
    "age_band",
    "gender",
    "ethnicity_group",
    "disability",
    "international",
    "service",
    "service_kind",
    "organisation_kind",
    "referral_month",
)
_AGE = QUASI_IDENTIFIER_COLUMNS.index("age_band")
_MONTH = QUASI_IDENTIFIER_COLUMNS.index("referral_month")
_SERVICE = QUASI_IDENTIFIER_COLUMNS.index("service")
_SERVICE_KINDS = (_SERVICE + 1, _SERVICE + 2)


def k_problem(k: int, minimum: int, *, agreement: bool, approval: str) -> str:
    """Why an extract may not use this k, or "": below the hub's minimum it needs the data
    sharing agreement that allows it and who approved it (recorded in its release note)."""
    if k >= minimum:
        return ""
    if not agreement or not approval.strip():
        return (
            f"k below {minimum} needs the data sharing agreement that allows it, and who "
            "approved it and where that is recorded."
        )
    return ""


class PseudonymKeyMissing(ImproperlyConfigured):
    """Outside development, extracts are refused until a pseudonym key is configured."""


def pseudonym_key() -> bytes:
    """The secret for pseudonyms: `RESEARCH_PSEUDONYM_KEY`, or in development a stable key
    derived from SECRET_KEY. A production deployment without one is refused, since a
    derived key would change (and break linkage) whenever SECRET_KEY is rotated."""
    key = getattr(settings, "RESEARCH_PSEUDONYM_KEY", None)
    if key:
        return key.encode()
    if settings.DEBUG:
        return hmac.new(
            settings.SECRET_KEY.encode(), b"joinedup.research.pseudonym", hashlib.sha256
        ).digest()
    raise PseudonymKeyMissing(
        "Research extracts cannot run: RESEARCH_PSEUDONYM_KEY is not set. Ask your system "
        "administrator to set it to a long random secret kept outside the extracts."
    )


def pseudonym(student_id: int, key: bytes) -> str:
    """The student's pseudonymous identifier: HMAC-SHA256 of their internal id, in hex."""
    return hmac.new(key, f"student:{student_id}".encode(), hashlib.sha256).hexdigest()


def month_of(moment: date | datetime | None) -> str:
    """A date as its month and year (`2025-03`); blank when there is none."""
    return f"{moment:%Y-%m}" if moment else ""


def age_on(date_of_birth: date, day: date) -> int:
    """Age in whole years on `day`."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - before_birthday


def age_band(age: int) -> str:
    """The five-year band of an age: `15-19`, `20-24`, …; everyone under 15 in one band."""
    if age < 15:
        return "under-15"
    low = age // 5 * 5
    return f"{low}-{low + 4}"


def wider_age_band(band: str) -> str:
    """A five-year band widened to ten years, aligned at 15: `15-24`, `25-34`, …"""
    if band in ("under-15", NOT_SHOWN, NOT_RECORDED):
        return band
    low = int(band.split("-")[0])
    low = 15 + (low - 15) // 10 * 10
    return f"{low}-{low + 9}"


def quarter_of(month: str) -> str:
    """A month (`2025-03`) as its quarter (`2025-Q1`); a blank or hidden month is kept."""
    if month in ("", NOT_SHOWN) or "-Q" in month or len(month) == 4:
        return month
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def year_of(period: str) -> str:
    """A month or quarter as its year (`2025`); a blank or hidden one is kept."""
    return period if period in ("", NOT_SHOWN) else period[:4]


def _set(positions: tuple[int, ...], change):
    def step(quasi: tuple) -> tuple:
        values = list(quasi)
        for position in positions:
            values[position] = change(values[position])
        return tuple(values)

    return step


def _not_shown(value: str) -> str:
    return NOT_SHOWN


def _month_not_shown(month: str) -> str:
    # A blank month means there was no referral, which the referral source already says.
    return month and NOT_SHOWN


@dataclass(frozen=True)
class Step:
    """One step of generalisation: which quasi-identifier it changes, how it is then shown
    (for the release note) and the change, on the tuple of `QUASI_IDENTIFIER_COLUMNS`."""

    quasi_identifier: str
    shown: str
    change: Callable[[tuple], tuple]

    @property
    def label(self) -> str:
        return f"{QUASI_IDENTIFIERS[self.quasi_identifier]} {self.shown}"


def _position(name: str) -> tuple[int, ...]:
    return (QUASI_IDENTIFIER_COLUMNS.index(name),)


# Applied in order, each on top of the ones before, to students whose groups are below k.
# The cheapest losses come first: a referral month means little to most analyses, and once
# a service's name is hidden its kind still allows comparison between kinds of service.
# The institution is never generalised: it is the unit researchers compare.
GENERALISATION_STEPS = (
    Step("referral_month", "shown as its quarter", _set((_MONTH,), quarter_of)),
    Step("age_band", "widened to ten years", _set((_AGE,), wider_age_band)),
    Step("referral_month", "shown as its year", _set((_MONTH,), year_of)),
    Step("service", "shown only as its kind", _set((_SERVICE,), _not_shown)),
    Step("ethnicity_group", "not shown", _set(_position("ethnicity_group"), _not_shown)),
    Step("disability", "not shown", _set(_position("disability"), _not_shown)),
    Step("gender", "not shown", _set(_position("gender"), _not_shown)),
    Step("international", "not shown", _set(_position("international"), _not_shown)),
    Step("age_band", "not shown", _set((_AGE,), _not_shown)),
    Step("referral_month", "not shown", _set((_MONTH,), _month_not_shown)),
    Step("service", "not shown, nor its kind", _set((_SERVICE, *_SERVICE_KINDS), _not_shown)),
)


def generalise(quasi: tuple, steps: int) -> tuple:
    """One row's quasi-identifiers after the first `steps` generalisation steps."""
    for step in GENERALISATION_STEPS[:steps]:
        quasi = step.change(quasi)
    return quasi


def month_as_shown(month: str, steps: int) -> str:
    """Another month of the same row (the episode's start or end) on the referral month's
    ladder: shown as its quarter, its year or not at all exactly as the referral month is
    after `steps` steps, so that it cannot give back what the referral month hides."""
    quasi = ("",) * len(QUASI_IDENTIFIER_COLUMNS)
    for step in GENERALISATION_STEPS[:steps]:
        if step.quasi_identifier == "referral_month":
            month = step.change((*quasi[:_MONTH], month, *quasi[_MONTH + 1 :]))[_MONTH]
    return month


def shown_as(quasi_identifier: str, steps: int) -> str:
    """How a quasi-identifier is shown after `steps` steps: "" when as recorded, else how
    the last step that changed it shows it."""
    changed = [
        s.shown for s in GENERALISATION_STEPS[:steps] if s.quasi_identifier == quasi_identifier
    ]
    return changed[-1] if changed else ""


@dataclass(frozen=True)
class Anonymised:
    """The outcome of the k-anonymity check.

    `released` maps each kept subject to the (perhaps generalised) quasi-identifiers of its
    rows; `steps` maps each kept subject to how many generalisation steps it needed (0 = as
    recorded); `suppressed` holds the subjects left out.
    """

    released: dict[Hashable, frozenset[tuple]]
    steps: dict[Hashable, int]
    suppressed: frozenset


def k_anonymise(subjects: Mapping[Hashable, Iterable[tuple]], k: int) -> Anonymised:
    """Generalise, then suppress, until every released combination of quasi-identifiers
    describes at least `k` subjects.

    A subject has one tuple per row (per episode: the service and referral month differ),
    and all of a subject's rows are generalised by the same steps, so every row keeps the
    same student's values. Whole groups move together: a group (every row with identical
    values) of k or more subjects is left alone unless some of its subjects must move for
    another of their rows and fewer than k would stay, in which case all of it moves. So a
    generalised value (`not_shown`, a ten-year band) never mixes with recorded ones at the
    same step, and nobody is left behind in a group that has become too small.
    """
    if k < 2:
        raise ValueError("k must be at least 2.")
    recorded = {subject: frozenset(rows) for subject, rows in subjects.items()}
    current = dict(recorded)
    steps = dict.fromkeys(recorded, 0)
    for number in range(1, len(GENERALISATION_STEPS) + 1):
        moving = _must_move(current, k)
        if not moving:
            break
        for subject in moving:
            current[subject] = frozenset(generalise(q, number) for q in recorded[subject])
            steps[subject] = number
    suppressed = frozenset(_must_move(current, k))
    return Anonymised(
        released={s: rows for s, rows in current.items() if s not in suppressed},
        steps={s: n for s, n in steps.items() if s not in suppressed},
        suppressed=suppressed,
    )


def _must_move(current: Mapping[Hashable, frozenset[tuple]], k: int) -> set[Hashable]:
    """The subjects with a row in a group of fewer than `k` subjects, and then those left in
    such a group once the others have moved, until nobody else is."""
    sizes = Counter(quasi for rows in current.values() for quasi in rows)
    moving: set[Hashable] = set()
    found = {s for s, rows in current.items() if any(sizes[q] < k for q in rows)}
    while found:
        moving |= found
        for subject in found:
            sizes.subtract(current[subject])
        found = {
            s for s, rows in current.items() if s not in moving and any(sizes[q] < k for q in rows)
        }
    return moving


def smallest_group(rows: Iterable[Mapping], subject: str = "pseudonym") -> int:
    """The fewest distinct subjects sharing one combination of quasi-identifiers (for tests
    and for the release note's self-check); 0 when there are no rows."""
    groups: dict[tuple, set] = {}
    for row in rows:
        quasi = tuple(row[q] for q in QUASI_IDENTIFIER_COLUMNS)
        groups.setdefault(quasi, set()).add(row[subject])
    return min((len(s) for s in groups.values()), default=0)


def generalised_by_step(steps: Mapping[Hashable, int], rows_of: Mapping[Hashable, int]) -> list:
    """For the release note: how many students (and their rows) stopped at each step, every
    step up to the last one needed (a step nobody stopped at was still applied to those who
    went on, so the note names it)."""
    last = max(steps.values(), default=0)
    found = []
    for number, step in enumerate(GENERALISATION_STEPS[:last], 1):
        students = [s for s, n in steps.items() if n == number]
        found.append(
            {
                "step": step.label,
                "students": len(students),
                "rows": sum(rows_of[s] for s in students),
            }
        )
    return found


def generalised_by_quasi_identifier(rows: Iterable[tuple[Hashable, tuple, int]]) -> list:
    """For the release note: each quasi-identifier, and for each way it was shown other than
    as recorded, how many students and rows were shown that way. `rows` holds, for each
    released row, its subject, its recorded quasi-identifiers and its subject's steps; a row
    counts only where the value changed (a blank referral month stays blank)."""
    shown: dict[tuple[str, str], tuple[set, list]] = {}
    for subject, recorded, steps in rows:
        generalised = generalise(recorded, steps)
        changed = {
            column
            for column, before, after in zip(
                QUASI_IDENTIFIER_COLUMNS, recorded, generalised, strict=True
            )
            if before != after
        }
        for name in QUASI_IDENTIFIERS:
            if name in changed or (name == "service" and changed & {"service_kind"}):
                students, counted_rows = shown.setdefault(
                    (name, shown_as(name, steps)), (set(), [])
                )
                students.add(subject)
                counted_rows.append(subject)
    return [
        {
            "name": words,
            "generalised": [
                {"shown": step.shown, "students": len(found[0]), "rows": len(found[1])}
                for step in GENERALISATION_STEPS
                if step.quasi_identifier == name and (found := shown.get((name, step.shown)))
            ],
        }
        for name, words in QUASI_IDENTIFIERS.items()
    ]


def _quasi_identifier_lines(summary: Sequence[Mapping]) -> list[str]:
    lines = []
    for item in summary:
        ways = "; ".join(
            f"{way['shown']} for {counted(way['students'], 'student')} "
            f"({counted(way['rows'], 'episode')})"
            for way in item["generalised"]
        )
        lines.append(f"- {item['name']}: {ways or 'as recorded for everyone released'}.")
    return lines


# --- The files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the extract: its name, DuckDB type and meaning (the data dictionary)."""

    name: str
    type: str
    description: str


# What a measure's main score is, by its scoring method (`measures.md` §1 to §6).
_MAIN_SCORES = {
    "sum": "total",
    "clinical_score": "clinical score (mean item score × 10)",
    "conversion_table": "metric score (raw score converted with the Rasch table)",
}


def measure_column(code: str) -> str:
    """The prefix of a measure's columns: its code in lower case, letters and digits only
    (`PHQ-9` → `phq9`, `CORE-OM` → `coreom`)."""
    return "".join(c for c in code.lower() if c.isalnum())


def _measure_columns() -> tuple[Column, ...]:
    """A first and a last score for every scored measure, as the service report covers them
    (`joinedup.measures.instruments.CODES`, in that order)."""
    columns = []
    for instrument in instruments.all_instruments():
        score = _MAIN_SCORES[instrument.method]
        better = "lower" if instrument.improvement == "decrease" else "higher"
        scale = (
            f"{instrument.score_min:g} to {instrument.score_max:g}; {better} is better. "
            f"{instrument.name}."
        )
        prefix = measure_column(instrument.code)
        columns += [
            Column(
                f"{prefix}_first",
                "DOUBLE",
                f"First valid {instrument.code} {score} in the episode: {scale}",
            ),
            Column(
                f"{prefix}_last",
                "DOUBLE",
                f"Last valid {instrument.code} {score} in the episode (blank with only one): "
                f"{scale}",
            ),
        ]
    return tuple(columns)


MEASURE_COLUMNS = _measure_columns()

COLUMNS = (
    Column("pseudonym", "VARCHAR", "Pseudonymous student identifier: HMAC-SHA256 of the "
           "internal student id under a key kept outside the extract. The same student has "
           "the same pseudonym in every extract from this deployment."),
    Column("institution", "VARCHAR", "The student's university. Quasi-identifier."),
    Column("age_band", "VARCHAR", "Age at the student's first episode in the extract, in "
           "five-year bands (20-24), widened to ten years (15-24) or 'not_shown' where needed "
           "for k-anonymity. Quasi-identifier."),
    Column("gender", "VARCHAR", "woman, man, non_binary, other, not_said; 'not_recorded' "
           "when the service has not asked; 'not_shown' when generalised. Quasi-identifier."),
    Column("ethnicity_group", "VARCHAR", "The five broad 2021 census groups (asian, black, "
           "mixed, white, other), not_said, 'not_recorded' or 'not_shown'. Quasi-identifier."),
    Column("disability", "VARCHAR", "yes, no, not_said, 'not_recorded' or 'not_shown'. "
           "Quasi-identifier."),
    Column("international", "VARCHAR", "yes or no (international student), or 'not_shown'. "
           "Quasi-identifier."),
    Column("service", "VARCHAR", "The service that held the episode of care; 'not_shown' "
           "where needed for k-anonymity (its kind is then still shown). Quasi-identifier."),
    Column("service_kind", "VARCHAR", "The kind of service (wellbeing, counselling, crisis, "
           "talking_therapies, ...); 'not_shown' when generalised. Part of the service "
           "quasi-identifier."),
    Column("organisation_kind", "VARCHAR", "The kind of organisation running the service "
           "(university, nhs_trust, gp_practice, third_sector); 'not_shown' when generalised. "
           "Part of the service quasi-identifier."),
    Column("referral_source", "VARCHAR", "How the student came to the service: self, "
           "academic, gp, service (another service), or blank when there was no referral."),
    Column("referral_month", "VARCHAR", "Month the referral was sent (YYYY-MM), widened to "
           "its quarter (YYYY-Q1) or year (YYYY) or 'not_shown' where needed for "
           "k-anonymity; blank when there was no referral. Quasi-identifier."),
    Column("weeks_to_first_contact", "INTEGER", "Whole weeks from referral sent to first "
           "contact; blank when unknown."),
    Column("weeks_to_treatment", "INTEGER", "Whole weeks from referral sent to the start of "
           "treatment; blank when unknown."),
    Column("episode_start_month", "VARCHAR", "Month the episode of care started (YYYY-MM), "
           "widened as the referral month of its row is."),
    Column("episode_end_month", "VARCHAR", "Month the episode ended (YYYY-MM), widened as the "
           "referral month of its row is; blank while open."),
    Column("ending", "VARCHAR", "planned, unplanned, transferred (to another service: "
           "planned), disengaged (the student stopped coming: unplanned), or open."),
    Column("appointments_attended", "INTEGER", "Appointments attended in the episode."),
    Column("appointments_missed", "INTEGER", "Appointments missed (did not attend)."),
    *MEASURE_COLUMNS,
    Column("has_paired_outcome", "BOOLEAN", "Whether the ended episode has a first and last "
           "PHQ-9 and GAD-7 over two or more sessions (NHS Talking Therapies rules, "
           "measures.md §8). False episodes count in 'outcomes not available'."),
    Column("recovery", "BOOLEAN", "A case at the start and not at the end; blank when not a "
           "case at the start or without paired scores."),
    Column("reliable_improvement", "BOOLEAN", "Reliable improvement (measures.md §8); blank "
           "without paired scores."),
    Column("reliable_deterioration", "BOOLEAN", "Reliable deterioration; blank without paired "
           "scores."),
    Column("reliable_recovery", "BOOLEAN", "Recovery and reliable improvement; blank when not "
           "a case at the start or without paired scores."),
)  # fmt: skip
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
FILE_NAMES = ("extract.csv", "extract.parquet", "data_dictionary.csv", "release_note.txt")


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _opt_out_checks(opted_out: Mapping) -> list[str]:
    """Which NHS organisations' checks against the national service were applied, and which
    had none current (then only opt-outs recorded in JoinedUp were applied for them)."""
    lines = [f"- {name}: checked with the national service, current until {until}."
             for name, until in sorted(opted_out.get("checked", {}).items())]  # fmt: skip
    lines += [
        f"- {name}: no current check with the national service; only opt-outs recorded in "
        "JoinedUp were applied."
        for name in opted_out.get("not_checked", [])
    ]
    return lines


def counted(n: int, noun: str) -> str:
    """`1 student`, `2 students`: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def release_note_text(note: Mapping) -> str:
    """The release note in plain words: what was asked for, and what was generalised,
    suppressed or left out, with counts."""
    lines = [
        "JoinedUp research extract: release note",
        "",
        f"Episodes starting from {note['starts_on']} up to (not including) {note['ends_on']}.",
        f"Services: {', '.join(note['services'])}.",
        f"Produced at {note['produced_at']}.",
        "",
        f"Rows released: {counted(note['rows'], 'episode')} of "
        f"{counted(note['students'], 'student')}.",
        f"k-anonymity: every combination of the quasi-identifiers "
        f"({', '.join(QUASI_IDENTIFIERS.values())}) describes at least {note['k']} students; "
        "a service counts with its kind and its organisation's kind.",
        *(
            [
                f"k is below the hub's minimum of {approved['minimum']}: allowed under the data "
                f"sharing agreement \u201c{approved['agreement']}\u201d, approved by "
                f"{approved['approval']}."
            ]
            if (approved := note.get("approved"))
            else []
        ),
        "",
        "How each quasi-identifier is shown (each student counted once, in the most general "
        "form they needed):",
        *_quasi_identifier_lines(note.get("quasi_identifiers", [])),
        "",
        "Generalised to reach k (each student counted once, at the last step they needed; "
        "each step also applies the ones listed before it):",
    ]
    if note["generalised"]:
        lines += [
            f"- {item['step']}: {counted(item['students'], 'student')}, "
            f"{counted(item['rows'], 'episode')}"
            if item["students"]
            else f"- {item['step']}: applied on the way to a later step; no student stopped here"
            for item in note["generalised"]
        ]
    else:
        lines.append("- none")
    lines += [
        f"Suppressed (left out, still in groups smaller than {note['k']}): "
        f"{counted(note['suppressed']['students'], 'student')}, "
        f"{counted(note['suppressed']['rows'], 'episode')}.",
        "",
        "National data opt-out: episodes at NHS services of students who have registered an "
        f"opt-out are left out: {counted(note['opted_out']['rows'], 'episode')} of "
        f"{counted(note['opted_out']['students'], 'student')}.",
        *_opt_out_checks(note["opted_out"]),
        "",
        "No names, contact details, student numbers, NHS numbers, free text or exact dates are "
        "included. Dates are months; ages are bands. See data_dictionary.csv for every column.",
    ]
    return "\n".join(lines) + "\n"


def write_extract(rows: Sequence[Mapping], note: Mapping, directory: Path) -> Path:
    """Write the CSV, the Parquet file (by DuckDB, from the CSV, with typed columns), the
    data dictionary and the release note, and zip them. Returns the zip's path.

    The Parquet file is written uncompressed: the zip compresses it anyway, and it keeps
    the file's bytes searchable by the test that looks for direct identifiers.
    """
    directory.mkdir(parents=True, exist_ok=True)
    csv_path = directory / "extract.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMN_NAMES)
        for row in rows:
            writer.writerow([_csv_value(row[name]) for name in COLUMN_NAMES])
    parquet_path = directory / "extract.parquet"
    types = {c.name: c.type for c in COLUMNS}
    with duckdb.connect() as connection:
        relation = connection.read_csv(
            str(csv_path), header=True, columns=types, null_padding=False
        )
        relation.write_parquet(str(parquet_path), compression="uncompressed")
    dictionary = io.StringIO()
    writer = csv.writer(dictionary)
    writer.writerow(["column", "type", "description"])
    writer.writerows((c.name, c.type, c.description) for c in COLUMNS)
    zip_path = directory / "research_extract.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(csv_path, "extract.csv")
        archive.write(parquet_path, "extract.parquet")
        archive.writestr("data_dictionary.csv", dictionary.getvalue())
        archive.writestr("release_note.txt", release_note_text(note))
        archive.writestr("release_note.json", json.dumps(note, indent=2))
    csv_path.unlink()
    parquet_path.unlink()
    return zip_path
