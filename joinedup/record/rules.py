"""Rules of the record: clinical notes signed and locked, addenda, who sees a draft, letters
merged with only what the writer may read, and documents checked by what they contain.

Pure functions over plain values; `joinedup.record.services` and `selectors` apply them.
DNA: did not attend (a missed appointment).
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import filetype
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from joinedup.consent.rules import NAMES_ONLY, SUPPORTED_ONLY, Decision

# --- Clinical notes ---------------------------------------------------------------------------

# A contact "now" typed to the minute on a clock a little ahead of the server's.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class NoteState:
    """What the rules need to know of a note or an addendum."""

    kind: str  # "note" or "addendum"
    author_id: int
    service_id: int
    is_draft: bool
    signed_at: datetime | None = None
    signed_by: str = ""  # the signer's name, for the words of a refusal


def note_problems(
    body: str, contact_at: datetime | None, now: datetime, *, needs_contact: bool = True
) -> dict[str, str]:
    """What is wrong with a note (or, without `needs_contact`, an addendum) as written,
    field by field: nothing is saved while anything is."""
    problems = {}
    if not body.strip():
        problems["body"] = _("Write the note: it cannot be empty.")
    if needs_contact and contact_at is None:
        problems["contact_at"] = _("Enter when the contact took place.")
    elif contact_at is not None and contact_at > now + CLOCK_SLACK:
        problems["contact_at"] = _("The contact cannot be in the future.")
    return problems


def _signed_words(note: NoteState) -> str:
    when = date_format(localtime(note.signed_at), "j M Y H:i") if note.signed_at else ""
    return _("signed by %(who)s on %(when)s") % {"who": note.signed_by, "when": when}


def edit_refusal(note: NoteState, actor_id: int) -> str | None:
    """Why `actor_id` may not change the note's text, or None: only a draft changes, and
    only in its author's hands. A signed note is corrected by an addendum."""
    if not note.is_draft:
        return _(
            "This note was %(signed)s and is locked: nothing was changed. To correct it, "
            "add an addendum."
        ) % {"signed": _signed_words(note)}
    if note.author_id != actor_id:
        return _("Only the author of a draft can change it.")
    return None


def sign_refusal(note: NoteState, actor_id: int) -> str | None:
    """Why `actor_id` may not sign the note, or None: only its author signs, once."""
    if not note.is_draft:
        return _("This note is already %(signed)s.") % {"signed": _signed_words(note)}
    if note.author_id != actor_id:
        return _("Only the author of a note can sign it.")
    return None


def addendum_refusal(note: NoteState, service_ids: Collection[int]) -> str | None:
    """Why an addendum may not be added to `note` by someone working in `service_ids`, or
    None: addenda correct a signed note, of the writer's own service (notes never leave
    it), and go on the note itself rather than on another addendum."""
    if note.kind != "note":
        return _("Add the addendum to the note itself.")
    if note.is_draft:
        return _("The note is still a draft: change it, or sign it first.")
    if note.service_id not in service_ids:
        return _("Only the service that wrote a note can add to it.")
    return None


def draft_visible_to(author_id: int, reader_id: int | None, *, reader_is_student: bool) -> bool:
    """A draft is seen by its author alone, and never by the student it is about."""
    return not reader_is_student and reader_id is not None and reader_id == author_id


# --- Letters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeField:
    """A field a letter template may name as `{{ name }}`: its data category (None for what
    is not the student's personal data), and whether a reader of the student's names only
    (`NAMES_ONLY`) may use it."""

    name: str
    label: str  # marked for translation, translated where it is shown
    category: str | None
    names_only: bool = False


MERGE_FIELDS: tuple[MergeField, ...] = (
    MergeField("today", gettext_noop("Today's date"), None),
    MergeField("author", gettext_noop("Your name"), None),
    MergeField("service", gettext_noop("Your service"), None),
    MergeField("organisation", gettext_noop("Your organisation"), None),
    MergeField("message", gettext_noop("Your message"), None),
    MergeField("name", gettext_noop("Name"), "identity", names_only=True),
    MergeField("legal_name", gettext_noop("Legal name"), "identity", names_only=True),
    MergeField("student_number", gettext_noop("Student number"), "identity", names_only=True),
    MergeField("date_of_birth", gettext_noop("Date of birth"), "identity"),
    MergeField("nhs_number", gettext_noop("NHS number"), "identity"),
    MergeField("email", gettext_noop("Email address"), "identity"),
    MergeField("phone", gettext_noop("Phone number"), "identity"),
    MergeField("gp_practice", gettext_noop("GP practice"), "registration"),
    MergeField("department", gettext_noop("Department"), "registration"),
    MergeField("next_appointment", gettext_noop("Next appointment"), "engagement"),
    MergeField("care_started", gettext_noop("Start of care with your service"), "engagement"),
)
FIELDS_BY_NAME: dict[str, MergeField] = {f.name: f for f in MERGE_FIELDS}
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class LeftOut:
    """A field a letter does not carry, and why, in words for the writer."""

    label: str
    why: str


