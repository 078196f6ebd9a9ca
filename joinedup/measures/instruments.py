"""Questionnaire definitions: one TOML data file per measure, loaded and checked.

Each measure the service uses lives in `definitions/<code>.toml` (read with the standard
library's `tomllib`): items, response options, reverse-scored and risk items, bands, caseness
cut-off, reliable change, missing-item rule, LOINC codes and licence. The rules come from
`shared/spec/measures.md` §0 to §6; each file names its section. Nothing here touches the database.

    >>> from joinedup.measures import instruments
    >>> phq9 = instruments.get("PHQ-9")
    >>> phq9.band_for(12), phq9.is_case(12)
    ('moderate', True)

`load()` parses and checks every file and raises `ValueError` naming the file and field that is
wrong; the app calls it at startup so that a broken data file stops the app. `get()` and
`all_instruments()` use a cached copy of the shipped definitions.

LOINC is the Logical Observation Identifiers Names and Codes system; a LOINC "LA" code
identifies an answer.
"""

import functools
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"

CODES: tuple[str, ...] = ("PHQ-9", "GAD-7", "CORE-10", "CORE-OM", "WEMWBS", "SWEMWBS")

RISK_KINDS = ("self", "others")
IMPROVEMENTS = ("decrease", "increase")
# Scoring method → the Score field that bands, caseness, reliable change and charts use.
MAIN_SCORE_FIELDS = {
    "sum": "total",
    "clinical_score": "clinical_score",
    "conversion_table": "metric_score",
}
# A CORE clinical score is the item mean times 10, whatever the number of items (spec §3, §4).
CLINICAL_SCORE_FACTOR = 10

_LOINC_CODE = re.compile(r"^(\d{1,7})-(\d)$")
_LOINC_ANSWER_CODE = re.compile(r"^LA\d{1,7}-\d$")


@dataclass(frozen=True)
class Option:
    """One printed response option; `value` is its position in the printed list."""

    label: str
    value: int
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    """One scored item. `risk` is "self", "others" or None."""

    number: int
    text: str | None
    loinc: str | None
    is_reversed: bool
    risk: str | None


@dataclass(frozen=True)
class UnscoredItem:
    """A question asked with the measure but never scored (the PHQ-9's difficulty item)."""

    number: int
    text: str | None
    loinc: str | None
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Band:
    """A severity band: applies from `lower` (inclusive) up to the next band's `lower`."""

    label: str
    lower: float


@dataclass(frozen=True)
class Subscale:
    """A domain scored as the mean of its items (0 to 4 on CORE measures)."""

    code: str
    name: str
    items: tuple[int, ...]
    max_missing: int


@dataclass(frozen=True)
class Conversion:
    """One row of a raw score → metric score table (the SWEMWBS Rasch conversion)."""

    raw: int
    metric: float


@dataclass(frozen=True)
class Instrument:
    """A measure's definition, as checked by `check_definition`.

    `score_min`/`score_max` are the range of the main score: the total for sums, the clinical
    score for CORE measures and the metric score for the SWEMWBS (`main_score_field`).
    """

    code: str
    name: str
    period: str
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    bands: tuple[Band, ...]
    caseness_cutoff: float | None
    reliable_change: float | None
    improvement: str
    score_min: float
    score_max: float
    loinc_panel: str | None
    loinc_total: str | None
    licence: str
    texts_shipped: bool
    topic: str
    spec_section: str
    answer_min: int
    answer_max: int
    method: str
    max_missing: int
    prorate: bool
    risk_threshold: int = 1
    risk_by_kind: bool = False
    subscales: tuple[Subscale, ...] = ()
    conversion: tuple[Conversion, ...] = ()
    meaningful_change: float | None = None
    short_form_of: str | None = None
    source_items: tuple[int, ...] = ()
    unscored_items: tuple[UnscoredItem, ...] = ()
    loinc_answer_system: str | None = None

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def main_score_field(self) -> str:
        return MAIN_SCORE_FIELDS[self.method]

    @property
    def reversed_items(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items if item.is_reversed)

    @property
    def risk_items(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items if item.risk)

    def item_score(self, item: Item, position: int) -> int:
        """The score of an answer: its position, mirrored on reverse-scored items (spec §0)."""
        if item.is_reversed:
            return self.answer_min + self.answer_max - position
        return position

    def metric_for(self, raw: int) -> float:
        """The metric score for a whole raw score, from the conversion table (spec §6)."""
        for row in self.conversion:
            if row.raw == raw:
                return row.metric
        raise ValueError(f"{self.code} has no conversion for raw score {raw}")

    def band_for(self, main_score: float) -> str | None:
        """The band holding `main_score` (unrounded, spec §0), or None when none is defined."""
        for band in reversed(self.bands):
            if main_score >= band.lower:
                return band.label
        return None

    def is_case(self, main_score: float) -> bool | None:
        """Whether `main_score` is at or above the caseness cut-off; None when there is none."""
        if self.caseness_cutoff is None:
            return None
        return main_score >= self.caseness_cutoff


