"""Pure rules of the service directory: opening hours and the typical wait.

Opening hours are stored as JSON: weekday "0" (Monday) to "6" (Sunday) → a list of
["HH:MM", "HH:MM"] spans in UK time (Europe/London). A span whose end is not after its start
runs past midnight into the next day ("22:00"–"02:00"); "24:00" may end a span at midnight.
"""

import itertools
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.utils.translation import gettext as _

# Fewer recent waits than this and a typical wait would describe a handful of people.
MIN_WAITS_FOR_TYPICAL = 5
MINUTES_PER_DAY = 24 * 60
ALL_DAY = ("00:00", "24:00")

_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")
_SPAN_SEPARATOR = re.compile(r"\s*(?:–|—|-|\bto\b)\s*")
_ALL_DAY_WORDS = {"24 hours", "open 24 hours", "all day"}
_CLOSED_WORDS = {"", "closed"}


# Weekday ("0" is Monday; JSON keys are strings) → spans of ["HH:MM", "HH:MM"].
OpeningHours = Mapping[str | int, Sequence[Sequence[str]]]


class HoursError(ValueError):
    """Opening hours written in a way we cannot read; the message says what to fix."""


def minutes_of(time: str, *, is_end: bool = False) -> int:
    """Minutes after midnight of "HH:MM"; "24:00" only as the end of a span."""
    match = _TIME.fullmatch(time.strip())
    if match is None:
        raise HoursError(
            _("“%(time)s” is not a time: write hours and minutes, like 09:00.") % {"time": time}
        )
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0) and is_end:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise HoursError(
            _("“%(time)s” is not a time of day: use 00:00 to 23:59.") % {"time": time.strip()}
        )
    return hours * 60 + minutes


def spans_of(opening_hours: OpeningHours, weekday: int) -> list[Sequence[str]]:
    """The spans of one weekday (0 is Monday); JSON keys are strings, plain ints work too."""
    return list(opening_hours.get(str(weekday), opening_hours.get(weekday, [])))


def _interval(span: Sequence[str]) -> tuple[int, int]:
    """(start, end) in minutes from the day's midnight; a span past midnight ends after 1440."""
    start, end = minutes_of(span[0]), minutes_of(span[1], is_end=True)
    return (start, end) if end > start else (start, end + MINUTES_PER_DAY)


def is_open(opening_hours: OpeningHours, now_local: datetime) -> bool:
    """Whether a service with these opening hours is open at `now_local` (UK local time).

    A span past midnight keeps the service open into the small hours of the next day.
    """
    minute = now_local.hour * 60 + now_local.minute
    today, yesterday = now_local.weekday(), (now_local.weekday() - 1) % 7
    for span in spans_of(opening_hours, today):
        start, end = _interval(span)
        if start <= minute < end:
            return True
    for span in spans_of(opening_hours, yesterday):
        start, end = _interval(span)
        if end > MINUTES_PER_DAY and minute < end - MINUTES_PER_DAY:
            return True
    return False


def typical_wait_days(waits: Sequence[int]) -> int | None:
    """The median of recent waits (days from referral sent to first contact), rounded up.

    None when there are fewer than MIN_WAITS_FOR_TYPICAL waits: a figure from two or three
    referrals would mislead, so the page says there are not enough recent referrals to say.
    """
    if len(waits) < MIN_WAITS_FOR_TYPICAL:
        return None
    return math.ceil(statistics.median(waits))


def parse_day_hours(text: str) -> list[list[str]]:
    """Read one day's hours as written in the form, e.g. "09:00–17:00, 18:00–20:00".

    Blank or "closed" is a closed day; "24 hours" is open all day. Times may use a dot
    ("9.30"); a span may be written with a hyphen, a dash or "to". Raises HoursError.
    """
    text = text.strip()
    if text.lower() in _CLOSED_WORDS:
        return []
    if text.lower() in _ALL_DAY_WORDS:
        return [list(ALL_DAY)]
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        times = _SPAN_SEPARATOR.split(part)
        if len(times) != 2 or not all(times):
            raise HoursError(
                _("Write each opening as a start and an end, like 09:00–17:00 (not “%(part)s”).")
                % {"part": part}
            )
        start, end = minutes_of(times[0]), minutes_of(times[1], is_end=True)
        spans.append([_clock(start), _clock(end)])
    problem = day_spans_problem(spans)
    if problem:
        raise HoursError(problem)
    return sorted(spans, key=lambda span: span[0])


