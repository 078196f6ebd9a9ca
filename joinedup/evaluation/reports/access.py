"""Who may run reports and set calibrations, and the audit of each run."""

from django.db.models import Q

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import seats_of
from joinedup.people.models import Role, Service

EVALUATION_ROLES = frozenset({Role.RESEARCHER, Role.SERVICE_MANAGER})


def report_services_for(user):
    """The services `user` may report on: a researcher any service of the hub; a service
    manager the services of their own organisations; anybody else none."""
    if any(seat.role == Role.RESEARCHER for seat in seats_of(user)):
        return Service.objects.select_related("organisation")
    return organisation_services_for(user)


def managed_services_for(user):
    """The services `user` manages: a service manager's own service, or every service of
    their organisation when their seat names none."""
    seats = [s for s in seats_of(user) if s.role == Role.SERVICE_MANAGER]
    whole = {s.organisation_id for s in seats if not s.service_id}
    return Service.objects.filter(
        Q(pk__in=[s.service_id for s in seats if s.service_id]) | Q(organisation_id__in=whole)
    ).select_related("organisation")


def manages_a_service(user) -> bool:
    return managed_services_for(user).exists()


def may_break_down_by_practitioner(user, services) -> bool:
    """Only a manager of each of the services sees its figures by practitioner."""
    managed = set(managed_services_for(user).values_list("pk", flat=True))
    return all(service.pk in managed for service in services)


def organisation_services_for(user):
    """The services of the organisations `user` is a service manager in."""
    organisations = {s.organisation_id for s in seats_of(user) if s.role == Role.SERVICE_MANAGER}
    return Service.objects.filter(organisation_id__in=organisations).select_related("organisation")


def can_run_reports(user) -> bool:
    return user.is_authenticated and any(seat.role in EVALUATION_ROLES for seat in seats_of(user))


def evaluation_entry(actor, action: str, reason: str, request=None) -> Entry:
    """An audit entry of something done in evaluation (a report, an extract, a setting), in
    the actor's researcher or service manager seat. It names no student."""
    seat = next((s for s in seats_of(actor) if s.role in EVALUATION_ROLES), None)
    return Entry(
        action=action,
        actor=actor,
        allowed=True,
        reason=reason,
        actor_role=seat.role if seat else "",
        actor_service=seat.place if seat else "",
        actor_organisation=seat.organisation_name if seat else "",
        request_id=request_id_of(request),
    )


def record_report_run(*, actor, action: str, description: str, request=None) -> None:
    """Audit one run of a report or benchmark: who, in which role, and what it covered."""
    append([evaluation_entry(actor, action, description, request)])