def get(code: str) -> Instrument:
    """The shipped definition of the measure `code`; ValueError for an unknown code."""
    instruments = _registry()
    if code not in instruments:
        raise ValueError(f"Unknown measure {code!r}. Known: {', '.join(instruments)}")
    return instruments[code]


def all_instruments() -> tuple[Instrument, ...]:
    """Every shipped definition, in `CODES` order."""
    return tuple(_registry().values())


@functools.cache
def _registry() -> dict[str, Instrument]:
    return load()


def load(
    directory: Path = DEFINITIONS_DIR, *, required: Iterable[str] = CODES
) -> dict[str, Instrument]:
    """Parse and check every `*.toml` file in `directory`, keyed by code in `CODES` order.

    Raises ValueError naming the file and field when a file is broken, when a file's name is
    not its code in lower case, when two files share a code, when a short form names items its
    parent lacks, or when a code in `required` has no file.
    """
    found: dict[str, Instrument] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path.name}: not valid TOML: {error}") from error
        instrument = check_definition(data, source=path.name)
        expected_name = f"{instrument.code.lower()}.toml"
        if path.name != expected_name:
            raise ValueError(f"{path.name}: code {instrument.code!r} belongs in {expected_name}")
        found[instrument.code] = instrument
    for code in required:
        if code not in found:
            raise ValueError(f"{directory}: no definition file for {code}")
    for instrument in found.values():
        _check_short_form(instrument, found)
    order = {code: index for index, code in enumerate(CODES)}
    return dict(sorted(found.items(), key=lambda pair: order.get(pair[0], len(order))))


def _check_short_form(instrument: Instrument, found: dict[str, Instrument]) -> None:
    if instrument.short_form_of is None:
        return
    where = f"{instrument.code.lower()}.toml, short_form_of"
    parent = found.get(instrument.short_form_of)
    if parent is None:
        raise ValueError(f"{where}, code: no definition for {instrument.short_form_of!r}")
    for number in instrument.source_items:
        if not 1 <= number <= parent.item_count:
            raise ValueError(
                f"{where}, items: item {number} is outside {format_range(1, parent.item_count)} "
                f"({parent.code})"
            )
    if (parent.answer_min, parent.answer_max) != (instrument.answer_min, instrument.answer_max):
        raise ValueError(f"{where}: the answers differ from {parent.code}'s")