def day_spans_problem(spans: Sequence[Sequence[str]]) -> str | None:
    """What is wrong with one day's spans (a bad time, no length, an overlap), or None."""
    intervals = []
    for span in spans:
        try:
            start, end = minutes_of(span[0]), minutes_of(span[1], is_end=True)
        except HoursError as error:
            return str(error)
        if start == end:
            return _("An opening cannot start and end at the same time (%(span)s).") % {
                "span": format_span(span)
            }
        intervals.append((_interval(span), span))
    intervals.sort()
    for (earlier, first), (later, second) in itertools.pairwise(intervals):
        if later[0] < earlier[1]:
            return _("The openings %(first)s and %(second)s overlap.") % {
                "first": format_span(first),
                "second": format_span(second),
            }
    return None


def opening_hours_problem(opening_hours: object) -> str | None:
    """What is wrong with stored opening hours (shape, times, overlaps), or None."""
    if not isinstance(opening_hours, Mapping):
        return _("Opening hours must map weekdays to lists of openings.")
    for key, spans in opening_hours.items():
        if str(key) not in {str(day) for day in range(7)}:
            return _("“%(key)s” is not a weekday: use 0 (Monday) to 6 (Sunday).") % {"key": key}
        if not isinstance(spans, list) or not all(
            isinstance(span, list | tuple)
            and len(span) == 2
            and all(isinstance(time, str) for time in span)
            for span in spans
        ):
            return _('Each opening must be a pair of times, like ["09:00", "17:00"].')
        problem = day_spans_problem(spans)
        if problem:
            return problem
    return None


def format_span(span: Sequence[str]) -> str:
    return f"{span[0]}–{span[1]}"


def format_day_hours(spans: Sequence[Sequence[str]]) -> str:
    """One day's hours in words, as the form shows them: "09:00–17:00, 18:00–20:00"."""
    if not spans:
        return _("Closed")
    if [list(span) for span in spans] == [list(ALL_DAY)]:
        return _("24 hours")
    return ", ".join(format_span(span) for span in spans)


def normalise_topic(text: str) -> str:
    """Topics are lower-case with single spaces: " Eating  Difficulties" → "eating difficulties"."""
    return " ".join(text.lower().split())


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Words of someone who may be in crisis now: a directory search in them shows help first.
_CRISIS = re.compile(
    r"\b(suicid\w*|kill(ing)?\s+my\s*self|end(ing)?\s+(it\s+all|my\s+life|it)|"
    r"(want|wanted|wanting)\s+to\s+die|don'?t\s+want\s+to\s+(live|be\s+here)|"
    r"self[-\s]?harm\w*|hurt(ing)?\s+my\s*self|cut(ting)?\s+my\s*self|overdos\w*|crisis|"
    r"can'?t\s+(go\s+on|cope|keep\s+myself\s+safe)|no\s+(reason|point)\s+(to|in)\s+living|"
    r"(taken|took|swallowed)\s+(a\s+lot\s+of|too\s+many|loads\s+of|all\s+(of\s+)?my)\s+"
    r"(pills|tablets|paracetamol|meds|medication)|better\s+off\s+(dead|without\s+me)|"
    r"not\s+safe\s+(tonight|now|today)|no\s+point\s+(in\s+)?(living|going\s+on|anymore)|"
    r"what'?s\s+the\s+point(\s+any\s*more|\s+of\s+(living|anything|it\s+all))?\s*$|"
    r"giv(e|ing)\s+up\s+on\s+(life|everything)|(feel|feeling)\s+like\s+giving\s+up|"
    # In Welsh: suicide, kill or harm myself, self-harm, want to die, overdose, crisis, not
    # safe, can't cope or go on, no point living, end my life.
    r"hunanladd\w*|lladd\s+fy\s+hun(an)?|niweidio\s+fy\s+hun(an)?|hunan[-\s]?niw(e|ei)d\w*|"
    r"hunan[-\s]?anaf\w*|(eisiau|isio|moyn)\s+marw|gorddos\w*|argyfwng|"
    r"ddim\s+yn\s+ddiogel|methu\s+(ymdopi|mynd\s+ymlaen|cadw\s+fy\s+hun\s+yn\s+ddiogel)|"
    r"dim\s+pwynt\s+(byw|mynd\s+ymlaen)|(rhoi\s+diwedd\s+ar|diweddu)\s+fy\s+mywyd)\b",
    re.IGNORECASE,
)


def reads_like_crisis(text: str) -> bool:
    """Whether a search reads as someone in crisis ("I feel suicidal", "want to die")."""
    return bool(_CRISIS.search(text or ""))


