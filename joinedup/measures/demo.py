"""Demo questionnaires: routine measures per service, episodes for the demo hub's care
relationships, and realistic trajectories (improving, flat, deteriorating, dropping out)."""

import datetime as dt
import random

from django.utils import timezone

from joinedup.measures import instruments, scoring
from joinedup.measures.models import Administration, Answer, RoutineMeasure
from joinedup.measures.selectors import filing_episodes
from joinedup.referrals.models import Episode
from joinedup.risk.models import Flag
from joinedup.risk.rules import due_at
from joinedup.risk.services import AUTOMATIC_LEVEL, level_of_rank

ROUTINE = {
    "north_wellbeing": ["GAD-7", "PHQ-9"],
    "south_wellbeing": ["GAD-7", "PHQ-9"],
    "talking": ["GAD-7", "PHQ-9"],
    "north_counselling": ["CORE-10"],
    "south_counselling": ["CORE-10"],
}
# Each pattern moves the score, as a share of the measure's range, per session.
PATTERNS = {"improving": -0.06, "flat": 0.0, "deteriorating": 0.04, "dropping out": -0.02}
START_SHARE = {"PHQ-9": 0.6, "GAD-7": 0.6, "CORE-10": 0.5, "CORE-OM": 0.45}


def add_demo_measures(hub, relationships, rng: random.Random, recorder) -> None:
    """Episodes for the hub's episode relationships, and their sessional questionnaires."""
    routine = [
        RoutineMeasure(service=hub[key], code=code)
        for key, codes in ROUTINE.items()
        for code in codes
    ]
    RoutineMeasure.objects.bulk_create(routine)
    codes_of = {}
    for measure in routine:
        codes_of.setdefault(measure.service_id, []).append(measure.code)
    episodes = Episode.objects.bulk_create(
        Episode(
            student_id=r.student_id,
            service_id=r.service_id,
            relationship=r,
            started_at=r.opened_at,
            ended_at=r.closed_at,
            ending="planned" if r.closed_at else "",
        )
        for r in relationships
        if r.reason == "episode"
    )
    pending = []
    for episode in episodes:
        if episode.service_id in codes_of:
            pattern = rng.choice(list(PATTERNS))
            pending += trajectory(episode, codes_of[episode.service_id], pattern, rng, recorder)
    save_trajectories(pending)


