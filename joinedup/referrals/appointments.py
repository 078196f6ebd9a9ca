"""Changes to the diary: booking, moving, cancelling and recording appointments, and the
student's requests to cancel or rebook with the service's answers.

One function per action, each in a transaction with its audit entry; the student is told in
their portal (and by email, after commit) of what changes for them. A clinician's bookings
take turns (their user row is locked), so two bookings at once cannot both slip past the
clash rule (`rules.clashes`). Whatever is refused saves nothing.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from joinedup.audit.services import append
from joinedup.consent.policy import entry_for
from joinedup.lib.dates import day_and_time
from joinedup.people.models import Membership, User
from joinedup.people.services import notify_student
from joinedup.referrals import rules
from joinedup.referrals.models import Appointment, AppointmentRequest, Episode, Referral

when = day_and_time


def name_of(user) -> str:
    return user.get_full_name() or user.email


def _entry(action, actor, appointment: Appointment, request=None, reason=""):
    episode = appointment.episode
    return entry_for(
        action,
        actor,
        episode.student,
        category="engagement",
        service=episode.service,
        reason=reason or f"{episode.service}: {appointment}",
        request=request,
    )


def is_clinician(user, service) -> bool:
    """Whether `user` is a clinician of `service` (`rules.is_clinician_of`)."""
    seats = Membership.objects.filter(user=user).values_list("service_id", "role")
    return rules.is_clinician_of(service.pk, seats)


def _check_clinician(service, clinician, errors: dict) -> None:
    if clinician is None:
        errors["clinician"] = _("Choose the clinician the student will see.")
    elif not is_clinician(clinician, service):
        errors["clinician"] = _(
            "%(name)s is not a practitioner of %(service)s: choose one of its practitioners."
        ) % {"name": name_of(clinician), "service": service.name}


def _check_length(length: timedelta, errors: dict) -> None:
    if problem := rules.length_problem(length):
        errors["length"] = _(problem)


def _check_inside(episode: Episode, starts_at, errors: dict) -> None:
    # From the start of the day it opened: a walk-in's episode is often opened after the
    # first conversation, which is then recorded at the time it took place.
    opened_day = timezone.localtime(episode.started_at).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    if not rules.inside_episode(starts_at, opened_day, episode.ended_at):
        errors["starts_at"] = _(
            "The appointment must be inside the episode, which runs from %(start)s%(end)s."
        ) % {
            "start": timezone.localtime(episode.started_at).strftime("%d %b %Y"),
            "end": _(" to %(d)s") % {"d": timezone.localtime(episode.ended_at).strftime("%d %b %Y")}
            if episode.ended_at
            else _(" and is still open"),
        }


def _refuse_clashes(clinician, starts_at, length: timedelta, moving: Appointment | None) -> None:
    """Refuse, naming the clash, when the clinician has a booked appointment overlapping this
    time. Locks the clinician's row first: their bookings take turns."""
    User.objects.select_for_update().filter(pk=clinician.pk).first()
    new = rules.Slot(moving.pk if moving else None, starts_at, length)
    nearby = Appointment.objects.filter(
        clinician=clinician,
        status=Appointment.Status.BOOKED,
        starts_at__lt=new.ends_at,
        starts_at__gt=starts_at - rules.LONGEST_APPOINTMENT,
    ).values_list("pk", "starts_at", "length")
    found = rules.clashes(new, [rules.Slot(*row) for row in nearby])
    if found:
        first = found[0]
        raise ValidationError(
            {
                "starts_at": _(
                    "%(name)s already has an appointment from %(start)s to %(end)s on %(day)s, "
                    "which this would overlap. Choose another time or clinician."
                )
                % {
                    "name": name_of(clinician),
                    "start": timezone.localtime(first.starts_at).strftime("%H:%M"),
                    "end": timezone.localtime(first.ends_at).strftime("%H:%M"),
                    "day": timezone.localtime(first.starts_at).strftime("%A %-d %B"),
                }
            }
        )


def _where(appointment: Appointment) -> str:
    return appointment.place or (_("by video") if appointment.video_link else "")


