"""Reads for feedback, "you said, we did" and advisory groups."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from joinedup.feedback.models import Action, ActionUpdate, AdvisoryGroup, Feedback, InvitationUsed
from joinedup.people.models import Role, Service
from joinedup.referrals.models import Episode

# How long after an episode ends the student is invited to say how it went.
INVITATION_DAYS = 90
FEEDBACK_ROLES = (Role.PRACTITIONER, Role.TRIAGE, Role.LIAISON, Role.SERVICE_MANAGER)


def open_invitations(student):
    """Episodes that ended lately and whose invitation the student has not used."""
    since = timezone.now() - timedelta(days=INVITATION_DAYS)
    return (
        Episode.objects.filter(student=student, ended_at__gte=since)
        .exclude(Exists(InvitationUsed.objects.filter(episode=OuterRef("pk"))))
        .select_related("service__organisation")
        .order_by("-ended_at")
    )


def feedback_services_of(user):
    """The services whose feedback a member of staff reads and tags: their own service, or
    every service of the organisation for an organisation-wide service manager."""
    if not user.is_authenticated:
        return Service.objects.none()
    memberships = user.memberships.filter(role__in=FEEDBACK_ROLES)
    return Service.objects.filter(
        Q(pk__in=memberships.filter(service__isnull=False).values("service"))
        | Q(
            organisation__in=memberships.filter(
                service__isnull=True, role=Role.SERVICE_MANAGER
            ).values("organisation")
        )
    ).select_related("organisation")


def can_manage_actions(user, organisation, service) -> bool:
    """Service managers answer feedback: for their own service, or (when the manager's
    membership covers the whole organisation) for any of its services or all of them."""
    managing = user.memberships.filter(role=Role.SERVICE_MANAGER, organisation=organisation)
    if service is None:
        return managing.filter(service__isnull=True).exists()
    return managing.filter(Q(service__isnull=True) | Q(service=service)).exists()


def feedback_for_staff(user, service_ids=None):
    services = feedback_services_of(user)
    if service_ids:
        services = services.filter(pk__in=service_ids)
    return (
        Feedback.objects.filter(service__in=services)
        .select_related("service", "student")
        .prefetch_related("themes")
    )


def actions_for_manager(user):
    managed = user.memberships.filter(role=Role.SERVICE_MANAGER)
    return (
        Action.objects.filter(
            Q(organisation__in=managed.filter(service__isnull=True).values("organisation"))
            | Q(service__in=managed.filter(service__isnull=False).values("service"))
        )
        .select_related("service", "organisation")
        .prefetch_related("themes")
    )


def published_actions():
    """Every action, with its themes and dated updates: "you said, we did" is public to
    students, and names no student."""
    return (
        Action.objects.select_related("service", "organisation")
        .prefetch_related(
            "themes",
            Prefetch(
                "updates", queryset=ActionUpdate.objects.only("action", "status", "at", "note")
            ),
        )
        .order_by("organisation__name", "service__name", "-status_changed_at")
    )


def groups_for(user):
    groups = AdvisoryGroup.objects.select_related("organisation", "service")
    student = getattr(user, "student_record", None)
    if student is not None:
        return groups.filter(organisation=student.university)
    return groups.filter(organisation__in=user.memberships.values("organisation"))


def can_manage_group(user, group: AdvisoryGroup) -> bool:
    return can_manage_actions(user, group.organisation, group.service)