def check_definition(data: dict[str, Any], source: str = "definition") -> Instrument:
    """Check one parsed definition file and build its Instrument (spec §0 to §6).

    Raises ValueError("<source>, <field>: <problem>") for a missing or unknown field, a value
    of the wrong type, item numbers that are duplicated, missing or out of order, options or
    bands out of range or order, an unknown risk kind or scoring method, a subscale or short
    form naming an item that does not exist, a score range that does not follow from the
    items, item texts in a file whose licence forbids shipping them, or a LOINC code whose
    check digit is wrong.
    """
    top = _Table(data, source)
    code = top.text("code")
    name = top.text("name")
    topic = top.text("topic")
    spec_section = top.text("spec_section")
    period = top.text("period")
    licence = top.text("licence")
    texts_shipped = top.get("texts_shipped", bool)

    answers = top.table("answers")
    answer_min = answers.get("min", int)
    answer_max = answers.get("max", int)
    if answer_min >= answer_max:
        raise answers.error("max", f"{answer_max} must be above min {answer_min}")
    answers.finish()

    options = _read_options(top, "options", answer_min, answer_max)
    items = _read_items(top, texts_shipped)
    item_count = len(items)

    scoring = top.table("scoring")
    method = scoring.choice("method", tuple(MAIN_SCORE_FIELDS))
    improvement = scoring.choice("improvement", IMPROVEMENTS)
    score_min = scoring.get("score_min", float)
    score_max = scoring.get("score_max", float)
    caseness_cutoff = scoring.get("caseness_cutoff", float, default=None)
    reliable_change = scoring.get("reliable_change", float, default=None)
    meaningful_change = scoring.get("meaningful_change", float, default=None)
    scoring.finish()

    conversion = _read_conversion(top, method, item_count * answer_min, item_count * answer_max)
    expected_range = _main_score_range(method, item_count, answer_min, answer_max, conversion)
    if (score_min, score_max) != expected_range:
        low, high = expected_range
        raise scoring.error(
            "score_min",
            f"the range {format_range(score_min, score_max)} does not follow from the "
            f"items; expected {format_range(low, high)}",
        )
    if caseness_cutoff is not None:
        if improvement != "decrease":
            raise scoring.error(
                "caseness_cutoff", "is only defined for measures where a fall is improvement"
            )
        if not score_min < caseness_cutoff <= score_max:
            raise scoring.error(
                "caseness_cutoff",
                f"{_number(caseness_cutoff)} is outside {format_range(score_min, score_max)}",
            )
    for key, value in (
        ("reliable_change", reliable_change),
        ("meaningful_change", meaningful_change),
    ):
        if value is not None and not 0 < value <= score_max - score_min:
            raise scoring.error(key, f"{_number(value)} must be above 0 and within the range")

    missing = top.table("missing")
    max_missing = missing.get("max_missing", int)
    prorate = missing.get("prorate", bool)
    if not 0 <= max_missing < item_count:
        raise missing.error(
            "max_missing", f"{max_missing} is not one of {format_range(0, item_count - 1)}"
        )
    if max_missing and not prorate:
        raise missing.error("prorate", "must be true when items may be missing")
    if max_missing and method == "conversion_table":
        raise missing.error("max_missing", "must be 0: the conversion needs a whole raw score")
    missing.finish()

    risk_numbers = [item.number for item in items if item.risk]
    risk = top.table("risk", required=False)
    risk_threshold, risk_by_kind = answer_min + 1, False
    if risk is None and risk_numbers:
        raise top.error("risk", f"is missing; items {_list(risk_numbers)} are risk items")
    if risk is not None:
        if not risk_numbers:
            raise top.error("risk", "is set but no item has a risk kind")
        risk_threshold = risk.get("threshold", int)
        if not answer_min < risk_threshold <= answer_max:
            raise risk.error(
                "threshold",
                f"{risk_threshold} is not one of {format_range(answer_min + 1, answer_max)}",
            )
        risk_by_kind = risk.get("report_by_kind", bool, default=False)
        risk.finish()

    bands = _read_bands(top, score_min, score_max)
    subscales = _read_subscales(top, item_count)
    short_form_of, source_items = _read_short_form(top, item_count)
    unscored_items = _read_unscored_items(top, items, texts_shipped)

    loinc = top.table("loinc", required=False) or _Table({}, source, "loinc")
    loinc_panel = loinc.loinc("panel")
    loinc_total = loinc.loinc("total")
    loinc_answer_system = loinc.get("answer_system", str, default=None)
    loinc.finish()

    top.finish()
    return Instrument(
        code=code,
        name=name,
        period=period,
        items=items,
        options=options,
        bands=bands,
        caseness_cutoff=caseness_cutoff,
        reliable_change=reliable_change,
        improvement=improvement,
        score_min=score_min,
        score_max=score_max,
        loinc_panel=loinc_panel,
        loinc_total=loinc_total,
        licence=licence,
        texts_shipped=texts_shipped,
        topic=topic,
        spec_section=spec_section,
        answer_min=answer_min,
        answer_max=answer_max,
        method=method,
        max_missing=max_missing,
        prorate=prorate,
        risk_threshold=risk_threshold,
        risk_by_kind=risk_by_kind,
        subscales=subscales,
        conversion=conversion,
        meaningful_change=meaningful_change,
        short_form_of=short_form_of,
        source_items=source_items,
        unscored_items=unscored_items,
        loinc_answer_system=loinc_answer_system,
    )


