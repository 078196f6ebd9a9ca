"""Recording questionnaires and sending completion links; a risk item raises a risk flag.

Every change is audited in the `outcomes` category. Messages go out after commit, through
background tasks, and never carry clinical content.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from joinedup.audit.services import append
from joinedup.consent.policy import entry_for
from joinedup.measures import instruments, scoring
from joinedup.measures.models import Administration, Answer, CompletionLink
from joinedup.measures.rules import positive_risk_items
from joinedup.measures.selectors import filing_episode
from joinedup.reminders.tasks import send_questionnaire_link
from joinedup.risk.services import raise_automatic_flag

LINK_SALT = "joinedup.measures.link"


_entry = partial(entry_for, category="outcomes")


def record_administration(
    *,
    actor,
    student,
    service,
    code: str,
    answers: list[int | None] | None,
    method: str,
    episode=None,
    session_number: int | None = None,
    completed_at=None,
    request=None,
    score: float | None = None,
) -> Administration:
    """Score and store one questionnaire with its answers, item by item; or, with `answers`
    None, the `score` another system states for it (an imported score without items).

    It is filed under the student's episode at `service` whose dates cover `completed_at`,
    or under none (`selectors.filing_episode`): late data never rewrites an episode. An
    `episode` given is the session's own, and a date outside it is refused.

    Raises `ValueError` for answers the measure does not allow (naming the item) and
    `ValidationError` when the measure was already recorded for that session or its date
    is outside the session's episode. A positive risk item raises a risk flag for the
    services in the student's care.
    """
    if (answers is None) == (score is None):
        raise ValueError("Give either the answers or, for an imported score, the score.")
    result = scoring.score(code, answers) if answers is not None else scoring.stated(code, score)
    completed_at = completed_at or timezone.now()
    filed_under = filing_episode(student, service, completed_at)
    if episode is not None and episode != filed_under:
        raise ValidationError(_outside_episode(episode, completed_at))
    try:
        with transaction.atomic():
            administration = Administration.objects.create(
                student=student,
                service=service,
                episode=filed_under,
                session_number=session_number,
                code=code,
                completed_at=completed_at,
                method=method,
                recorded_by=actor,
                **_score_fields(result),
            )
            Answer.objects.bulk_create(
                Answer(administration=administration, item=n, value=value)
                for n, value in enumerate(answers or (), start=1)
                if value is not None
            )
            append(
                [
                    _entry(
                        "measures.administration.recorded",
                        actor,
                        student,
                        request=request,
                        service=service,
                        reason=f"{code}, session {session_number or '—'}",
                    )
                ]
            )
            if result.risk:
                raise_risk_flag(administration, answers)
    except IntegrityError as error:
        raise ValidationError(
            _("%(code)s has already been recorded for session %(session)s.")
            % {"code": code, "session": session_number}
        ) from error
    return administration


def _outside_episode(episode, completed_at) -> str:
    values = {
        "date": date_format(timezone.localtime(completed_at), "j F Y"),
        "start": date_format(timezone.localtime(episode.started_at), "j F Y"),
    }
    if episode.ended_at is None:
        return (
            _(
                "The questionnaire is dated %(date)s, before this episode of care began on "
                "%(start)s. Check the date: a questionnaire is kept with the episode it was "
                "completed in."
            )
            % values
        )
    values["end"] = date_format(timezone.localtime(episode.ended_at), "j F Y")
    return (
        _(
            "The questionnaire is dated %(date)s, outside this episode of care, which ran "
            "from %(start)s to %(end)s. Check the date: a questionnaire is kept with the "
            "episode it was completed in."
        )
        % values
    )


def _score_fields(result) -> dict:
    return {
        "is_valid": result.valid,
        "is_prorated": result.prorated,
        "total": result.total,
        "main_score": result.main_score,
        "band": result.band or "",
        "is_case": result.caseness,
        "has_risk": result.risk,
        "risk_unanswered": result.risk_unanswered,
        "subscales": dict(result.subscales or {}),
        "score_only": isinstance(result, scoring.Stated),
    }


def raise_risk_flag(administration: Administration, answers) -> None:
    """A positive risk item raises a flag (joinedup.risk) for the services in the student's
    care to acknowledge in time, with its escalation route."""
    instrument = instruments.get(administration.code)
    items = positive_risk_items([i.number for i in instrument.items if i.risk], answers)
    summary = _("%(code)s risk item %(items)s answered above zero") % {
        "code": administration.code,
        "items": ", ".join(str(n) for n in items),
    }
    raise_automatic_flag(
        student=administration.student,
        service=administration.service,
        source="questionnaire",
        reason=summary,
        administration=administration,
    )


def send_completion_link(
    *, actor, episode, session_number: int, codes: list[str], request=None
) -> str:
    """Create a single-use link for the student's questionnaires and send it to them by
    the channels they chose for reminders (`joinedup.reminders`).

    Returns the link's signed token, so staff can also give it to the student directly.
    """
    for code in codes:
        instruments.get(code)  # an unknown measure raises ValueError here
    if not codes:
        raise ValidationError(_("Choose at least one questionnaire."))
    with transaction.atomic():
        link = CompletionLink.objects.create(
            episode=episode,
            session_number=session_number,
            codes=list(codes),
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=settings.COMPLETION_LINK_HOURS),
        )
        append(
            [
                _entry(
                    "measures.link.sent",
                    actor,
                    episode.student,
                    request=request,
                    service=episode.service,
                    reason=f"{', '.join(codes)}, session {session_number}",
                )
            ]
        )
        transaction.on_commit(lambda: send_questionnaire_link.enqueue(link.pk, token_of(link)))
    return token_of(link)


def token_of(link: CompletionLink) -> str:
    return signing.dumps(str(link.uuid), salt=LINK_SALT)


def link_from_token(token: str) -> CompletionLink | None:
    """The link a token names, if the signature is good; expiry and use are checked apart."""
    try:
        link_uuid = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    return (
        CompletionLink.objects.select_related("episode__student", "episode__service")
        .filter(uuid=link_uuid)
        .first()
    )


def complete_from_link(
    *, link: CompletionLink, answers_by_code: dict[str, list[int | None]], request=None
) -> list[Administration]:
    """Record the student's answers from a link, once: a second use is refused.

    Answers given after the link's episode ended are kept, filed by their date like any
    other, without the link's session number, which belongs to that episode."""
    episode = link.episode
    student = episode.student
    with transaction.atomic():
        now = timezone.now()
        claimed = CompletionLink.objects.filter(
            pk=link.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            raise ValidationError(_("This link has already been used or has expired."))
        in_episode = filing_episode(student, episode.service, now) == episode
        return [
            record_administration(
                actor=student.user,
                student=student,
                service=episode.service,
                code=code,
                answers=answers_by_code[code],
                method=Administration.Method.LINK,
                episode=episode if in_episode else None,
                session_number=link.session_number if in_episode else None,
                completed_at=now,
                request=request,
            )
            for code in link.codes
        ]
