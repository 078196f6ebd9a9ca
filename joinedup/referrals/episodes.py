"""Episodes for every service: a student who walks in, allocation to a named practitioner,
and an ending chosen on the episode's page.

A walk-in student not yet known to the service is found by their student number at the
service's own university *and* their date of birth, which the student gives in person: a
number alone would let anyone in a service open a care relationship (and so the record) of
any student by guessing numbers. A miss says the same whether the number exists or not, and
is audited; the student is told when a service opens an episode with them.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import entry_for
from joinedup.people.models import Organisation, Student
from joinedup.people.services import notify_student
from joinedup.referrals import rules
from joinedup.referrals.appointments import is_clinician, name_of
from joinedup.referrals.models import Episode, Referral
from joinedup.referrals.services import accept_referral, end_episode, open_episode

WALK_IN_LOOKUP = "referrals.walk_in.lookup"


def find_walk_in_student(
    *, actor, service, student_number: str, date_of_birth, request=None
) -> Student:
    """The student of the service's university with this number and date of birth, or a
    refusal that reads the same whichever part did not match (audited)."""
    number = student_number.strip()
    if not number:
        raise ValidationError({"student_number": _("Give the student's student number.")})
    university = service.organisation
    if university.kind != Organisation.Kind.UNIVERSITY:
        raise ValidationError(
            _(
                "Only a university's services find students by student number. Open the "
                "episode from the student's record."
            )
        )
    student = Student.objects.filter(
        university=university, student_number__iexact=number, date_of_birth=date_of_birth
    ).first()
    if student is None:
        append(
            [
                Entry(
                    WALK_IN_LOOKUP,
                    actor=actor,
                    category="identity",
                    allowed=False,
                    basis="none",
                    reason="No student matched the number and date of birth given.",
                    actor_service=service.name,
                    actor_organisation=university.name,
                    request_id=request_id_of(request),
                )
            ]
        )
        raise ValidationError(
            {
                "student_number": _(
                    "No student of %(university)s has this student number with this date of "
                    "birth. Check both with the student."
                )
                % {"university": university.name}
            }
        )
    return student


def open_walk_in_episode(
    *, actor, student: Student, service, practitioner=None, request=None
) -> Episode:
    """Open an episode of the actor's service for a student without any referral (found as
    a walk-in, or from a record the actor may read), allocated to `practitioner` if named;
    refused while the student has an episode open with the service. A referral of theirs
    waiting for the service is accepted instead (its episode is this one). The student is
    told."""
    if not is_clinician(actor, service):
        raise ValidationError(_("Only a practitioner of %(service)s can open its episodes.") % {
            "service": service.name
        })  # fmt: skip
    if practitioner is not None and not is_clinician(practitioner, service):
        raise ValidationError({"practitioner": _not_of_service(practitioner, service)})
    if Episode.objects.open().filter(student=student, service=service).exists():
        raise ValidationError(
            _("%(student)s already has an open episode with %(service)s.")
            % {"student": student.display_name, "service": service.name}
        )
    with transaction.atomic():
        # A referral of theirs still waiting for this service (their own, made when they
        # were registered here) is what the episode answers: it is accepted, not left
        # waiting beside the episode.
        waiting = (
            Referral.objects.filter(
                student=student, to_service=service, state=Referral.State.SENT,
                student__is_pending=False,
            ).order_by("sent_at", "pk").first()
        )  # fmt: skip
        if waiting is not None:
            accepted = accept_referral(
                actor=actor, referral=waiting, version=waiting.version, request=request
            )
            episode = accepted.episode
        else:
            episode = open_episode(actor=actor, student=student, service=service, request=request)
        if practitioner is not None:
            allocate_episode(
                actor=actor, episode=episode, practitioner=practitioner, request=request
            )
        with student.in_own_language():
            notify_student(
                student,
                _(
                    "%(service)s has started working with you. Your appointments with them will "
                    "show under My appointments."
                )
                % {"service": service.name},
            )
    return episode


def _not_of_service(user, service) -> str:
    return _("%(name)s is not a practitioner of %(service)s: choose one of its practitioners.") % {
        "name": name_of(user),
        "service": service.name,
    }


def allocate_episode(*, actor, episode: Episode, practitioner, request=None) -> Episode:
    """Allocate (or reallocate) an open episode to a named practitioner of its service;
    audited with who it moved from."""
    if not episode.is_open:
        raise ValidationError(_("This episode has ended."))
    if practitioner is None:
        raise ValidationError({"practitioner": _("Choose the practitioner.")})
    if not is_clinician(practitioner, episode.service):
        raise ValidationError({"practitioner": _not_of_service(practitioner, episode.service)})
    if episode.practitioner_id == practitioner.pk:
        raise ValidationError(
            {"practitioner": _("The episode is already allocated to %(name)s.")
             % {"name": name_of(practitioner)}}
        )  # fmt: skip
    before = episode.practitioner
    with transaction.atomic():
        episode.practitioner, episode.allocated_at = practitioner, timezone.now()
        episode.save(update_fields=["practitioner", "allocated_at"])
        append(
            [
                entry_for(
                    "referrals.episode.allocated",
                    actor,
                    episode.student,
                    category="engagement",
                    service=episode.service,
                    reason=f"{episode.service}: "
                    f"{name_of(before) if before else 'unallocated'} → {name_of(practitioner)}",
                    request=request,
                )
            ]
        )
    return episode


def close_episode(*, actor, episode: Episode, ending: str, ended_at=None, request=None) -> Episode:
    """End an episode from its page, with one of its endings (planned, unplanned, the
    student disengaged, transferred), no earlier than it began and not in the future. An
    episode that came with a referral still in motion ends by discharging the referral,
    which writes the summary and tells the referrer."""
    ended_at = ended_at or timezone.now()
    if not episode.is_open:
        raise ValidationError(_("This episode has already ended."))
    referral = Referral.objects.filter(episode=episode).first()
    if referral is not None and referral.state in Referral.OPEN_STATES:
        raise ValidationError(
            _(
                "This episode came with a referral from %(source)s: end it by discharging the "
                "referral, so that the summary goes back."
            )
            % {"source": referral.from_service or referral.get_source_display()}
        )
    errors = {}
    if ending not in rules.ENDING_IS_PLANNED:
        errors["ending"] = _("Choose how the episode ended.")
    if ended_at > timezone.now():
        errors["ended_at"] = _("An episode cannot end in the future.")
    elif ended_at < episode.started_at:
        errors["ended_at"] = _("The episode cannot end before it began (%(date)s).") % {
            "date": timezone.localtime(episode.started_at).strftime("%d %b %Y")
        }
    if errors:
        raise ValidationError(errors)
    return end_episode(
        actor=actor, episode=episode, ending=ending, ended_at=ended_at, request=request
    )