def _main_score_range(
    method: str,
    item_count: int,
    answer_min: int,
    answer_max: int,
    conversion: tuple[Conversion, ...],
) -> tuple[float, float]:
    if method == "clinical_score":
        return answer_min * CLINICAL_SCORE_FACTOR, answer_max * CLINICAL_SCORE_FACTOR
    if method == "conversion_table":
        return conversion[0].metric, conversion[-1].metric
    return item_count * answer_min, item_count * answer_max


def _read_options(
    table: "_Table", key: str, answer_min: int, answer_max: int
) -> tuple[Option, ...]:
    options = []
    for entry in table.tables(key):
        value = entry.get("value", int)
        if not answer_min <= value <= answer_max:
            raise entry.error(
                "value", f"{value} is not one of {format_range(answer_min, answer_max)}"
            )
        options.append(Option(label=entry.text("label"), value=value, loinc=entry.answer_loinc()))
        entry.finish()
    values = [option.value for option in options]
    expected = list(range(answer_min, answer_max + 1))
    if values != expected:
        raise table.error(
            key, f"values are {_list(values)}; expected one option for each of {_list(expected)}"
        )
    return tuple(options)


def _read_items(top: "_Table", texts_shipped: bool) -> tuple[Item, ...]:
    items = []
    for entry in top.tables("items"):
        number = entry.get("number", int)
        text = entry.get("text", str, default=None)
        is_reversed = entry.get("reversed", bool, default=False)
        risk = entry.choice("risk", RISK_KINDS, default=None)
        if text is not None and not texts_shipped:
            raise entry.error("text", "must be left out: texts_shipped is false (licence)")
        if text is None and texts_shipped:
            raise entry.error("text", "is missing, but texts_shipped is true")
        if is_reversed and risk:
            raise entry.error("reversed", "a risk item cannot be reverse-scored")
        items.append(
            Item(
                number=number,
                text=text,
                loinc=entry.loinc("loinc"),
                is_reversed=is_reversed,
                risk=risk,
            )
        )
        entry.finish()
    _check_numbering(top, "items", [item.number for item in items])
    return tuple(items)


def _check_numbering(table: "_Table", key: str, numbers: list[int]) -> None:
    seen: set[int] = set()
    for number in numbers:
        if number in seen:
            raise table.error(key, f"item {number} appears twice")
        seen.add(number)
    last = max(numbers)
    for expected in range(1, last + 1):
        if expected not in seen:
            raise table.error(
                key, f"item {expected} is missing (items are numbered {format_range(1, last)})"
            )
    if numbers != sorted(numbers):
        raise table.error(key, f"items must be listed in order, not {_list(numbers)}")


def _read_bands(top: "_Table", score_min: float, score_max: float) -> tuple[Band, ...]:
    bands: list[Band] = []
    for entry in top.tables("bands", required=False):
        label = entry.text("label")
        lower = entry.get("lower", float)
        if label != label.lower():
            raise entry.error("label", f"{label!r} must be lower case")
        if label in {band.label for band in bands}:
            raise entry.error("label", f"{label!r} is used twice")
        if not bands and lower != score_min:
            raise entry.error("lower", f"the first band must start at {_number(score_min)}")
        if bands and lower <= bands[-1].lower:
            raise entry.error(
                "lower",
                f"{_number(lower)} must be above the previous band's {_number(bands[-1].lower)}",
            )
        if lower >= score_max:
            raise entry.error("lower", f"{_number(lower)} must be below {_number(score_max)}")
        bands.append(Band(label=label, lower=lower))
        entry.finish()
    return tuple(bands)


