"""Pure rules about students' records: reading dates of birth and phone numbers as people
type them, what a search for a student means, likely duplicates at registration, and when
two records may not be merged.

No database, request or clock: callers pass plain values and `today`. Each rule answers with
a code; the forms and pages say it in words.
"""

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

# JoinedUp serves students in higher education; a younger "student" is a typing mistake.
MINIMUM_AGE = 16
OLDEST_AGE = 100
# Fewer digits of an NHS number than this would match too many people.
MINIMUM_NHS_DIGITS = 4

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
# The ways people write a date of birth, UK order first: 14/03/2004, 14-03-2004, 14.03.2004,
# 14 03 2004, 2004-03-14, 14 March 2004, 14th Mar 2004, March 14, 2004.
_ALONE, _END = r"(?<![\d/.-])", r"(?![\d/.-])"  # not part of a longer number or date
_D, _M, _Y = r"(?P<day>\d{1,2})", r"(?P<month>\d{1,2})", r"(?P<year>\d{4})"
DATE_PATTERNS = (
    re.compile(rf"{_ALONE}{_D}([/.-]| ){_M}\2{_Y}{_END}"),
    re.compile(rf"{_ALONE}{_Y}([/.-]){_M}\2{_D}{_END}"),
    re.compile(rf"(?<!\w){_DAY}\s+{_MONTH},?\s+{_Y}(?!\d)", re.IGNORECASE),
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY},?\s+{_Y}(?!\d)", re.IGNORECASE),
)  # fmt: skip
# 14/03/04: which century cannot be told, so the year is asked for in full.
SHORT_YEAR = re.compile(r"(?<![\d/.-])\d{1,2}([/.-])\d{1,2}\1\d{2}(?![\d/.-])")


class DateProblem(StrEnum):
    NOT_A_DATE = "not_a_date"  # looks like a date, but there is no such day
    SHORT_YEAR = "short_year"  # 14/03/04
    IN_FUTURE = "in_future"
    UNDER_MINIMUM_AGE = "under_minimum_age"
    TOO_OLD = "too_old"


@dataclass(frozen=True)
class FoundDate:
    """A date found in typed text: the date (or the problem with it) and where it was."""

    date: dt.date | None
    problem: DateProblem | None
    start: int
    end: int


def find_date(text: str) -> FoundDate | None:
    """The first date written in `text` in a common form, or None if there is none."""
    for pattern in DATE_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        parts = match.groupdict()
        month = parts.get("month")
        if month is None:
            month_number = MONTHS.get(parts["month_name"].lower())
            if month_number is None:
                continue  # "14 Smith 2004" is no date
        else:
            month_number = int(month)
        try:
            date = dt.date(int(parts["year"]), month_number, int(parts["day"]))
        except ValueError:
            return FoundDate(None, DateProblem.NOT_A_DATE, match.start(), match.end())
        return FoundDate(date, None, match.start(), match.end())
    short = SHORT_YEAR.search(text)
    if short is not None:
        return FoundDate(None, DateProblem.SHORT_YEAR, short.start(), short.end())
    return None


def parse_date(text: str) -> dt.date | DateProblem:
    """`text` as one date, or the problem with it (NOT_A_DATE if it holds anything else)."""
    text = text.strip()
    found = find_date(text)
    if found is None or found.start != 0 or found.end != len(text):
        return DateProblem.NOT_A_DATE
    return found.date if found.date is not None else (found.problem or DateProblem.NOT_A_DATE)


def age_on(born: dt.date, today: dt.date) -> int:
    """Age in whole years on `today` (someone born on 29 February turns a year older on
    1 March in other years)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def date_of_birth_problem(born: dt.date, today: dt.date) -> DateProblem | None:
    """Why `born` cannot be a student's date of birth on `today`, or None."""
    if born > today:
        return DateProblem.IN_FUTURE
    age = age_on(born, today)
    if age < MINIMUM_AGE:
        return DateProblem.UNDER_MINIMUM_AGE
    if age > OLDEST_AGE:
        return DateProblem.TOO_OLD
    return None


# Searching -----------------------------------------------------------------------------------


class SearchProblem(StrEnum):
    TOO_FEW_DIGITS = "too_few_digits"
    NOT_A_DATE = "not_a_date"
    SHORT_YEAR = "short_year"


@dataclass(frozen=True)
class SearchTerms:
    """What a search for a student asks: every part must match.

    `names`: each word must begin one of the student's names (preferred, legal given or
    family name, or a later part of one); `numbers`: pieces of a student number ("NB1000");
    `digits`: digits of a student number or NHS number (at least four); `date_of_birth`.
    """

    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    digits: str = ""
    date_of_birth: dt.date | None = None
    problem: SearchProblem | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.names or self.numbers or self.digits or self.date_of_birth)

    @property
    def uses_identifiers(self) -> bool:
        """Whether the search could match an NHS number or a date of birth: what only someone
        who may read the student's whole identity may search by."""
        return bool(self.digits or self.date_of_birth)


_SEPARATORS = re.compile(r"[\s,;]+")
# Typographic quotes, apostrophes and dashes as well as the plain ones.
_QUOTES_AND_BRACKETS = "'\"()[].\u201c\u201d\u2018\u2019"
_APOSTROPHES = "['`\u2019]"
_NAME_SEPARATORS = "[\\s\\-\u2010\u2013]+"
_DIGITS_WITH_DASHES = re.compile(r"^\d[\d-]*$")


