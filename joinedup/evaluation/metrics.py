"""The figures of a service report, as pure functions over plain rows. No database, no clock.

Every rule is from `shared/spec/evaluation.md` (periods, activity, waiting times, missed
appointments, endings, outcomes) and `shared/spec/measures.md` (reliable change, NHS Talking
Therapies outcomes, through `joinedup.measures.outcomes`). The report builder
(`joinedup.evaluation.reports`) fetches the rows with a few aggregating queries and passes
every figure these functions return through disclosure control.

Days are whole days between calendar dates (UTC), as the referral clocks count them
(`joinedup.referrals.rules.clock`); a row carries them as day numbers since 1970-01-01.
"""

import datetime as dt
import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from joinedup.measures import instruments
from joinedup.measures.outcomes import EpisodeOutcome, episode_outcome, reliable_change
from joinedup.referrals.rules import ENDING_IS_PLANNED, past_standard

# NHS Talking Therapies waiting-time standards: first treatment within 6 and 18 weeks [S18].
TALKING_THERAPIES_STANDARDS_DAYS = (42, 126)
PERCENTILES = (50, 75, 95)
EPOCH = dt.date(1970, 1, 1)
ACCEPTED_STATES = frozenset({"accepted", "waiting", "in_treatment", "discharged"})
# Still waiting: sent, accepted or on the waiting list, with no treatment start yet.
WAITING_STATES = frozenset({"sent", "accepted", "waiting"})
# Bands of the waiting-time distribution chart, in days: [lower, upper).
WAIT_BANDS = ((0, 14), (14, 28), (28, 42), (42, 84), (84, 126), (126, None))
# Age bands for equity breakdowns, as (lowest age, label); the last band is open.
AGE_BANDS = (
    (0, "Under 18"),
    (18, "18 to 20"),
    (21, "21 to 24"),
    (25, "25 to 29"),
    (30, "30 to 39"),
    (40, "40 and over"),
)


# The rows are named tuples rather than dataclasses: a report at hub scale builds hundreds of
# thousands of them, and a tuple is built straight from the database's row several times
# faster.
NO_SCORES: Mapping = MappingProxyType({})


class ReferralRow(NamedTuple):
    """One referral sent in the period. Days are day numbers; None when not yet reached."""

    student: int
    source: str
    from_service: int | None
    to_service: int
    state: str
    decline_reason: str
    sent_day: int
    first_contact_day: int | None
    treatment_day: int | None
    group: str = ""


class EpisodeRow(NamedTuple):
    """One episode that ended in the period, with its first and last valid main score per
    measure: `scores[code] = (first, last, number of valid scores)`."""

    student: int
    service: int
    ending: str
    attended_treatment: int
    scores: Mapping = NO_SCORES
    group: str = ""


class AppointmentRow(NamedTuple):
    """Attended and missed appointments in the period of one episode."""

    student: int
    service: int
    attended: int
    missed: int
    group: str = ""


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def date_of(day_number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=day_number)


def age_band(date_of_birth: dt.date, on: dt.date) -> str:
    """The age band of someone born on `date_of_birth`, on the day `on` (whole years)."""
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    label = AGE_BANDS[0][1]
    for lowest, band in AGE_BANDS:
        if age >= lowest:
            label = band
    return label


