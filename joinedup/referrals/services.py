"""Changes to referrals, episodes, appointments, follow-up tasks and gap items.

One function per action. Each runs in a transaction, writes its audit entry and sends its
emails after commit. A referral changes state only through `_transition`, which refuses an
illegal move with the reason and lets only one of two people acting at once succeed.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import Entry, append
from joinedup.consent.models import CareRelationship, DataSharingAgreement, agreement_in_force
from joinedup.consent.policy import current_basis, decide_for_service, entry_for
from joinedup.consent.services import (
    NO_LONGER_IN_CARE,
    ask_to_share,
    open_care_relationship,
    release_care_relationship,
)
from joinedup.people.models import Service
from joinedup.record.models import RecordEntry
from joinedup.referrals import rules, tasks
from joinedup.referrals.appointments import book_appointment as book_appointment
from joinedup.referrals.appointments import cancel_when_episode_ends
from joinedup.referrals.appointments import record_appointment as record_appointment
from joinedup.referrals.models import Episode, FollowUpTask, GapItem, Referral
from joinedup.risk.services import raise_automatic_flag

DEFAULT_FOLLOW_UP_HOURS = 72
SOURCE_PHRASES = {
    "self": gettext_lazy("self-referrals"),
    "service": gettext_lazy("referrals from other services"),
    "gp": gettext_lazy("referrals from GPs"),
    "academic": gettext_lazy("referrals from academic staff"),
}


class ConflictError(ValidationError):
    """Someone else changed the referral first; the message says who did what, and when."""


def _entry(action, actor, student, *, category="engagement", **details):
    return entry_for(action, actor, student, category=category, **details)


# Episodes ---------------------------------------------------------------------------------


def open_episode(*, actor, student, service, started_at=None, request=None) -> Episode:
    """Start an episode of care, opening the service's care relationship with the student.
    (Booking, moving and recording appointments: `joinedup.referrals.appointments`; walk-ins,
    allocation and endings from the episode's page: `joinedup.referrals.episodes`.)"""
    with transaction.atomic():
        relationship = open_care_relationship(
            student=student, service=service, reason=CareRelationship.Reason.EPISODE, actor=actor
        )
        episode = Episode.objects.create(
            student=student,
            service=service,
            relationship=relationship,
            started_at=started_at or timezone.now(),
        )
        append(
            [
                _entry(
                    "referrals.episode.opened",
                    actor,
                    student,
                    reason=str(service),
                    service=service,
                    request=request,
                )
            ]
        )
    return episode


def end_episode(
    *, actor, episode: Episode, ending: str, ended_at=None, because="episode_ended", request=None
) -> Episode:
    """End an episode with one of its endings; its future appointments are cancelled (the
    student told), and its care relationship closes (`because`) unless another open episode
    of the service still needs it."""
    if ending not in Episode.Ending.values:
        raise ValidationError({"ending": _("Choose how the episode ended.")})
    with transaction.atomic():
        episode.ended_at = ended_at or timezone.now()
        episode.ending = Episode.Ending(ending)
        episode.save(update_fields=["ended_at", "ending"])
        append(
            [
                _entry(
                    "referrals.episode.ended",
                    actor,
                    episode.student,
                    reason=f"{episode.service}: {ending}",
                    service=episode.service,
                    request=request,
                )
            ]
        )
        cancel_when_episode_ends(episode, actor)
        _release_episode_relationship(episode, because, actor)
    return episode


def _release_episode_relationship(episode: Episode, because: str, actor) -> None:
    """Close the service's episode relationship once no other open episode needs it."""
    if not Episode.objects.open().filter(student=episode.student, service=episode.service).exists():
        release_care_relationship(
            student=episode.student,
            service=episode.service,
            reason=CareRelationship.Reason.EPISODE,
            because=because,
            actor=actor,
        )


def _release_referral_relationship(referral: Referral, because: str, actor) -> None:
    """Close the receiving service's referral relationship once no other open referral to it
    needs it."""
    if (
        not Referral.objects.open()
        .filter(student=referral.student, to_service=referral.to_service)
        .exists()
    ):
        release_care_relationship(
            student=referral.student,
            service=referral.to_service,
            reason=CareRelationship.Reason.REFERRAL,
            because=because,
            actor=actor,
        )


# Referrals --------------------------------------------------------------------------------


def create_referral(
    *,
    actor,
    student,
    to_service: Service,
    source: str,
    reason: str,
    from_service: Service | None = None,
    carry_assessment: bool = False,
    send: bool = True,
    request=None,
) -> Referral:
    """Write a referral (and send it, unless kept as a draft).

    Refused with a clear message when the receiving service does not take this kind of
    referral, or when the student's consent does not let the assessment travel with it.
    """
    if from_service is not None and from_service.pk == to_service.pk:
        raise ValidationError({"to_service": _("A service cannot refer to itself.")})
    if from_service is not None and current_basis(actor, student) == "authored":
        raise ValidationError(NO_LONGER_IN_CARE)
    entry = getattr(to_service, "directory_entry", None)
    if entry is not None and not entry.takes(source):
        raise ValidationError(
            {
                "to_service": _("%(service)s does not take %(kind)s.")
                % {"service": to_service.name, "kind": SOURCE_PHRASES[source]}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you are referring the student.")})
    if carry_assessment:
        decision = decide_for_service(to_service, student, "assessment")
        if not (decision.allowed and decision.whole):
            raise ValidationError(
                {
                    "carry_assessment": _(
                        "The student has not agreed to share their assessment with %(service)s. "
                        "Ask them, record their consent, then send it."
                    )
                    % {"service": to_service.name}
                }
            )
    with transaction.atomic():
        referral = Referral.objects.create(
            student=student,
            source=source,
            from_service=from_service,
            to_service=to_service,
            reason=reason,
            carries_assessment=carry_assessment,
            created_by=actor,
            last_changed_by=actor,
        )
        append(
            [
                _entry(
                    "referrals.referral.created",
                    actor,
                    student,
                    request=request,
                    reason=str(referral),
                    service=from_service,
                )
            ]
        )
        if send:
            referral = send_referral(
                actor=actor, referral=referral, version=referral.version, request=request
            )
    return referral


def send_referral(*, actor, referral: Referral, version: int, request=None) -> Referral:
    """Send: the receiving service gets a care relationship and an email; the student's
    shared assessment travels with it when they consented."""
    with transaction.atomic():
        referral = _transition(referral, "send", actor, version, request, sent_at=timezone.now())
        open_care_relationship(
            student=referral.student,
            service=referral.to_service,
            reason=CareRelationship.Reason.REFERRAL,
            actor=actor,
        )
        if referral.carries_assessment:
            referral.shared_entries.add(
                *RecordEntry.objects.filter(
                    student=referral.student, category="assessment", is_private_to_service=False
                )
            )
        transaction.on_commit(lambda: tasks.email_new_referral.enqueue(referral.pk))
    return referral


def mark_opened(*, actor, referral: Referral) -> None:
    """Receipt: the first time a member of the receiving service opens the referral (the
    page they are opening says so too)."""
    now = timezone.now()
    if Referral.objects.filter(pk=referral.pk, opened_at__isnull=True).update(
        opened_at=now, opened_by=actor
    ):
        referral.opened_at, referral.opened_by = now, actor


def accept_referral(*, actor, referral: Referral, version: int, request=None) -> Referral:
    """Accept: an episode of care with the receiving service begins (once a self-referral's
    pending record is confirmed)."""
    if referral.student.is_pending:
        raise ValidationError(_("Confirm who referred themselves before accepting."))
    with transaction.atomic():
        referral = _transition(
            referral, "accept", actor, version, request, decided_at=timezone.now(), decided_by=actor
        )
        episode = open_episode(actor=actor, student=referral.student, service=referral.to_service)
        Referral.objects.filter(pk=referral.pk).update(episode=episode)
        referral.episode = episode
        _notify_referrer(referral, "accepted")
    return referral


def decline_referral(
    *, actor, referral: Referral, version: int, reason: str, signposted_to: str = "", request=None
) -> Referral:
    """Decline, with a reason from the list and where the student was signposted."""
    if reason not in Referral.DeclineReason.values:
        raise ValidationError({"reason": _("Choose the reason for declining.")})
    with transaction.atomic():
        referral = _transition(
            referral,
            "decline",
            actor,
            version,
            request,
            decided_at=timezone.now(),
            decided_by=actor,
            decline_reason=reason,
            signposted_to=signposted_to.strip(),
        )
        _release_referral_relationship(referral, "declined", actor)
        _notify_referrer(referral, "declined")
    return referral


def withdraw_referral(*, actor, referral: Referral, version: int, request=None) -> Referral:
    with transaction.atomic():
        referral = _transition(
            referral, "withdraw", actor, version, request, withdrawn_at=timezone.now()
        )
        if referral.episode_id:
            end_episode(
                actor=actor, episode=referral.episode, ending="unplanned", because="withdrawn"
            )
        _release_referral_relationship(referral, "withdrawn", actor)
    return referral


def add_to_waiting_list(*, actor, referral: Referral, version: int, request=None) -> Referral:
    return _transition(referral, "add_to_waiting_list", actor, version, request)


def record_first_contact(
    *, actor, referral: Referral, version: int, at=None, request=None
) -> Referral:
    """Stop the first clock: the service has spoken with the student."""
    at = at or timezone.now()
    if referral.first_contact_at is not None:
        raise ValidationError(_("First contact is already recorded."))
    _check_not_before_sent(referral, at, _("First contact"))
    return _update(
        referral, version, actor, request, "referrals.referral.first_contact", first_contact_at=at
    )


def start_treatment(*, actor, referral: Referral, version: int, at=None, request=None) -> Referral:
    """Stop the treatment clock; first contact is this moment if not recorded before."""
    at = at or timezone.now()
    _check_not_before_sent(referral, at, _("Treatment"))
    return _transition(
        referral,
        "start_treatment",
        actor,
        version,
        request,
        treatment_started_at=at,
        first_contact_at=referral.first_contact_at or at,
    )


def discharge_referral(
    *, actor, referral: Referral, version: int, ending: str, summary: str, at=None, request=None
) -> Referral:
    """Discharge: the episode ends (its future appointments cancelled, the student told), a
    crisis service's discharge creates a follow-up task for the student's university, and
    the summary (category `discharge`, read through the policy) reaches the referring
    service when the student's consent allows; when it does not, the referrer is told that
    the student was discharged, and the student is asked to share it."""
    at = at or timezone.now()
    try:
        rules.next_state(referral.state, "discharge")
    except rules.TransitionError as error:
        raise ValidationError(str(error)) from error
    errors = {}
    if ending not in Referral.Ending.values:
        errors["ending"] = _("Say whether the ending was planned.")
    if not summary.strip():
        errors["summary"] = _("Write the discharge summary.")
    if referral.first_contact_at is None:
        errors["at"] = _(
            "The student has not been seen yet: record the first contact before discharging."
        )
    elif at < referral.first_contact_at:
        errors["at"] = _("The discharge cannot be before the first contact (%(date)s).") % {
            "date": timezone.localtime(referral.first_contact_at).strftime("%d %b %Y")
        }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = _transition(
            referral, "discharge", actor, version, request, discharged_at=at, ending=ending
        )
        entry = RecordEntry.objects.create(
            student=referral.student,
            category="discharge",
            service=referral.to_service,
            author=actor,
            title=_("Discharge summary from %(service)s") % {"service": referral.to_service.name},
            body=summary.strip(),
        )
        referral.shared_entries.add(entry)
        if referral.episode_id:
            end_episode(
                actor=actor,
                episode=referral.episode,
                ending=ending,
                ended_at=at,
                because="discharged",
            )
        _release_referral_relationship(referral, "discharged", actor)
        if referral.to_service.kind == Service.Kind.CRISIS:
            create_follow_up(
                student=referral.student,
                referral=referral,
                reason=_("Discharged from %(service)s") % {"service": referral.to_service.name},
            )
        if summary_reaches_referrer(referral):
            _notify_referrer(referral, "discharged")
        else:
            _tell_referrer_without_summary(referral)
    return referral


def summary_reaches_referrer(referral: Referral) -> bool:
    """Whether the referring service may read the discharge summary the receiving service
    writes: the policy's answer for that service, now. (No referring service: whoever
    made the referral reads it in the receiving service.)"""
    if referral.from_service is None:
        return True
    decision = decide_for_service(referral.from_service, referral.student, "discharge")
    return decision.may_read_row(referral.to_service_id)


def _tell_referrer_without_summary(referral: Referral) -> None:
    """The summary stays with the discharging service: the referrer is told that the
    student was discharged, when and by whom (no content), and the student is asked to
    share the summary with the referring service; the email says which happened."""
    try:
        ask_to_share(
            actor=referral.created_by,
            student=referral.student,
            category="discharge",
            why=_("Asked when %(service)s discharged the student")
            % {"service": referral.to_service.name},
        )
    except ValidationError as error:
        asked = " ".join(error.messages)
    else:
        asked = _(
            "The student has been asked whether to share it with %(service)s; you will get an "
            "email when they answer."
        ) % {"service": referral.from_service.name}
    transaction.on_commit(
        lambda: tasks.email_referrer_discharge_withheld.enqueue(referral.pk, asked)
    )


def add_to_assessment(*, actor, referral: Referral, text: str, request=None) -> RecordEntry:
    """The receiving service adds to the shared assessment instead of asking again; the
    addition is its own entry, so the record shows where each part came from."""
    if not text.strip():
        raise ValidationError({"text": _("Write what you are adding.")})
    with transaction.atomic():
        entry = RecordEntry.objects.create(
            student=referral.student,
            category="assessment",
            service=referral.to_service,
            author=actor,
            title=_("Added by %(service)s") % {"service": referral.to_service.name},
            body=text.strip(),
        )
        referral.shared_entries.add(entry)
        append(
            [
                _entry(
                    "referrals.assessment.added",
                    actor,
                    referral.student,
                    category="assessment",
                    request=request,
                    service=referral.to_service,
                )
            ]
        )
    return entry


def _check_not_before_sent(referral, at, what) -> None:
    if referral.sent_at and at < referral.sent_at:
        raise ValidationError(
            {"at": _("%(what)s cannot be before the referral was sent.") % {"what": what}}
        )


def _transition(
    referral: Referral, action: str, actor, version: int, request, **fields
) -> Referral:
    """Move the referral by `action`, only from the version the person was looking at."""
    current = Referral.objects.get(pk=referral.pk)
    if current.version != version:
        raise _conflict(current)
    try:
        target = rules.next_state(current.state, action)
    except rules.TransitionError as error:
        raise ValidationError(str(error)) from error
    return _update(
        current, version, actor, request, f"referrals.referral.{target}", state=target, **fields
    )


def _update(referral: Referral, version: int, actor, request, action: str, **fields) -> Referral:
    """Write `fields` only if nobody changed the referral since `version` was read."""
    now = timezone.now()
    updated = Referral.objects.filter(pk=referral.pk, version=version).update(
        version=F("version") + 1, last_changed_by=actor, last_changed_at=now, **fields
    )
    if not updated:
        raise _conflict(Referral.objects.get(pk=referral.pk))
    referral = Referral.objects.select_related("student", "to_service", "from_service").get(
        pk=referral.pk
    )
    append(
        [
            _entry(
                action,
                actor,
                referral.student,
                request=request,
                reason=str(referral),
                service=referral.to_service,
            )
        ]
    )
    return referral


def _conflict(current: Referral) -> ConflictError:
    who = current.last_changed_by.get_full_name() if current.last_changed_by else _("Someone")
    return ConflictError(
        _(
            "%(who)s changed this referral at %(when)s while you were looking at it: it %(state)s "
            "now. Nothing you did was saved."
        )
        % {
            "who": who,
            "when": timezone.localtime(current.last_changed_at).strftime("%H:%M"),
            "state": rules.STATE_WORDS[current.state],
        }
    )


def _notify_referrer(referral: Referral, what: str) -> None:
    transaction.on_commit(lambda: tasks.email_referrer.enqueue(referral.pk, what))


# Crisis follow-up -------------------------------------------------------------------------


def record_crisis_contact(
    *, actor, student, service: Service, note: str, request=None
) -> RecordEntry:
    """An NHS crisis service saw the student: the note is written to the record (category
    `risk`) and the student's university gets a follow-up task."""
    if not note.strip():
        raise ValidationError({"note": _("Say what happened.")})
    with transaction.atomic():
        entry = RecordEntry.objects.create(
            student=student,
            category="risk",
            service=service,
            author=actor,
            title=_("Crisis contact"),
            body=note.strip(),
        )
        append(
            [
                _entry(
                    "referrals.crisis.contact",
                    actor,
                    student,
                    category="risk",
                    request=request,
                    service=service,
                )
            ]
        )
        reason = _("Crisis contact with %(service)s") % {"service": service.name}
        create_follow_up(student=student, reason=reason)
        raise_automatic_flag(
            student=student, service=service, source="crisis_contact", reason=reason
        )
    return entry


def university_service_for(student, referral: Referral | None = None) -> Service | None:
    """Who follows up at the university: the referring university service if there was one,
    else the university's wellbeing service."""
    if (
        referral
        and referral.from_service
        and referral.from_service.organisation_id == (student.university_id)
    ):
        return referral.from_service
    return (
        Service.objects.filter(organisation_id=student.university_id, kind=Service.Kind.WELLBEING)
        .order_by("pk")
        .first()
    )


def create_follow_up(*, student, reason: str, referral: Referral | None = None):
    """A follow-up task for the student's university, due within the hours the data sharing
    agreement sets (72 by default)."""
    service = university_service_for(student, referral)
    if service is None:
        return None
    agreement = (
        DataSharingAgreement.objects.filter(
            agreement_in_force(timezone.localdate()), organisations=student.university_id
        )
        .order_by("follow_up_hours")
        .first()
    )
    hours = agreement.follow_up_hours if agreement else DEFAULT_FOLLOW_UP_HOURS
    now = timezone.now()
    task = FollowUpTask.objects.create(
        student=student,
        service=service,
        referral=referral,
        reason=reason,
        created_at=now,
        due_at=now + timedelta(hours=hours),
    )
    open_care_relationship(
        student=student, service=service, reason=CareRelationship.Reason.REFERRAL
    )
    transaction.on_commit(lambda: tasks.email_follow_up.enqueue(task.pk))
    return task


def complete_follow_up(*, actor, task: FollowUpTask, outcome: str, request=None) -> FollowUpTask:
    if not outcome.strip():
        raise ValidationError({"outcome": _("Say what was done.")})
    with transaction.atomic():
        updated = FollowUpTask.objects.filter(pk=task.pk, completed_at__isnull=True).update(
            completed_at=timezone.now(), completed_by=actor, outcome=outcome.strip()
        )
        if not updated:
            raise ValidationError(_("This follow-up has already been completed."))
        append(
            [
                _entry(
                    "referrals.follow_up.completed",
                    actor,
                    task.student,
                    request=request,
                    service=task.service,
                )
            ]
        )
    task.refresh_from_db()
    return task


def escalate_overdue_follow_ups(now=None) -> int:
    """Email the service managers about each overdue follow-up or task, once."""
    now = now or timezone.now()
    overdue = list(
        FollowUpTask.objects.filter(
            completed_at__isnull=True, escalated_at__isnull=True, due_at__lt=now
        ).select_related("service")
    )
    for task in overdue:
        with transaction.atomic():
            if FollowUpTask.objects.filter(pk=task.pk, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                # A task a colleague set is read as its service's case note.
                append(
                    [
                        Entry(
                            "referrals.follow_up.escalated",
                            student=task.student,
                            category="engagement" if task.is_follow_up else "notes",
                            reason=task.reason
                            if task.is_follow_up
                            else f"A task of {task.service.name} is overdue.",
                        )
                    ]
                )
                transaction.on_commit(lambda pk=task.pk: tasks.email_overdue_follow_up.enqueue(pk))
    return len(overdue)


# Gap worklist -----------------------------------------------------------------------------


def resolve_gap_item(*, actor, item: GapItem, action: str, request=None) -> GapItem:
    """Resolve a gap item by saying what was done; items are never deleted."""
    if not action.strip():
        raise ValidationError({"action": _("Say what was done for the student.")})
    with transaction.atomic():
        updated = GapItem.objects.filter(pk=item.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=actor, action=action.strip()
        )
        if not updated:
            raise ValidationError(_("This item has already been resolved."))
        append(
            [
                _entry(
                    "referrals.gap.resolved",
                    actor,
                    item.student,
                    request=request,
                    reason=f"{item.rule}: {action.strip()}",
                    service=item.service,
                )
            ]
        )
    item.refresh_from_db()
    return item