def parse_search(text: str) -> SearchTerms:
    """What a search box's text asks for: a date of birth written in a common form, digits
    of a student or NHS number (spaces and dashes allowed, as in 943 476 5919), pieces of a
    student number, and words of a name in any order ("Morgan Jo", "jo morgan")."""
    text = text.strip()
    date_of_birth = None
    found = find_date(text)
    if found is not None:
        if found.problem is not None:
            problem = (
                SearchProblem.SHORT_YEAR
                if found.problem == DateProblem.SHORT_YEAR
                else SearchProblem.NOT_A_DATE
            )
            return SearchTerms(problem=problem)
        date_of_birth = found.date
        text = f"{text[: found.start]} {text[found.end :]}"
    names: list[str] = []
    numbers: list[str] = []
    digits = ""
    for token in _SEPARATORS.split(text):
        token = token.strip(_QUOTES_AND_BRACKETS)
        if not token:
            continue
        if _DIGITS_WITH_DASHES.match(token):
            digits += token.replace("-", "")
        elif any(c.isdigit() for c in token):
            numbers.append(token.upper())
        else:
            names.append(token.casefold())
    if digits and len(digits) < MINIMUM_NHS_DIGITS:
        return SearchTerms(problem=SearchProblem.TOO_FEW_DIGITS)
    return SearchTerms(tuple(names), tuple(numbers), digits, date_of_birth)


# Duplicates ----------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A name as compared for duplicates: no case, accents, apostrophes or hyphens
    ("Zoë O'Neill-Smith" and "zoe oneill smith" are the same name)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(_APOSTROPHES, "", plain)
    return " ".join(re.split(_NAME_SEPARATORS, plain)).strip()


@dataclass(frozen=True)
class Identity:
    """The identifying facts of a student (`key` is an existing record's id; 0 for the
    student being registered)."""

    university_id: int
    student_number: str
    nhs_number: str
    legal_given_name: str
    legal_family_name: str
    date_of_birth: dt.date
    key: int = 0


class Match(StrEnum):
    NHS_NUMBER = "nhs_number"
    STUDENT_NUMBER = "student_number"
    NAME_AND_BIRTH = "name_and_birth"


@dataclass(frozen=True)
class Duplicate:
    """An existing record that may be the same person, and why."""

    key: int
    matches: frozenset[Match]


def matches_between(new: Identity, existing: Identity) -> frozenset[Match]:
    """Why `existing` may be the same person as `new`: the same NHS number, the same student
    number at the same university, or the same legal name (either way round) and date of
    birth."""
    found: set[Match] = set()
    if new.nhs_number and new.nhs_number == existing.nhs_number:
        found.add(Match.NHS_NUMBER)
    if (
        new.university_id == existing.university_id
        and new.student_number.strip()
        and new.student_number.strip().casefold() == existing.student_number.strip().casefold()
    ):
        found.add(Match.STUDENT_NUMBER)
    if new.date_of_birth == existing.date_of_birth:
        names = (name_key(new.legal_given_name), name_key(new.legal_family_name))
        theirs = (name_key(existing.legal_given_name), name_key(existing.legal_family_name))
        if names in (theirs, theirs[::-1]):
            found.add(Match.NAME_AND_BIRTH)
    return frozenset(found)


def likely_duplicates(new: Identity, existing: Iterable[Identity]) -> list[Duplicate]:
    """The existing records that may be `new` again, strongest reasons first (a student
    number, then an NHS number, then a name and date of birth)."""
    found = [
        Duplicate(other.key, matches)
        for other in existing
        if other.key != new.key and (matches := matches_between(new, other))
    ]
    strength = (Match.STUDENT_NUMBER, Match.NHS_NUMBER, Match.NAME_AND_BIRTH)
    return sorted(
        found,
        key=lambda d: (tuple(m not in d.matches for m in strength), d.key),
    )


# Merging -------------------------------------------------------------------------------------


class MergeRefusal(StrEnum):
    SAME_RECORD = "same_record"
    ALREADY_MERGED = "already_merged"
    DIFFERENT_UNIVERSITIES = "different_universities"
    DIFFERENT_NHS_NUMBERS = "different_nhs_numbers"


@dataclass(frozen=True)
class MergeSide:
    """One of two records an administrator asks to merge."""

    key: int
    university_id: int
    nhs_number: str
    is_merged: bool = False


def merge_refusal(kept: MergeSide, merged: MergeSide) -> MergeRefusal | None:
    """Why `merged` may not be merged into `kept`, or None. Two records of one person share
    a university and never have two different NHS numbers."""
    if kept.key == merged.key:
        return MergeRefusal.SAME_RECORD
    if kept.is_merged or merged.is_merged:
        return MergeRefusal.ALREADY_MERGED
    if kept.university_id != merged.university_id:
        return MergeRefusal.DIFFERENT_UNIVERSITIES
    if kept.nhs_number and merged.nhs_number and kept.nhs_number != merged.nhs_number:
        return MergeRefusal.DIFFERENT_NHS_NUMBERS
    return None


def uk_phone(text: str) -> str | None:
    """A UK phone number as people write it ("07700 900123", "+44 161 496 0000"), in the
    national format; None when it is not one (a digit short or over, a range not in use, a
    number abroad)."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if number.country_code != 44:
        return None
    if phonenumbers.is_valid_number(number) or national.startswith(_DRAMA_MOBILES):
        return national
    return None


def phone_to_call(text: str) -> str | None:
    """A number someone could be called on: a UK one (in the national format, as `uk_phone`),
    or one abroad written with its country code ("+33 1 23 45 67 89", "0086 …"), in the
    international format; None when it is neither (a number abroad without its code reads
    as a UK number that does not exist)."""
    national = uk_phone(text)
    if national is not None:
        return national
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 44 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Ofcom keeps 07700 900000 to 900999 for drama (never anyone's number): demo data and
# examples use them, and the UK's numbering data does not count them as valid.
_DRAMA_MOBILES = "07700 900"
