"""The default shared risk language, which a hub may edit in the admin."""

DEFAULT_LEVELS = [
    (
        1,
        "Low",
        "No current thoughts of harm, or passing thoughts with no plan; protective "
        "factors in place.",
        "Continue planned support; review at the next contact.",
        168,
    ),
    (
        2,
        "Moderate",
        "Thoughts of harm or self-neglect with no plan or intent, or risk "
        "factors rising; protective factors present.",
        "Contact the student and review the plan within three days.",
        72,
    ),
    (
        3,
        "High",
        "Thoughts of harm with a plan or recent self-harm, risk from or to others, "
        "or protective factors lost.",
        "Contact the student the same day and agree a safety plan; consider the crisis team.",
        24,
    ),
    (
        4,
        "Immediate",
        "Risk to life now: intent and means, or an emergency in progress.",
        "Act now: emergency services or the crisis team within the hour.",
        1,
    ),
]


def ensure_default_levels(level_model=None) -> None:
    """Create the default levels where none exist (fresh databases and test flushes)."""
    if level_model is None:
        from joinedup.risk.models import RiskLevel as level_model  # noqa: N813
    if level_model.objects.exists():
        return
    for rank, name, descriptor, response, hours in DEFAULT_LEVELS:
        level_model.objects.create(
            rank=rank,
            name=name,
            descriptor=descriptor,
            expected_response=response,
            response_hours=hours,
        )