# Words that say nothing about which service fits ("I feel really anxious" → "anxious").
_FILLER = frozenset(
    {
     "i", "i'm", "im", "am", "feel", "feeling", "felt", "really", "very", "so", "quite", "a",
     "an", "the", "and", "or", "to", "of", "for", "with", "my", "me", "about", "have", "has",
     "had", "been", "be", "is", "are", "was", "it", "its", "can", "cant", "can't", "get",
     "getting", "need", "want", "help", "some", "lot", "lots", "in", "on", "at", "this",
     "that", "just", "like",
     # Welsh: I, am, feeling, really, want, need, help, with, about, my...
     "dw", "rwy", "fi", "fy", "yn", "teimlo", "wedi", "iawn", "eisiau", "isio",
     "angen", "cymorth", "gyda", "efo", "ar", "ac", "o", "y", "yr", "mae", "methu",
    }
)  # fmt: skip
# What people type → the words services write in their entries and topics.
_SAID_AS = {
    "depressed": ("low mood", "depression"), "depression": ("low mood", "depression"),
    "sad": ("low mood",), "down": ("low mood",), "miserable": ("low mood",),
    "lonely": ("loneliness", "lonely"), "alone": ("loneliness",), "isolated": ("loneliness",),
    "anxious": ("anxiety",), "worried": ("anxiety", "worry"), "panic": ("anxiety", "panic"),
    "stressed": ("stress",), "exams": ("exam",), "insomnia": ("sleep",),
    "sleeping": ("sleep",), "grief": ("bereavement",), "grieving": ("bereavement",),
    "bereaved": ("bereavement",), "died": ("bereavement",), "debt": ("money",),
    "broke": ("money",), "anorexia": ("eating",), "bulimia": ("eating",), "binge": ("eating",),
    "gay": ("lgbtq",), "lesbian": ("lgbtq",), "bisexual": ("lgbtq",), "trans": ("lgbtq",),
    "abuse": ("trauma", "abuse"), "assault": ("trauma", "sexual violence"),
    "drinking": ("alcohol",), "drugs": ("drug", "substance"), "lonley": ("loneliness",),
    "homesick": ("homesick", "loneliness", "international students"),
    "attack": ("anxiety", "panic"), "attacks": ("anxiety", "panic"),
    # Welsh words → the English words services write (their Welsh is searched as well).
    "gorbryder": ("anxiety",), "pryder": ("anxiety", "worry"), "pryderus": ("anxiety",),
    "panig": ("anxiety", "panic"), "iselder": ("low mood", "depression"),
    "isel": ("low mood",), "trist": ("low mood",), "unig": ("loneliness",),
    "unigrwydd": ("loneliness",), "hiraeth": ("homesick", "loneliness"),
    "straen": ("stress",), "arholiad": ("exam",), "arholiadau": ("exam",),
    "cysgu": ("sleep",), "cwsg": ("sleep",), "galar": ("bereavement",),
    "profedigaeth": ("bereavement",), "arian": ("money",), "dyled": ("money",),
    "bwyta": ("eating",), "yfed": ("alcohol",), "alcohol": ("alcohol",),
    "cyffuriau": ("drug", "substance"), "trawma": ("trauma",), "camdriniaeth": ("abuse",),
    "ymosodiad": ("trauma", "sexual violence"), "myfyrwyr": ("student",),
    "myfyriwr": ("student",), "rhyngwladol": ("international",), "cwnsela": ("counselling",),
    "llesiant": ("wellbeing",), "lles": ("wellbeing",), "argyfwng": ("crisis",),
    "hunan-niwed": ("self-harm",), "hunanladdol": ("suicid",), "anabledd": ("disab",),
    "awtistiaeth": ("autism",), "astudio": ("study",), "astudiaethau": ("study",),
}  # fmt: skip
_SUFFIXES = ("ness", "ing", "ed", "ly", "es", "s")


def search_terms(query: str) -> list[frozenset[str]]:
    """What a directory search looks for: each meaningful word of `query`, as the words a
    service may have written for it (itself, its stem, what services call it). A service
    matches when its text holds one of each term's words."""
    terms = []
    for word in query.casefold().replace("\u2019", "'").split():
        word = word.strip('.,;:!?"()').removesuffix("'n")  # Welsh "teimlo'n" → "teimlo"
        if not word or word in _FILLER:
            continue
        said = {word, *_SAID_AS.get(word, ())}
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                said.add(word[: -len(suffix)])
                break
        terms.append(frozenset(said))
    return terms