def _read_subscales(top: "_Table", item_count: int) -> tuple[Subscale, ...]:
    subscales: list[Subscale] = []
    for entry in top.tables("subscales", required=False):
        code = entry.text("code")
        if code in {subscale.code for subscale in subscales}:
            raise entry.error("code", f"{code!r} is used twice")
        numbers = entry.item_numbers("items", item_count)
        max_missing = entry.get("max_missing", int)
        if not 0 <= max_missing < len(numbers):
            raise entry.error(
                "max_missing", f"{max_missing} is not one of {format_range(0, len(numbers) - 1)}"
            )
        subscales.append(Subscale(code, entry.text("name"), numbers, max_missing))
        entry.finish()
    return tuple(subscales)


def _read_short_form(top: "_Table", item_count: int) -> tuple[str | None, tuple[int, ...]]:
    table = top.table("short_form_of", required=False)
    if table is None:
        return None, ()
    code = table.text("code")
    # The parent's item range is checked by load(), which sees every file.
    numbers = table.item_numbers("items", None)
    if len(numbers) != item_count:
        raise table.error("items", f"lists {len(numbers)} items; this measure has {item_count}")
    table.finish()
    return code, numbers


def _read_conversion(
    top: "_Table", method: str, raw_min: int, raw_max: int
) -> tuple[Conversion, ...]:
    rows: list[Conversion] = []
    for entry in top.tables("conversion", required=method == "conversion_table"):
        raw = entry.get("raw", int)
        metric = entry.get("metric", float)
        if rows and metric <= rows[-1].metric:
            raise entry.error(
                "metric", f"{metric} must be above the previous row's {rows[-1].metric}"
            )
        rows.append(Conversion(raw=raw, metric=metric))
        entry.finish()
    if rows and method != "conversion_table":
        raise top.error("conversion", 'is only used with method = "conversion_table"')
    raws = [row.raw for row in rows]
    if rows and raws != list(range(raw_min, raw_max + 1)):
        raise top.error(
            "conversion",
            f"must give each raw score {format_range(raw_min, raw_max)} once, in order",
        )
    return tuple(rows)


def _read_unscored_items(
    top: "_Table", items: tuple[Item, ...], texts_shipped: bool
) -> tuple[UnscoredItem, ...]:
    unscored: list[UnscoredItem] = []
    for entry in top.tables("unscored_items", required=False):
        number = entry.get("number", int)
        if number <= len(items) or number in {item.number for item in unscored}:
            raise entry.error("number", f"{number} is already used by another item")
        text = entry.get("text", str, default=None)
        if text is not None and not texts_shipped:
            raise entry.error("text", "must be left out: texts_shipped is false (licence)")
        # Unscored options are simply numbered from 0 in printed order.
        choices = _read_options(entry, "options", 0, len(entry.get("options", list)) - 1)
        unscored.append(UnscoredItem(number, text, entry.loinc("loinc"), choices))
        entry.finish()
    return tuple(unscored)