def book_appointment(
    *,
    actor,
    episode: Episode,
    starts_at,
    kind: str,
    clinician=None,
    length: timedelta | None = None,
    place: str = "",
    video_link: str = "",
    request=None,
) -> Appointment:
    """Book an appointment in the episode with a clinician of its service (the booker, unless
    named), refused when it falls outside the episode or clashes with the clinician's diary.
    The student is told of a booking still to come."""
    clinician = clinician or actor
    length = length or Appointment.DEFAULT_LENGTH
    errors: dict = {}
    if kind not in Appointment.Kind.values:
        errors["kind"] = _("Choose the kind of appointment.")
    _check_inside(episode, starts_at, errors)
    _check_clinician(episode.service, clinician, errors)
    _check_length(length, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _refuse_clashes(clinician, starts_at, length, None)
        appointment = Appointment.objects.create(
            episode=episode,
            clinician=clinician,
            starts_at=starts_at,
            length=length,
            place=place.strip(),
            video_link=video_link.strip(),
            kind=kind,
            recorded_by=actor,
        )
        append([_entry("referrals.appointment.booked", actor, appointment, request)])
        if starts_at > timezone.now():
            with episode.student.in_own_language():
                notify_student(
                    episode.student,
                    _(
                        "%(service)s booked an appointment for you on %(when)s "
                        "(%(minutes)s minutes). See it under My appointments."
                    )
                    % {
                        "service": episode.service.name,
                        "when": when(starts_at),
                        "minutes": appointment.minutes,
                    },
                )
    return appointment


def reschedule_appointment(
    *,
    actor,
    appointment: Appointment,
    starts_at,
    reason: str,
    by: str = Appointment.CancelledBy.SERVICE,
    clinician=None,
    length: timedelta | None = None,
    place: str | None = None,
    video_link: str | None = None,
    request=None,
    tell_student: bool = True,
) -> Appointment:
    """Move a booked appointment to a time still to come (with another clinician, length or
    place if given), saying why and at whose wish; refused outside the episode or on a
    clash. A request from the student waiting on it is answered as rebooked."""
    clinician = clinician or appointment.clinician or actor
    length = length or appointment.length
    errors: dict = {}
    if appointment.status != Appointment.Status.BOOKED:
        raise ValidationError(
            _("This appointment is %(status)s: only a booked one can be moved.")
            % {"status": appointment.get_status_display().lower()}
        )
    if by not in Appointment.CancelledBy.values:
        errors["by"] = _("Say who asked for the change.")
    if not reason.strip():
        errors["reason"] = _("Say why the appointment is moving.")
    if starts_at <= timezone.now():
        errors["starts_at"] = _("An appointment can only move to a time still to come.")
    else:
        _check_inside(appointment.episode, starts_at, errors)
    _check_clinician(appointment.episode.service, clinician, errors)
    _check_length(length, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _refuse_clashes(clinician, starts_at, length, appointment)
        old = appointment.starts_at
        appointment.moved_from, appointment.move_reason = old, reason.strip()
        appointment.starts_at, appointment.length, appointment.clinician = (
            starts_at,
            length,
            clinician,
        )
        if place is not None:
            appointment.place = place.strip()
        if video_link is not None:
            appointment.video_link = video_link.strip()
        appointment.save(
            update_fields=[
                "moved_from",
                "move_reason",
                "starts_at",
                "length",
                "clinician",
                "place",
                "video_link",
                "updated_at",
            ]
        )
        append(
            [
                _entry(
                    "referrals.appointment.moved",
                    actor,
                    appointment,
                    request,
                    reason=f"{appointment.episode.service}: {old:%Y-%m-%d %H:%M} → "
                    f"{starts_at:%Y-%m-%d %H:%M} ({by})",
                )
            ]
        )
        _settle_waiting_request(appointment, AppointmentRequest.Answer.REBOOKED, actor)
        if tell_student:
            with appointment.episode.student.in_own_language():
                notify_student(
                    appointment.episode.student,
                    _("%(service)s moved your appointment on %(old)s to %(new)s.")
                    % {
                        "service": appointment.episode.service.name,
                        "old": when(old),
                        "new": when(starts_at),
                    },
                )
    return appointment


def cancel_appointment(
    *,
    actor,
    appointment: Appointment,
    by: str,
    reason: str,
    request=None,
    tell_student: bool = True,
) -> Appointment:
    """Cancel a booked appointment, by the service or the student, saying why. A request
    from the student waiting on it is answered as cancelled; the student is told when the
    service cancels one still to come."""
    errors: dict = {}
    if appointment.status != Appointment.Status.BOOKED:
        raise ValidationError(
            _("This appointment is %(status)s: only a booked one can be cancelled.")
            % {"status": appointment.get_status_display().lower()}
        )
    if by not in Appointment.CancelledBy.values:
        errors["cancelled_by"] = _("Say who cancelled.")
    if not reason.strip():
        errors["reason"] = _("Say why the appointment is cancelled.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        appointment.status, appointment.cancelled_by = Appointment.Status.CANCELLED, by
        appointment.cancelled_at, appointment.cancel_reason = timezone.now(), reason.strip()
        appointment.save(
            update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason", "updated_at"]
        )
        append(
            [
                _entry(
                    "referrals.appointment.cancelled",
                    actor,
                    appointment,
                    request,
                    reason=f"{appointment.episode.service}: cancelled by the {by}",
                )
            ]
        )
        _settle_waiting_request(appointment, AppointmentRequest.Answer.CANCELLED, actor)
        if tell_student and by == "service" and appointment.starts_at > timezone.now():
            with appointment.episode.student.in_own_language():
                notify_student(
                    appointment.episode.student,
                    _(
                        "%(service)s cancelled your appointment on %(when)s. See why under My "
                        "appointments."
                    )
                    % {
                        "service": appointment.episode.service.name,
                        "when": when(appointment.starts_at),
                    },
                )
    return appointment


def record_appointment(
    *,
    actor,
    appointment: Appointment,
    status: str,
    cancelled_by: str = "",
    reason: str = "",
    request=None,
) -> Appointment:
    """Attended or missed (did not attend), once its time has come; or cancelled, by whom and
    why (`cancel_appointment`). Attending a first appointment stops the first-contact clock
    of the referral that opened the episode."""
    if status not in Appointment.Status.values or status == Appointment.Status.BOOKED:
        raise ValidationError({"status": _("Choose what happened.")})
    if status == Appointment.Status.CANCELLED:
        return cancel_appointment(
            actor=actor, appointment=appointment, by=cancelled_by, reason=reason, request=request
        )
    if appointment.status == Appointment.Status.CANCELLED:
        raise ValidationError({"status": _("This appointment was cancelled.")})
    if appointment.starts_at > timezone.now():
        raise ValidationError({"status": _("This appointment has not happened yet.")})
    with transaction.atomic():
        appointment.status, appointment.cancelled_by = status, ""
        appointment.save(update_fields=["status", "cancelled_by", "updated_at"])
        append([_entry(f"referrals.appointment.{status}", actor, appointment, request)])
        _settle_waiting_request(appointment, AppointmentRequest.Answer.KEPT, actor)
        referral = Referral.objects.filter(
            episode=appointment.episode_id, first_contact_at__isnull=True
        ).first()
        if status == Appointment.Status.ATTENDED and referral is not None:
            Referral.objects.filter(pk=referral.pk).update(
                first_contact_at=appointment.starts_at, version=F("version") + 1
            )
    return appointment


def cancel_when_episode_ends(episode: Episode, actor) -> None:
    """The episode is over: its booked appointments after its end are cancelled by the
    service (requests waiting on them answered so), and the student is told which (in their
    portal, and by email)."""
    future = list(
        Appointment.objects.filter(
            episode=episode, status=Appointment.Status.BOOKED, starts_at__gt=episode.ended_at
        ).order_by("starts_at")
    )
    if not future:
        return
    now = timezone.now()
    Appointment.objects.filter(pk__in=[a.pk for a in future]).update(
        status=Appointment.Status.CANCELLED,
        cancelled_by=Appointment.CancelledBy.SERVICE,
        cancelled_at=now,
        cancel_reason=_("The episode of care ended."),
        updated_at=now,
    )
    AppointmentRequest.objects.filter(appointment__in=future, answered_at__isnull=True).update(
        answer=AppointmentRequest.Answer.CANCELLED, answered_at=now, answered_by=actor
    )
    append(
        [
            entry_for(
                "referrals.appointment.cancelled",
                actor,
                episode.student,
                category="engagement",
                service=episode.service,
                reason=f"{episode.service}: {len(future)} cancelled when the episode ended",
            )
        ]
    )
    with episode.student.in_own_language():
        notify_student(
            episode.student,
            ngettext(
                "%(service)s has finished working with you, so your appointment on %(when)s is "
                "cancelled.",
                "%(service)s has finished working with you, so your appointments on %(when)s are "
                "cancelled.",
                len(future),
            )
            % {
                "service": episode.service.name,
                "when": ", ".join(when(a.starts_at) for a in future),
            },
        )


def _settle_waiting_request(appointment: Appointment, answer: str, actor) -> None:
    """A request waiting on an appointment that the service changed another way is answered
    by that change (the student's portal shows what happened)."""
    AppointmentRequest.objects.filter(appointment=appointment, answered_at__isnull=True).update(
        answer=answer, answered_at=timezone.now(), answered_by=actor
    )


# The student's requests -------------------------------------------------------------------


def ask_about_appointment(
    *,
    actor,
    appointment: Appointment,
    wants: str,
    reason: str,
    better_times: str = "",
    request=None,
) -> AppointmentRequest:
    """The student asks to cancel or rebook a booked appointment still to come, saying why;
    the service sees it on its diary and answers. One request waits at a time."""
    if appointment.status != Appointment.Status.BOOKED or appointment.starts_at <= timezone.now():
        raise ValidationError(
            _("This appointment can no longer be changed here: call the service.")
        )
    errors = {}
    if wants not in AppointmentRequest.Wants.values:
        errors["wants"] = _("Say whether you want to cancel or change the time.")
    if not reason.strip():
        errors["reason"] = _("Say why, so the service can help.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            asked = AppointmentRequest.objects.create(
                appointment=appointment,
                wants=wants,
                reason=reason.strip(),
                better_times=better_times.strip(),
            )
            append([_entry(f"referrals.appointment.asked_to_{wants}", actor, appointment, request)])
    except IntegrityError:
        raise ValidationError(
            _("You have already asked about this appointment. %(service)s will answer soon.")
            % {"service": appointment.episode.service.name}
        ) from None
    return asked


ANSWER_WORDS = {
    "cancelled": gettext_lazy("it is cancelled"),
    "rebooked": gettext_lazy("it has moved to %(new)s"),
    "kept": gettext_lazy("it stays as it is"),
}


def answer_appointment_request(
    *,
    actor,
    asked: AppointmentRequest,
    answer: str,
    message: str = "",
    starts_at=None,
    request=None,
) -> AppointmentRequest:
    """The service answers a student's request: cancel the appointment, move it to a new
    time (`reschedule_appointment`, with its checks), or keep it, saying why. The student is
    told; a refusal of any part saves nothing."""
    appointment = asked.appointment
    if not asked.is_waiting:
        raise ValidationError(_("This request has already been answered."))
    errors = {}
    if not rules.may_answer(asked.wants, answer):
        errors["answer"] = _("Choose an answer.")
    elif answer == AppointmentRequest.Answer.KEPT and not message.strip():
        errors["message"] = _("Tell the student why the appointment stays as it is.")
    elif answer == AppointmentRequest.Answer.REBOOKED and starts_at is None:
        errors["starts_at"] = _("Give the new date and time.")
    if errors:
        raise ValidationError(errors)
    old = appointment.starts_at
    with transaction.atomic():
        now = timezone.now()
        if not AppointmentRequest.objects.filter(pk=asked.pk, answered_at__isnull=True).update(
            answer=answer, message=message.strip(), answered_at=now, answered_by=actor
        ):
            raise ValidationError(_("This request has already been answered."))
        if answer == AppointmentRequest.Answer.CANCELLED:
            cancel_appointment(
                actor=actor,
                appointment=appointment,
                by="student",
                reason=asked.reason,
                request=request,
                tell_student=False,
            )
        elif answer == AppointmentRequest.Answer.REBOOKED:
            reschedule_appointment(
                actor=actor,
                appointment=appointment,
                starts_at=starts_at,
                reason=asked.reason,
                by="student",
                request=request,
                tell_student=False,
            )
        append([_entry(f"referrals.appointment.request_{answer}", actor, appointment, request)])
        with appointment.episode.student.in_own_language():
            notify_student(
                appointment.episode.student,
                _("%(service)s answered your request about your appointment on %(old)s: %(what)s.")
                % {
                    "service": appointment.episode.service.name,
                    "old": when(old),
                    "what": ANSWER_WORDS[answer] % {"new": when(appointment.starts_at)},
                },
            )
    asked.refresh_from_db()
    return asked