def trajectory(episode, codes, pattern, rng, recorder, *, sessions=None):
    """Weekly rows of each measure in `codes` for `sessions` sessions (by default as many as
    the pattern and the episode's weeks so far allow), their scores moving by `pattern`."""
    now = min(timezone.now(), episode.ended_at or timezone.now())  # sessions within it
    if sessions is None:
        weeks = max(1, min(12, (now - episode.started_at).days // 7))
        sessions = min(weeks, 3 if pattern == "dropping out" else rng.randrange(4, 9))
    rows = []
    for code in codes:
        instrument = instruments.get(code)
        span = instrument.score_max - instrument.score_min
        level = instrument.score_min + span * (START_SHARE[code] + rng.uniform(-0.25, 0.2))
        for session in range(1, sessions + 1):
            target = round(level + rng.uniform(-0.03, 0.03) * span)
            answers = answers_for(instrument, target, rng)
            at = episode.started_at + dt.timedelta(days=7 * (session - 1), hours=1)
            rows.append((episode, session, code, answers, min(at, now), recorder))
            level = min(
                max(level + PATTERNS[pattern] * span, instrument.score_min), instrument.score_max
            )
    return rows


def answers_for(instrument, target: float, rng: random.Random, *, risk=False) -> list[int]:
    """Answers whose main score is `target` (clamped): their scored sum, or for a CORE
    clinical score (the item mean times 10) the sum that gives it. Risk items are kept at
    the lowest position unless `risk`. Reverse-scored items are converted back to the
    position a person picks."""
    if instrument.method == "clinical_score":
        target = target * instrument.item_count / instruments.CLINICAL_SCORE_FACTOR
    low, high = instrument.answer_min, instrument.answer_max
    scores = [low] * instrument.item_count
    risk_items = {n - 1 for n in instrument.risk_items}
    if risk:
        scores[min(risk_items)] = low + 1
    free = [i for i in range(instrument.item_count) if i not in risk_items]
    goal = min(max(int(target), sum(scores)), sum(scores) + (high - low) * len(free))
    while sum(scores) < goal:
        i = rng.choice(free)
        if scores[i] < high:
            scores[i] += 1
    return [
        low + high - s if item.is_reversed else s
        for item, s in zip(instrument.items, scores, strict=True)
    ]


def save_trajectories(rows) -> None:
    """Each row is filed by its date, as every writer files questionnaires; the session
    number stays only when that is the episode the session belongs to."""
    filed = _filed(rows)
    administrations = []
    for (episode, session, code, answers, at, recorder), filed_under in zip(
        rows, filed, strict=True
    ):
        result = scoring.score(code, answers)
        administrations.append(
            Administration(
                student_id=episode.student_id,
                service_id=episode.service_id,
                episode=filed_under,
                session_number=session if filed_under == episode else None,
                code=code,
                completed_at=at,
                method="in_session",
                recorded_by=recorder,
                is_valid=result.valid,
                is_prorated=result.prorated,
                total=result.total,
                main_score=result.main_score,
                band=result.band or "",
                is_case=result.caseness,
                has_risk=result.risk,
                risk_unanswered=result.risk_unanswered,
                subscales=dict(result.subscales or {}),
            )
        )
    Administration.objects.bulk_create(administrations, batch_size=500)
    Answer.objects.bulk_create(
        (
            Answer(administration=a, item=n, value=v)
            for a, row in zip(administrations, rows, strict=True)
            for n, v in enumerate(row[3], 1)
        ),
        batch_size=2000,
    )
    flagged = [a for a in administrations if a.has_risk]
    if flagged:
        high = level_of_rank(AUTOMATIC_LEVEL["questionnaire"])
        Flag.objects.bulk_create(
            Flag(
                student_id=a.student_id,
                service_id=a.service_id,
                level=high,
                source="questionnaire",
                reason=f"{a.code} risk item answered above zero",
                administration=a,
                raised_at=a.completed_at,
                due_at=due_at(a.completed_at, high.as_rule()),
            )
            for a in flagged
        )


def _filed(rows) -> list:
    """The episode each row is filed under (`selectors.filing_episodes`), in row order."""
    by_service = {}
    for n, (episode, _session, _code, _answers, at, _recorder) in enumerate(rows):
        by_service.setdefault(episode.service_id, []).append((n, episode.student_id, at))
    filed = [None] * len(rows)
    for service_id, dated in by_service.items():
        found = filing_episodes(service_id, [(student_id, at) for _n, student_id, at in dated])
        for (n, _student_id, _at), episode in zip(dated, found, strict=True):
            filed[n] = episode
    return filed


def add_story_measures(episode, recorder) -> None:
    """The story student's PHQ-9 and GAD-7 over five sessions: improving after a first
    session whose PHQ-9 item 9 was positive."""
    rng = random.Random(7)  # noqa: S311 - repeatable demo data
    rows = []
    for code, scores in [("PHQ-9", [19, 16, 12, 9, 7]), ("GAD-7", [15, 13, 10, 8, 6])]:
        instrument = instruments.get(code)
        for session, target in enumerate(scores, 1):
            at = episode.started_at + dt.timedelta(days=7 * (session - 1), hours=1)
            risk = code == "PHQ-9" and session == 1
            rows.append(
                (
                    episode,
                    session,
                    code,
                    answers_for(instrument, target, rng, risk=risk),
                    at,
                    recorder,
                )
            )
    save_trajectories(rows)
