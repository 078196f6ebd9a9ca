"""Pure rules of sessional monitoring: which questionnaires are due, which risk items were
answered positively, and which episode a questionnaire is filed under. No database, request
or clock."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol


def due_session(routine: Iterable[str], recorded: Mapping[int, set[str]]) -> tuple[int, list[str]]:
    """The session whose routine measures are due, and those measures.

    `recorded` maps session numbers to the measures recorded at them. While the latest
    session still lacks a routine measure it stays due; once complete, the next one is.
    """
    routine = sorted(routine)
    if not recorded:
        return 1, routine
    latest = max(recorded)
    missing = [code for code in routine if code not in recorded[latest]]
    return (latest, missing) if missing else (latest + 1, routine)


def positive_risk_items(risk_items: Sequence[int], answers: Sequence[int | None]) -> list[int]:
    """The risk items (numbered from 1) answered above the lowest position (spec §0: an
    unanswered risk item is never positive)."""
    return [n for n in risk_items if (answers[n - 1] or 0) >= 1]


class Dated(Protocol):
    """Anything with an episode's dates: an `Episode`, or a plain value in tests."""

    @property
    def started_at(self) -> dt.datetime: ...

    @property
    def ended_at(self) -> dt.datetime | None: ...


def covers(episode: Dated, moment: dt.datetime) -> bool:
    """Whether an episode's dates cover `moment`: from its start to its end, both included;
    an open episode (no end yet) covers everything from its start."""
    return episode.started_at <= moment and (episode.ended_at is None or moment <= episode.ended_at)


def covering_episode[E: Dated](episodes: Iterable[E], moment: dt.datetime) -> E | None:
    """The episode a questionnaire completed at `moment` is filed under: of one student's
    episodes at one service, the one whose dates cover it (the latest started, should two
    overlap), or None, kept outside any episode. Late data never rewrites history: a score
    dated before an episode began never becomes its first score."""
    covering = [episode for episode in episodes if covers(episode, moment)]
    return max(covering, key=lambda episode: episode.started_at, default=None)