def _rank(percentile: int, n: int) -> int:
    """The nearest rank of a percentile among n values: ⌈p/100 × n⌉, at least 1 (1-based)."""
    return max(-(-percentile * n // 100), 1)


def nearest_rank(sorted_values: Sequence[int | float], percentile: int) -> int | float | None:
    """The nearest-rank percentile: the value at rank ⌈p/100 × N⌉ of the sorted values
    (1-based), so it is always one of the values. None for no values."""
    if not sorted_values:
        return None
    return sorted_values[_rank(percentile, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Distribution:
    """Waits in days: how many, from how many students, and their nearest-rank percentiles."""

    count: int
    students: int
    percentiles: dict[int, int | None]
    bands: tuple[int, ...]

    @classmethod
    def of(cls, waits: Mapping[int, int], students: int) -> "Distribution":
        """The distribution of waits given as how many there were of each length in days."""
        ordered = sorted((days, n) for days, n in waits.items() if n)
        count = sum(n for _, n in ordered)
        percentiles: dict[int, int | None] = dict.fromkeys(PERCENTILES)
        if count:
            for p in PERCENTILES:
                rank, reached = _rank(p, count), 0
                for days, n in ordered:
                    reached += n
                    if reached >= rank:
                        percentiles[p] = days
                        break
        return cls(
            count=count,
            students=students,
            percentiles=percentiles,
            bands=tuple(
                sum(n for days, n in ordered if days >= low and (high is None or days < high))
                for low, high in WAIT_BANDS
            ),
        )


@dataclass(frozen=True)
class Activity:
    """Referrals received in the period (to the chosen services), by source and outcome."""

    referrals: int
    students: int
    by_source: dict[str, int]
    from_services: dict[int, int]
    by_outcome: dict[str, int]
    declined_by_reason: dict[str, int]


def activity(rows: Iterable[ReferralRow], services: frozenset[int]) -> Activity:
    """Referrals received by the chosen services: by source (another service counted per
    service) and by outcome (accepted, declined by reason, withdrawn, still open)."""
    received = [r for r in rows if r.to_service in services]
    return activity_of(
        Counter((r.source, r.from_service, r.state, r.decline_reason) for r in received),
        len({r.student for r in received}),
    )


def activity_of(
    received: Mapping[tuple[str, int | None, str, str], int], students: int
) -> Activity:
    """`activity` of the referrals counted by (source, from service, state, decline
    reason), received by `students` students."""
    by_source: dict[str, int] = {}
    from_services: dict[int, int] = {}
    by_outcome = dict.fromkeys(("accepted", "declined", "withdrawn", "open"), 0)
    declined: dict[str, int] = {}
    for (source, from_service, state, reason), n in received.items():
        by_source[source] = by_source.get(source, 0) + n
        if from_service is not None:
            from_services[from_service] = from_services.get(from_service, 0) + n
        outcome = referral_outcome(state)
        by_outcome[outcome] += n
        if outcome == "declined":
            declined[reason] = declined.get(reason, 0) + n
    return Activity(
        referrals=sum(received.values()),
        students=students,
        by_source=by_source,
        from_services=from_services,
        by_outcome=by_outcome,
        declined_by_reason=declined,
    )


def referral_outcome(state: str) -> str:
    """accepted (including later waiting, treatment and discharge), declined, withdrawn, or
    open (sent and not yet decided)."""
    if state in ACCEPTED_STATES:
        return "accepted"
    if state in {"declined", "withdrawn"}:
        return state
    return "open"


def flows(rows: Iterable[ReferralRow], services: frozenset[int]) -> dict[tuple[int, int], set]:
    """Onward flows: for each (from service, to service) pair touching the chosen services,
    the distinct students referred between them."""
    pairs: dict[tuple[int, int], set] = {}
    for r in rows:
        if r.from_service is not None and (r.from_service in services or r.to_service in services):
            pairs.setdefault((r.from_service, r.to_service), set()).add(r.student)
    return pairs


@dataclass(frozen=True)
class Waiting:
    """Waiting times of referrals received in the period (spec "Waiting times")."""

    to_first_contact: Distribution
    to_treatment: Distribution
    # Seen (first contact) within the receiving service's own standard, of those with one.
    within_standard: int
    with_standard: int
    # NHS Talking Therapies: treatment started within 6 and within 18 weeks.
    talking_therapies_started: int
    talking_therapies_within: tuple[int, ...]
    still_waiting: Distribution


def waiting(
    rows: Iterable[ReferralRow],
    standards: dict[int, int],
    talking_therapies: frozenset[int],
    today: int,
) -> Waiting:
    """Waits from sent to first contact and to treatment start, the shares within each
    service's standard, and the referrals still waiting with their wait so far (`today` is a
    day number). Pass the referrals the chosen services received; `standards` maps each
    service with a standard to its days (first contact), `talking_therapies` the NHS Talking
    Therapies services, whose 6- and 18-week standards run to treatment start.

    Referrals count in the period they were sent (`evaluation.md`), so the Talking Therapies
    shares are of referrals sent in the period that have started treatment, rather than of
    those that finished a course of treatment in it as NHS Digital publishes them [S19]."""
    first: Counter[tuple[int, int]] = Counter()
    treated: Counter[tuple[int, int]] = Counter()
    still: Counter[int] = Counter()
    first_students, treated_students, still_students = set(), set(), set()
    for r in rows:
        if r.first_contact_day is not None:
            first[r.to_service, r.first_contact_day - r.sent_day] += 1
            first_students.add(r.student)
        if r.treatment_day is not None:
            treated[r.to_service, r.treatment_day - r.sent_day] += 1
            treated_students.add(r.student)
        elif r.state in WAITING_STATES:
            still[today - r.sent_day] += 1
            still_students.add(r.student)
    counts = WaitCounts(
        first, treated, still, len(first_students), len(treated_students), len(still_students)
    )
    return waiting_of(counts, standards, talking_therapies)


class WaitCounts(NamedTuple):
    """Waits of the referrals received, counted: to first contact and to treatment start by
    (receiving service, days), still waiting by days so far; and how many students had
    each kind of wait."""

    first: Mapping[tuple[int, int], int]
    treated: Mapping[tuple[int, int], int]
    still: Mapping[int, int]
    first_students: int
    treated_students: int
    still_students: int


def waiting_of(
    counts: WaitCounts, standards: Mapping[int, int], talking_therapies: frozenset[int]
) -> Waiting:
    """`waiting` of the referrals' waits counted."""
    first: Counter[int] = Counter()
    treated: Counter[int] = Counter()
    within = with_standard = tt_started = 0
    tt_within = [0] * len(TALKING_THERAPIES_STANDARDS_DAYS)
    for (service, wait), n in counts.first.items():
        first[wait] += n
        standard = standards.get(service)
        if standard is not None:
            with_standard += n
            within += n * (not past_standard(wait, standard))
    for (service, wait), n in counts.treated.items():
        treated[wait] += n
        if service in talking_therapies:
            tt_started += n
            for i, limit in enumerate(TALKING_THERAPIES_STANDARDS_DAYS):
                tt_within[i] += n * (wait <= limit)
    return Waiting(
        to_first_contact=Distribution.of(first, counts.first_students),
        to_treatment=Distribution.of(treated, counts.treated_students),
        within_standard=within,
        with_standard=with_standard,
        talking_therapies_started=tt_started,
        talking_therapies_within=tuple(tt_within),
        still_waiting=Distribution.of(counts.still, counts.still_students),
    )


@dataclass(frozen=True)
class Appointments:
    attended: int
    missed: int
    students: int

    @property
    def offered(self) -> int:
        return self.attended + self.missed


def appointments(rows: Iterable[AppointmentRow]) -> Appointments:
    """Missed appointments: missed ÷ (attended + missed), per appointment."""
    attended = missed = 0
    students = set()
    for r in rows:
        attended += r.attended
        missed += r.missed
        if r.attended or r.missed:
            students.add(r.student)
    return Appointments(attended, missed, len(students))


@dataclass(frozen=True)
class Endings:
    ended: int
    planned: int
    unplanned: int
    students: int
    # Of those: transferred to another service (planned), and the student disengaged
    # (unplanned).
    transferred: int = 0
    disengaged: int = 0


def endings(rows: Iterable[EpisodeRow]) -> Endings:
    """Planned (agreed end) against unplanned (dropped out, no contact) endings, per episode.
    Each ending an episode may have counts as `ENDING_IS_PLANNED` says: a transfer to another
    service is planned, a student who disengaged is not; an ending it does not know counts
    as unplanned (never as planned by default)."""
    rows = list(rows)
    return endings_of(Counter(r.ending for r in rows), len({r.student for r in rows}))


def endings_of(by_ending: Mapping[str, int], students: int) -> Endings:
    """`endings` of the episodes counted by how they ended, of `students` students."""
    ended = sum(by_ending.values())
    planned = sum(n for ending, n in by_ending.items() if ENDING_IS_PLANNED.get(ending, False))
    return Endings(
        ended=ended,
        planned=planned,
        unplanned=ended - planned,
        students=students,
        transferred=by_ending.get("transferred", 0),
        disengaged=by_ending.get("disengaged", 0),
    )


@dataclass(frozen=True)
class Coverage:
    """Outcomes for all: of the episodes that ended, how many had a first and a last valid
    score on at least one measure, by how they ended and by service, so that a report shows
    whether outcomes cover unplanned endings too (SPEQS). Each value is (paired, ended)."""

    paired: int
    ended: int
    by_ending: dict[str, tuple[int, int]]
    by_service: dict[int, tuple[int, int]]


def coverage(rows: Iterable[EpisodeRow]) -> Coverage:
    counted: Counter[tuple[str, int, bool]] = Counter()
    for row in rows:
        paired = False
        for score in row.scores.values():
            if score[2] >= 2:
                paired = True
                break
        counted[row.ending, row.service, paired] += 1
    return coverage_of(counted)


def coverage_of(counted: Mapping[tuple[str, int, bool], int]) -> Coverage:
    """`coverage` of the endings counted by (ending, service, paired on some measure)."""
    by_ending: dict[str, list[int]] = {}
    by_service: dict[int, list[int]] = {}
    for (ending, service, paired), k in counted.items():
        for counts in (by_ending.setdefault(ending, [0, 0]),
                       by_service.setdefault(service, [0, 0])):  # fmt: skip
            counts[0] += paired * k
            counts[1] += k
    return Coverage(
        paired=sum(p for p, _ in by_ending.values()),
        ended=sum(n for _, n in by_ending.values()),
        by_ending={ending: (p, n) for ending, (p, n) in by_ending.items()},
        by_service={service: (p, n) for service, (p, n) in by_service.items()},
    )


@dataclass(frozen=True)
class MeasureOutcome:
    """Outcomes on one measure for the episodes that ended in the period (spec "Outcomes").

    `paired` episodes had a first and a last valid score; `not_available` ended without
    (one score or none), so every ending is reported. Reliable change and clinically
    significant change use the measure's published RCI and cut-off; they are None where the
    measure has none. Recovery counts are of `case_at_start` episodes (clinical at first).
    """

    code: str
    ended: int
    paired: int
    students: int
    mean_first: float | None
    mean_last: float | None
    effect_size: float | None
    reliable_improvement: int | None
    no_reliable_change: int | None
    reliable_deterioration: int | None
    case_at_start: int | None
    recovery: int | None
    reliable_recovery: int | None
    clinically_significant: int | None
    # How many paired episodes had each distinct (first, last) score, for the pre/post chart.
    pairs: Mapping[tuple[float, float], int] = NO_SCORES

    @property
    def not_available(self) -> int:
        return self.ended - self.paired


@functools.lru_cache(maxsize=65536)
def _change(code: str, first: float, last: float, rci: float | None):
    return reliable_change(code, first, last, rci=rci)


def measure_outcome(
    rows: Sequence[EpisodeRow],
    code: str,
    rci_of: Mapping[int, float] = NO_SCORES,
    asked_by: frozenset[int] = frozenset(),
) -> MeasureOutcome:
    """Paired first/last scores on one measure, their means, the pre–post effect size (mean
    change ÷ sample standard deviation of the first scores) and the reliable and clinically
    significant change counts (Jacobson & Truax, `measures.md` §7).

    The endings a measure reports on are those of episodes it was asked of: in a service
    that asks for it at every session (`asked_by`), or with at least one score on it. An
    ending in a service that never uses the measure is not an outcome it failed to get.

    A measure with no published reliable change index uses each episode's service's own
    (`rci_of`, by service), and has reliable change only when every paired episode's
    service has one. Scores take few distinct values, so the pairs are counted once per
    distinct (first, last, index) and every rule is applied to each distinct pair, weighted
    by its count."""
    pairs: Counter[tuple[float, float, float | None]] = Counter()
    students = set()
    ended = 0
    for row in rows:
        score = row.scores.get(code)
        if score is None:
            ended += row.service in asked_by
        else:
            ended += 1
            if score[2] >= 2:
                pairs[score[0], score[1], rci_of.get(row.service)] += 1
                students.add(row.student)
    return measure_outcome_of(code, ended, pairs, len(students))


def measure_outcome_of(
    code: str, ended: int, pairs: Mapping[tuple[float, float, float | None], int], students: int
) -> MeasureOutcome:
    """`measure_outcome` of `ended` endings, whose paired episodes are counted by (first
    score, last score, the reliable change index of their service's own if the measure has
    no published one), of `students` students."""
    instrument = instruments.get(code)
    n = sum(pairs.values())
    mean_first = math.fsum(f * k for (f, _, _), k in pairs.items()) / n if n else None
    mean_last = math.fsum(last * k for (_, last, _), k in pairs.items()) / n if n else None
    effect_size = None
    if n >= 2:
        # Sample standard deviation (n - 1), summed exactly with fsum around the mean.
        spread = math.fsum(k * (f - mean_first) ** 2 for (f, _, _), k in pairs.items())
        sd = math.sqrt(spread / (n - 1))
        if sd > 0:
            effect_size = (mean_last - mean_first) / sd
    counts: dict[str, int | None] = dict.fromkeys(
        ("improved", "unchanged", "deteriorated", "case", "recovered", "reliably", "significant")
    )
    has_rci = instrument.reliable_change is not None or (
        bool(pairs) and all(rci is not None for _, _, rci in pairs)
    )
    has_cutoff = instrument.caseness_cutoff is not None
    if has_rci:
        counts.update(improved=0, deteriorated=0)
    if has_cutoff:
        counts.update(case=0, recovered=0)
        if has_rci:
            counts.update(reliably=0, significant=0)
    for (first, last, rci), k in pairs.items():
        change = _change(code, first, last, rci) if has_rci else None
        if change is not None:
            counts["improved"] += k * change.reliable_improvement
            counts["deteriorated"] += k * change.reliable_deterioration
        if has_cutoff and instrument.is_case(first):
            counts["case"] += k
            recovered = not instrument.is_case(last)
            counts["recovered"] += k * recovered
            if change is not None:
                counts["reliably"] += k * (recovered and change.reliable_improvement)
                counts["significant"] += k * bool(change.clinically_significant)
    if has_rci:
        counts["unchanged"] = n - counts["improved"] - counts["deteriorated"]
    return MeasureOutcome(
        code=code,
        ended=ended,
        paired=n,
        students=students,
        mean_first=mean_first,
        mean_last=mean_last,
        effect_size=effect_size,
        reliable_improvement=counts["improved"],
        no_reliable_change=counts["unchanged"],
        reliable_deterioration=counts["deteriorated"],
        case_at_start=counts["case"],
        recovery=counts["recovered"],
        reliable_recovery=counts["reliably"],
        clinically_significant=counts["significant"],
        pairs=_without_index(pairs),
    )


def _without_index(pairs: Counter) -> Counter[tuple[float, float]]:
    plain: Counter[tuple[float, float]] = Counter()
    for (first, last, _), k in pairs.items():
        plain[first, last] += k
    return plain


@dataclass(frozen=True)
class TalkingTherapiesOutcome:
    """NHS Talking Therapies outcomes (`measures.md` §8) of the episodes ended in the period.

    `finished` had at least two attended treatment appointments; `eligible` also had paired
    PHQ-9 and GAD-7 scores (the reliable improvement denominator); `case_at_start` of those
    were a case at the start (the recovery denominator).
    """

    ended: int
    finished: int
    eligible: int
    students: int
    case_at_start: int
    recovery: int
    reliable_improvement: int
    reliable_deterioration: int
    reliable_recovery: int

    @property
    def not_available(self) -> int:
        return self.ended - self.eligible


@functools.lru_cache(maxsize=65536)
def _episode_outcome(attended: int, firsts: tuple, lasts: tuple) -> EpisodeOutcome:
    # episode_outcome reads only each measure's first and last score and the number of
    # sessions, so a first session, empty ones, and a last session give the same flags.
    sessions = [dict(firsts)] + [{} for _ in range(max(attended - 2, 0))] + [dict(lasts)]
    return episode_outcome(sessions[: max(attended, 0)] if attended < 2 else sessions)


def talking_therapies_episode(row: EpisodeRow) -> EpisodeOutcome:
    """The NHS Talking Therapies flags of one ended episode, by `episode_outcome` itself."""
    firsts, lasts = [], []
    for code in ("PHQ-9", "GAD-7"):
        if code in row.scores:
            first, last, n = row.scores[code]
            firsts.append((code, first))
            if n >= 2:
                lasts.append((code, last))
    # Cap the number of sessions: beyond two it changes nothing, and it keeps the cache small.
    return _episode_outcome(min(row.attended_treatment, 3), tuple(firsts), tuple(lasts))


def talking_therapies(rows: Sequence[EpisodeRow]) -> TalkingTherapiesOutcome:
    """Counts of the NHS Talking Therapies flags over ended episodes."""
    finished = 0
    paired: Counter[tuple] = Counter()
    students = set()
    for row in rows:
        if row.attended_treatment < 2:
            continue  # not finished: every flag would be None
        finished += 1
        phq, gad = row.scores.get("PHQ-9"), row.scores.get("GAD-7")
        if not (phq and gad and phq[2] >= 2 and gad[2] >= 2):
            continue  # no paired scores on both measures: every flag would be None
        paired[min(row.attended_treatment, 3), phq[0], phq[1], gad[0], gad[1]] += 1
        students.add(row.student)
    return talking_therapies_of(len(rows), finished, paired, len(students))


def talking_therapies_of(
    ended: int, finished: int, paired: Mapping[tuple, int], students: int
) -> TalkingTherapiesOutcome:
    """`talking_therapies` of `ended` endings, `finished` of them with at least two attended
    treatment appointments, those of them with paired PHQ-9 and GAD-7 scores counted by
    (attended treatment appointments up to 3, PHQ-9 first and last, GAD-7 first and last),
    of `students` students."""
    eligible = case = recovery = improved = deteriorated = reliably = 0
    for (attended, phq_first, phq_last, gad_first, gad_last), n in paired.items():
        outcome = _episode_outcome(
            attended,
            (("PHQ-9", phq_first), ("GAD-7", gad_first)),
            (("PHQ-9", phq_last), ("GAD-7", gad_last)),
        )
        eligible += n
        improved += n * outcome.reliable_improvement
        deteriorated += n * outcome.reliable_deterioration
        if outcome.caseness_at_start:
            case += n
            recovery += n * outcome.recovery
            reliably += n * outcome.reliable_recovery
    return TalkingTherapiesOutcome(
        ended=ended,
        finished=finished,
        eligible=eligible,
        students=students,
        case_at_start=case,
        recovery=recovery,
        reliable_improvement=improved,
        reliable_deterioration=deteriorated,
        reliable_recovery=reliably,
    )
