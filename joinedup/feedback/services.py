"""Writes for feedback, "you said, we did" and advisory groups."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.feedback.models import (
    COMMENT_MAX_LENGTH,
    Action,
    ActionUpdate,
    AdvisoryGroup,
    Draft,
    DraftComment,
    Feedback,
    InvitationUsed,
    Theme,
)
from joinedup.feedback.selectors import (
    can_manage_actions,
    feedback_services_of,
    open_invitations,
)
from joinedup.people.models import Student
from joinedup.people.services import notify_student

THEME_MAX_LENGTH = Theme._meta.get_field("name").max_length


@dataclass(frozen=True)
class Answers:
    overall: int | None = None
    listened_to: int | None = None
    help_in_time: int | None = None
    knew_what_next: int | None = None
    comment: str = ""

    def is_empty(self) -> bool:
        ratings = (self.overall, self.listened_to, self.help_in_time, self.knew_what_next)
        return all(r is None for r in ratings) and not self.comment.strip()


def _invitation(student: Student, episode_uuid):
    episode = next((e for e in open_invitations(student) if e.uuid == episode_uuid), None)
    if episode is None:
        raise ValidationError(
            _("This feedback invitation is not open: it may have been answered already.")
        )
    return episode


def give_feedback(*, student: Student, episode_uuid, anonymous: bool, answers: Answers):
    """Record the student's feedback on the service that cared for them in one episode.
    Anonymous feedback keeps no link to the student or the episode."""
    if answers.is_empty():
        raise ValidationError(_("Answer at least one question, or write a comment."))
    if len(answers.comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("Your comment is %(n)s characters long; the most we can take is %(max)s.")
            % {"n": f"{len(answers.comment):,}", "max": f"{COMMENT_MAX_LENGTH:,}"}
        )
    with transaction.atomic():
        episode = _invitation(student, episode_uuid)
        feedback = Feedback.objects.create(
            service=episode.service,
            anonymous=anonymous,
            student=None if anonymous else student,
            episode=None if anonymous else episode,
            given_in=timezone.localdate().replace(day=1),
            overall=answers.overall,
            listened_to=answers.listened_to,
            help_in_time=answers.help_in_time,
            knew_what_next=answers.knew_what_next,
            comment=answers.comment.strip(),
        )
        InvitationUsed.objects.create(episode=episode)
    return feedback


def decline_invitation(*, student: Student, episode_uuid) -> None:
    with transaction.atomic():
        InvitationUsed.objects.create(episode=_invitation(student, episode_uuid))


def _theme_names(names) -> list[str]:
    cleaned = []
    for name in names:
        name = " ".join(name.split())
        if len(name) > THEME_MAX_LENGTH:
            raise ValidationError(
                _("A theme can be at most %(max)s characters: “%(name)s…”.")
                % {"max": THEME_MAX_LENGTH, "name": name[:30]}
            )
        if name and name.casefold() not in {c.casefold() for c in cleaned}:
            cleaned.append(name)
    return cleaned


def tag_feedback(*, actor, feedback: Feedback, theme_ids, new_themes=(), request=None):
    """Set the themes of one piece of feedback: existing themes of its service, and any new
    ones named here (created for the service)."""
    if feedback.service not in feedback_services_of(actor):
        raise PermissionDenied
    service = feedback.service
    names = _theme_names(new_themes)
    with transaction.atomic():
        themes = list(service.feedback_themes.filter(pk__in=theme_ids))
        if len(themes) != len(set(theme_ids)):
            raise ValidationError(_("Choose themes of %(service)s only.") % {"service": service})
        for name in names:
            theme = service.feedback_themes.filter(name__iexact=name).first()
            themes.append(theme or Theme.objects.create(service=service, name=name))
        themes = list({theme.pk: theme for theme in themes}.values())
        feedback.themes.set(themes)
        append([_entry("feedback.tagged", actor, request, feedback.uuid)])
    return themes


def _entry(action: str, actor, request, target) -> Entry:
    return Entry(
        action=action,
        actor=actor,
        reason=str(target),
        request_id=request_id_of(request),
    )


def create_action(
    *, actor, organisation, service, title, description, themes, request=None
) -> Action:
    if not can_manage_actions(actor, organisation, service):
        raise PermissionDenied
    allowed = Theme.objects.filter(service__organisation=organisation)
    if service is not None:
        allowed = allowed.filter(service=service)
    if not themes or any(t not in allowed for t in themes):
        raise ValidationError(
            _("Link the action to at least one theme from %(where)s's feedback.")
            % {"where": service or organisation}
        )
    with transaction.atomic():
        action = Action.objects.create(
            organisation=organisation,
            service=service,
            title=title,
            description=description,
            created_by=actor,
        )
        action.themes.set(themes)
        ActionUpdate.objects.create(action=action, status=action.status, by=actor)
        append([_entry("feedback.action.created", actor, request, action.uuid)])
    return action


def students_who_raised(action: Action):
    """The students who gave named feedback on any theme the action answers."""
    return Student.objects.filter(
        feedback__themes__actions=action, feedback__anonymous=False
    ).distinct()


def change_action_status(*, actor, action: Action, status: str, note: str = "", request=None):
    """Move an action on and tell the students who raised its themes (never anonymous
    ones, who cannot be found): the loop is closed."""
    if not can_manage_actions(actor, action.organisation, action.service):
        raise PermissionDenied
    if status not in Action.Status.values:
        raise ValidationError(_("Choose a status from the list."))
    if status == action.status:
        raise ValidationError(
            _("The action is already “%(status)s”.") % {"status": action.get_status_display()}
        )
    with transaction.atomic():
        action = Action.objects.select_for_update().get(pk=action.pk)
        action.status = status
        action.status_changed_at = timezone.now()
        action.save(update_fields=["status", "status_changed_at"])
        ActionUpdate.objects.create(action=action, status=status, note=note, by=actor)
        where = action.service or action.organisation
        for student in students_who_raised(action):
            with student.in_own_language():
                text = _(
                    "You told %(where)s about this in your feedback. What they are doing: "
                    "“%(title)s” is now %(status)s."
                ) % {"where": where, "title": action.title,
                     "status": action.get_status_display().lower()}  # fmt: skip
            notify_student(student, text[:300])
        append([_entry("feedback.action.status_changed", actor, request, action.uuid)])
    return action


# Advisory groups


def add_member(*, actor, group: AdvisoryGroup, student_number: str, request=None) -> Student:
    student = Student.objects.filter(
        university=group.organisation, student_number__iexact=student_number.strip()
    ).first()
    if student is None:
        raise ValidationError(
            _("No student of %(org)s has the student number “%(number)s”.")
            % {"org": group.organisation, "number": student_number.strip()}
        )
    with transaction.atomic():
        group.members.add(student)
        append([_entry("feedback.group.member_added", actor, request, group.uuid)])
    return student


def comment_on_draft(*, student: Student, draft: Draft, text: str) -> DraftComment:
    if not draft.group.members.filter(pk=student.pk).exists():
        raise PermissionDenied
    if draft.comments_close_on < timezone.localdate():
        raise ValidationError(
            _("Comments on this draft closed on %(day)s.")
            % {"day": f"{draft.comments_close_on:%-d %B %Y}"}
        )
    text = text.strip()
    if not text:
        raise ValidationError(_("Write a comment before sending it."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("Your comment is %(n)s characters long; the most we can take is %(max)s.")
            % {"n": f"{len(text):,}", "max": f"{COMMENT_MAX_LENGTH:,}"}
        )
    return DraftComment.objects.create(draft=draft, student=student, text=text)