@dataclass(frozen=True)
class MergedLetter:
    paragraphs: tuple[str, ...]
    left_out: tuple[LeftOut, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def unknown_fields(body: str) -> list[str]:
    """The fields a template names that no letter can be merged with."""
    return sorted({n for n in PLACEHOLDER.findall(body) if n not in FIELDS_BY_NAME})


def readable_fields(decisions: Mapping[str, Decision]) -> frozenset[str]:
    """The merge fields the writer may read, by the policy's decision on each category:
    a names-only reading of identity gives the names and number alone, and knowing only
    that the student is supported gives no appointments."""
    readable = set()
    for field in MERGE_FIELDS:
        decision = decisions.get(field.category) if field.category else None
        if field.category is None:
            readable.add(field.name)
        elif decision is None or not decision.allowed or decision.scope == SUPPORTED_ONLY:
            continue
        elif decision.scope != NAMES_ONLY or field.names_only:
            readable.add(field.name)
    return frozenset(readable)


def merge_letter(body: str, values: Mapping[str, str], readable: Collection[str]) -> MergedLetter:
    """The template `body` merged with `values`, one paragraph a line. A line naming a field
    the writer may not read, one not recorded, or one unknown is left out whole, so the
    letter never says something false ("NHS number: " with nothing after it, or "not
    registered"); `left_out` says which and why. `values` should hold readable fields
    only: one that is not readable is never used, whatever it holds."""
    paragraphs: list[str] = []
    left_out: dict[str, LeftOut] = {}
    for line in body.splitlines():
        if not line.strip():
            continue
        problems = [_problem(name, values, readable) for name in PLACEHOLDER.findall(line)]
        if any(problems):
            left_out.update({p.label: p for p in problems if p is not None})
            continue
        paragraphs.append(
            PLACEHOLDER.sub(lambda m: values[m[1]].strip(), line.strip())  # one pass
        )
    return MergedLetter(tuple(paragraphs), tuple(left_out.values()))


def _problem(name: str, values: Mapping[str, str], readable: Collection[str]) -> LeftOut | None:
    field = FIELDS_BY_NAME.get(name)
    if field is None:
        return LeftOut(name, _("not a field JoinedUp knows"))
    if name not in readable:
        return LeftOut(_(field.label), _("not shared with you"))
    if not values.get(name, "").strip():
        return LeftOut(_(field.label), _("not recorded"))
    return None


# --- Documents --------------------------------------------------------------------------------

# What may be uploaded, by what the file contains: its type → the file name ending it is
# kept and sent with.
DOCUMENT_TYPES: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/heic": ".heic",
}
# How much of the start of a file tells its type (filetype reads at most this much).
HEAD_BYTES = 262


def document_type(head: bytes) -> str | None:
    """The type of a file by its first bytes (its "magic number"), if it is one that may
    be uploaded; never by its name or by what the browser said it was."""
    kind = filetype.guess(head)
    mime = str(kind.mime) if kind is not None else ""
    return mime if mime in DOCUMENT_TYPES else None


def document_problem(name: str, head: bytes, size: int, max_bytes: int) -> str | None:
    """What is wrong with an upload, or None: too large, empty, or not a PDF or an image
    whatever its name says."""
    if size > max_bytes:
        return _("“%(name)s” is %(size)s; a document can be at most %(most)s.") % {
            "name": name,
            "size": filesizeformat(size),
            "most": filesizeformat(max_bytes),
        }
    if size == 0:
        return _("“%(name)s” is empty.") % {"name": name}
    if document_type(head) is None:
        return _(
            "“%(name)s” is not a PDF or an image: JoinedUp checks what a file contains, not "
            "its name. Save it as a PDF and upload that."
        ) % {"name": name}
    return None


# --- The banner at the top of every page about one student -----------------------------------

# The record's sections in the order a clinician reads them: risk and safety first, then
# the care going on now (episodes, appointments, the services involved), their own notes,
# measures, the story told once, what other services sent back, and last the facts the
# banner already shows most of.
READING_ORDER: tuple[str, ...] = (
    "risk",
    "engagement",
    "notes",
    "outcomes",
    "assessment",
    "discharge",
    "adjustments",
    "registration",
    "identity",
)
# Open when the page opens; the others are folded until asked for.
READ_FIRST = frozenset({"risk", "engagement", "notes", "outcomes"})


def in_reading_order(categories: Collection[str]) -> list[str]:
    """`categories` in `READING_ORDER` (any the order does not name come last)."""
    rank = {category: place for place, category in enumerate(READING_ORDER)}
    return sorted(categories, key=lambda category: rank.get(category, len(rank)))


def spaced_nhs_number(number: str) -> str:
    """An NHS number as people read and say it, 3-3-4 ("943 476 5919"); anything that is
    not ten digits is left as it is."""
    digits = "".join(number.split())
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return number


def risk_in_banner(level: str, held_by: Collection[str], *, allowed: bool) -> str:
    """The risk level a banner shows. `level` is the current level as the reader may see it
    (which already names who holds a newer assessment); without one, risk another service
    holds is said to be held, a refused category is "not shared", and "Not assessed" is
    said only when the reader may read risk and nothing is held back anywhere."""
    if level:
        return level
    if held_by:
        return _("Risk held by %(holders)s — not shared with you") % {"holders": ", ".join(held_by)}
    if not allowed:
        return _("Risk not shared with you")
    return _("Not assessed")


def flags_in_banner(count: int, highest: str, *, allowed: bool) -> str:
    """Open flags as a banner shows them: how many and the highest level, or that they are
    not shared (never "none" when the reader may not read risk)."""
    if not allowed:
        return _("Not shared with you")
    if count == 0:
        return _("None open")
    return ngettext("%(count)d open · %(level)s", "%(count)d open · highest %(level)s", count) % {
        "count": count,
        "level": highest,
    }