class _Table:
    """One TOML table being read: typed access, unknown-key detection, errors that name it."""

    def __init__(self, data: object, source: str, location: str = "") -> None:
        self.source = source
        self.location = location
        if not isinstance(data, dict):
            raise ValueError(f"{self._where()}: must be a table, not {data!r}")
        self.data = data
        self.seen: set[str] = set()

    def _where(self, key: str = "") -> str:
        return ", ".join(part for part in (self.source, self.location, key) if part)

    def error(self, key: str, problem: str) -> ValueError:
        return ValueError(f"{self._where(key)}: {problem}")

    def get(self, key: str, kind: type, *, default: Any = ...) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise self.error(key, "is missing")
            return default
        value = self.data[key]
        if not _is_kind(value, kind):
            raise self.error(key, f"must be {_KIND_NAMES[kind]}, not {value!r}")
        return float(value) if kind is float else value

    def text(self, key: str) -> str:
        value = self.get(key, str)
        if not value.strip():
            raise self.error(key, "must not be blank")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: Any = ...) -> Any:
        value = self.get(key, str, default=default)
        if value is not None and value not in choices:
            raise self.error(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def loinc(self, key: str) -> str | None:
        value = self.get(key, str, default=None)
        if value is not None:
            problem = loinc_code_problem(value)
            if problem:
                raise self.error(key, problem)
        return value

    def answer_loinc(self) -> str | None:
        value = self.get("loinc", str, default=None)
        if value is not None and not _LOINC_ANSWER_CODE.match(value):
            raise self.error("loinc", f"{value!r} is not a LOINC answer code (LAnnnn-n)")
        return value

    def item_numbers(self, key: str, item_count: int | None) -> tuple[int, ...]:
        numbers = self.get(key, list)
        if not numbers:
            raise self.error(key, "must list at least one item")
        for number in numbers:
            if not _is_kind(number, int):
                raise self.error(key, f"{number!r} is not an item number")
            if item_count is not None and not 1 <= number <= item_count:
                raise self.error(key, f"item {number} is outside {format_range(1, item_count)}")
        if len(set(numbers)) != len(numbers):
            raise self.error(key, f"lists an item twice: {_list(numbers)}")
        return tuple(numbers)

    def table(self, key: str, *, required: bool = True) -> "_Table | None":
        value = self.get(key, dict, default=... if required else None)
        return None if value is None else _Table(value, self.source, self._location(key))

    def tables(self, key: str, *, required: bool = True) -> list["_Table"]:
        entries = self.get(key, list, default=... if required else [])
        if required and not entries:
            raise self.error(key, "must not be empty")
        return [
            _Table(entry, self.source, self._location(f"{key} #{index}"))
            for index, entry in enumerate(entries, start=1)
        ]

    def _location(self, key: str) -> str:
        return f"{self.location}, {key}" if self.location else key

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.error(unknown[0], "is not a known field (a typo?)")


_KIND_NAMES: dict[type, str] = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    list: "a list",
    dict: "a table",
}
_KIND_CHECKS: dict[type, Callable[[object], bool]] = {
    str: lambda value: isinstance(value, str),
    bool: lambda value: isinstance(value, bool),
    # TOML booleans are Python ints; never accept one where a number is meant.
    int: lambda value: isinstance(value, int) and not isinstance(value, bool),
    float: lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    list: lambda value: isinstance(value, list),
    dict: lambda value: isinstance(value, dict),
}


def _is_kind(value: object, kind: type) -> bool:
    return _KIND_CHECKS[kind](value)


def loinc_code_problem(code: str) -> str | None:
    """Why `code` is not a valid LOINC code (format nnnnn-n and its mod 10 check digit)."""
    match = _LOINC_CODE.match(code)
    if not match:
        return f"{code!r} is not a LOINC code (nnnnn-n)"
    body, check_digit = match.group(1), int(match.group(2))
    expected = _loinc_check_digit(body)
    if check_digit != expected:
        return f"{code!r} is not a valid LOINC code (its check digit should be {expected})"
    return None


def _loinc_check_digit(body: str) -> int:
    # LOINC's mod 10 algorithm: double every other digit from the right, sum all digits.
    total = 0
    for index, digit in enumerate(int(char) for char in reversed(body)):
        if index % 2 == 0:
            digit *= 2
        total += digit // 10 + digit % 10
    return (10 - total % 10) % 10


def format_range(low: float, high: float) -> str:
    """A range as printed in messages, with an en dash: "0\u20133"."""
    return f"{_number(low)}\u2013{_number(high)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _list(values: Iterable[object]) -> str:
    return ", ".join(str(value) for value in values)
