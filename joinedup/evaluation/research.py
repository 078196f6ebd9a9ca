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
  international) are checked for k-anonymity: every combination released describes at least
  k students. A student in a smaller group is generalised step by step (`GENERALISATION_STEPS`)
  and, if that is not enough, suppressed (left out); the release note counts both.

k-anonymity is counted in students, not rows: one row is one episode, and a student with
three episodes must not count as three people. Every row of a student carries the same
quasi-identifiers (age is taken at their first episode in the extract), so the pseudonym
cannot join two differently generalised rows back into a finer one.

The rules are pure functions over plain values; `write_extract` writes the files.
"""

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from joinedup.measures import instruments

NOT_RECORDED = "not_recorded"
NOT_SHOWN = "not_shown"
# Quasi-identifiers, in the order of the tuple every rule below takes and returns.
QUASI_IDENTIFIERS = (
    "institution",
    "age_band",
    "gender",
    "ethnicity_group",
    "disability",
    "international",
)
_AGE = QUASI_IDENTIFIERS.index("age_band")


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


def _blank_out(position: int):
    def step(quasi: tuple) -> tuple:
        return (*quasi[:position], NOT_SHOWN, *quasi[position + 1 :])

    return step


def _widen_age(quasi: tuple) -> tuple:
    return (*quasi[:_AGE], wider_age_band(quasi[_AGE]), *quasi[_AGE + 1 :])


# Applied in order, each on top of the ones before, to students whose group is below k.
# The institution is never generalised: it is the unit researchers compare.
GENERALISATION_STEPS = (
    ("age band widened to ten years", _widen_age),
    ("ethnicity group not shown", _blank_out(QUASI_IDENTIFIERS.index("ethnicity_group"))),
    ("disability not shown", _blank_out(QUASI_IDENTIFIERS.index("disability"))),
    ("gender not shown", _blank_out(QUASI_IDENTIFIERS.index("gender"))),
    ("international status not shown", _blank_out(QUASI_IDENTIFIERS.index("international"))),
    ("age band not shown", _blank_out(_AGE)),
)


@dataclass(frozen=True)
class Anonymised:
    """The outcome of the k-anonymity check.

    `released` maps each kept subject to its (perhaps generalised) quasi-identifiers;
    `steps` maps each kept subject to how many generalisation steps it needed (0 = as
    recorded); `suppressed` holds the subjects left out.
    """

    released: dict[Hashable, tuple]
    steps: dict[Hashable, int]
    suppressed: frozenset


def k_anonymise(subjects: Mapping[Hashable, tuple], k: int) -> Anonymised:
    """Generalise, then suppress, until every released combination of quasi-identifiers
    describes at least `k` subjects.

    Whole groups move together (a group is every subject with identical values), so a group
    already of k or more is never touched, and a generalised value (`not_shown`, a ten-year
    band) never mixes with recorded ones at the same step.
    """
    if k < 2:
        raise ValueError("k must be at least 2.")
    current = dict(subjects)
    steps = dict.fromkeys(subjects, 0)
    for number, (_label, generalise) in enumerate(GENERALISATION_STEPS, 1):
        small = _in_small_groups(current, k)
        if not small:
            break
        for subject in small:
            current[subject] = generalise(current[subject])
            steps[subject] = number
    suppressed = frozenset(_in_small_groups(current, k))
    return Anonymised(
        released={s: q for s, q in current.items() if s not in suppressed},
        steps={s: n for s, n in steps.items() if s not in suppressed},
        suppressed=suppressed,
    )


def _in_small_groups(current: Mapping[Hashable, tuple], k: int) -> list[Hashable]:
    sizes = Counter(current.values())
    return [subject for subject, quasi in current.items() if sizes[quasi] < k]


def smallest_group(rows: Iterable[Mapping], subject: str = "pseudonym") -> int:
    """The fewest distinct subjects sharing one combination of quasi-identifiers (for tests
    and for the release note's self-check); 0 when there are no rows."""
    groups: dict[tuple, set] = {}
    for row in rows:
        groups.setdefault(tuple(row[q] for q in QUASI_IDENTIFIERS), set()).add(row[subject])
    return min((len(s) for s in groups.values()), default=0)


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
    Column("service", "VARCHAR", "The service that held the episode of care."),
    Column("service_kind", "VARCHAR", "The kind of service (wellbeing, counselling, crisis, "
           "talking_therapies, ...)."),
    Column("organisation_kind", "VARCHAR", "The kind of organisation running the service "
           "(university, nhs_trust, gp_practice, third_sector)."),
    Column("referral_source", "VARCHAR", "How the student came to the service: self, "
           "academic, gp, service (another service), or blank when there was no referral."),
    Column("referral_month", "VARCHAR", "Month the referral was sent (YYYY-MM)."),
    Column("weeks_to_first_contact", "INTEGER", "Whole weeks from referral sent to first "
           "contact; blank when unknown."),
    Column("weeks_to_treatment", "INTEGER", "Whole weeks from referral sent to the start of "
           "treatment; blank when unknown."),
    Column("episode_start_month", "VARCHAR", "Month the episode of care started (YYYY-MM)."),
    Column("episode_end_month", "VARCHAR", "Month the episode ended (YYYY-MM); blank while "
           "open."),
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
        f"k-anonymity: every combination of {', '.join(QUASI_IDENTIFIERS)} describes at "
        f"least {note['k']} students.",
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
        "Generalised to reach k (each student counted once, at the last step they needed; "
        "each step also applies the ones listed before it):",
    ]
    if note["generalised"]:
        lines += [
            f"- {item['step']}: {counted(item['students'], 'student')}, "
            f"{counted(item['rows'], 'episode')}"
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
