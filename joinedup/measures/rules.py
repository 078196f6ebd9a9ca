"""Pure rules of sessional monitoring: which questionnaires are due, and which risk items
were answered positively. No database, request or clock."""

from collections.abc import Iterable, Mapping, Sequence


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
