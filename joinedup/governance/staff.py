"""An organisation's people, run by its admins: invitations by email, roles given and taken
away, suspension and leaving. Each act is audited with who did it; an admin acts only within
their own organisations, and access ends at the next request (the policy reads memberships
afresh on each)."""

from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import append
from joinedup.governance import rules
from joinedup.governance.models import Invitation, Suspension
from joinedup.governance.selectors import organisations_reviewed_by, require_admin_of
from joinedup.governance.services import admin_entry
from joinedup.people.models import Department, Membership, Organisation, Role, Service, User

_SALT = "joinedup.governance.invitation"


@dataclass(frozen=True)
class Place:
    """Where a role is held: a service, a department, or the organisation itself."""

    organisation: Organisation
    service: Service | None = None
    department: Department | None = None


def _check_place(role: str, place: Place) -> None:
    if problem := rules.place_problem(
        role, service=place.service is not None, department=place.department is not None
    ):
        raise ValidationError({"place": problem})
    for inside in (place.service, place.department):
        if inside is not None and inside.organisation_id != place.organisation.pk:
            raise PermissionDenied


def _holds(user: User, role: str, place: Place) -> bool:
    return Membership.objects.filter(
        user=user, organisation=place.organisation, service=place.service,
        department=place.department, role=role,
    ).exists()  # fmt: skip


# --- Invitations ------------------------------------------------------------------------------


def pending(invitations, now: datetime | None = None):
    """Invitations that can still be accepted."""
    now = now or timezone.now()
    return invitations.filter(accepted_at__isnull=True, withdrawn_at__isnull=True,
                              expires_at__gt=now)  # fmt: skip


def invite(*, actor: User, email: str, role: str, place: Place, request=None) -> Invitation:
    """Invite someone by email to a role; the email goes once the invitation is saved."""
    require_admin_of(actor, place.organisation.pk)
    _check_place(role, place)
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and _holds(existing, role, place):
        raise ValidationError({"email": _("%(email)s has this role already.") % {"email": email}})
    same = pending(Invitation.objects.filter(
        email__iexact=email, organisation=place.organisation, role=role,
        service=place.service, department=place.department,
    )).first()  # fmt: skip
    if same is not None:
        raise ValidationError({"email": _(
            "%(email)s was invited to this role on %(day)s, and can accept until %(until)s. "
            "If the email was lost, send it again from the list of people."
        ) % {"email": email, "day": f"{timezone.localtime(same.invited_at):%-d %B}",
             "until": f"{timezone.localtime(same.expires_at):%-d %B}"}})  # fmt: skip
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email, organisation=place.organisation, role=role, service=place.service,
            department=place.department, invited_by=actor,
            expires_at=timezone.now() + rules.INVITATION_LASTS,
        )  # fmt: skip
        append([admin_entry(
            actor, request, organisation=place.organisation, action="governance.person.invited",
            reason=f"{email} as {role}, {invitation.place}",
        )])  # fmt: skip
        _send(invitation)
    return invitation


def resend(*, actor: User, invitation: Invitation, request=None) -> Invitation:
    """Send a pending or expired invitation again, good for another week."""
    require_admin_of(actor, invitation.organisation.pk)
    if invitation.accepted_at or invitation.withdrawn_at:
        raise ValidationError(_("This invitation has been used or withdrawn: send a new one."))
    with transaction.atomic():
        invitation.expires_at = timezone.now() + rules.INVITATION_LASTS
        invitation.save(update_fields=["expires_at"])
        append([admin_entry(actor, request, organisation=invitation.organisation,
                             action="governance.person.invitation_resent",
                             reason=f"{invitation.email} as {invitation.role}")])  # fmt: skip
        _send(invitation)
    return invitation


def withdraw(*, actor: User, invitation: Invitation, request=None) -> None:
    require_admin_of(actor, invitation.organisation.pk)
    if invitation.accepted_at or invitation.withdrawn_at:
        return
    with transaction.atomic():
        invitation.withdrawn_at = timezone.now()
        invitation.save(update_fields=["withdrawn_at"])
        append([admin_entry(actor, request, organisation=invitation.organisation,
                             action="governance.person.invitation_withdrawn",
                             reason=f"{invitation.email} as {invitation.role}")])  # fmt: skip


def _send(invitation: Invitation) -> None:
    from joinedup.governance.tasks import email_invitation

    transaction.on_commit(lambda: email_invitation.enqueue(invitation.pk))


def token_of(invitation: Invitation) -> str:
    return signing.dumps(str(invitation.uuid), salt=_SALT)


def invitation_of(token: str) -> Invitation | None:
    """The invitation a link names, whatever its state; None for a link that names none."""
    try:
        found = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return (
        Invitation.objects.filter(uuid=found)
        .select_related("organisation", "service", "department", "invited_by")
        .first()
    )


def problem_with(invitation: Invitation) -> str:
    return rules.invitation_problem(
        now=timezone.now(), expires_at=invitation.expires_at,
        accepted=invitation.accepted_at is not None, withdrawn=invitation.withdrawn_at is not None,
    )  # fmt: skip


def accept(
    *, invitation: Invitation, user: User | None = None, first_name: str = "",
    last_name: str = "", password: str = "", request=None,
) -> User:  # fmt: skip
    """The invited person takes the role: signed in as the invited address (`user`), or as
    a new account made here with the invited address, confirmed by the invitation itself.
    Their first page is the second factor's enrolment (the staff rule)."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if problem := problem_with(invitation):
            raise ValidationError(problem)
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError(_("You have an account already: sign in, then open the "
                                        "invitation's link again."))  # fmt: skip
            user = User.objects.create_user(
                invitation.email, password, first_name=first_name.strip(),
                last_name=last_name.strip(),
            )  # fmt: skip
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        elif user.email.lower() != invitation.email.lower():
            raise PermissionDenied
        Membership.objects.get_or_create(
            user=user, organisation=invitation.organisation, service=invitation.service,
            department=invitation.department, role=invitation.role,
        )  # fmt: skip
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        append([admin_entry(
            user, request, organisation=invitation.organisation,
            action="governance.person.joined",
            reason=f"{user.email} as {invitation.role}, {invitation.place}",
        )])  # fmt: skip
    return user


# --- Roles, suspension, leaving -----------------------------------------------------------------


def add_role(*, actor: User, user: User, role: str, place: Place, request=None) -> Membership:
    require_admin_of(actor, place.organisation.pk)
    _check_place(role, place)
    if Suspension.objects.filter(user=user, organisation=place.organisation).exists():
        raise ValidationError(_("They are suspended at %(org)s: give their roles back first, "
                                "or record that they have left.")
                              % {"org": place.organisation.name})  # fmt: skip
    if _holds(user, role, place):
        raise ValidationError({"role": _("They have this role already.")})
    with transaction.atomic():
        membership = Membership.objects.create(
            user=user, organisation=place.organisation, service=place.service,
            department=place.department, role=role,
        )  # fmt: skip
        append([admin_entry(
            actor, request, organisation=place.organisation,
            action="governance.person.role_added",
            reason=f"{user.email} as {role}, {_place_of(membership)}",
        )])  # fmt: skip
    return membership


def remove_role(*, actor: User, membership: Membership, request=None) -> None:
    require_admin_of(actor, membership.organisation.pk)
    _keep_an_admin(actor, membership.user, membership.organisation, [membership])
    with transaction.atomic():
        membership.delete()
        append([admin_entry(
            actor, request, organisation=membership.organisation,
            action="governance.person.role_removed",
            reason=f"{membership.user.email} as {membership.role}, {_place_of(membership)}",
        )])  # fmt: skip


def suspend(*, actor: User, user: User, organisation: Organisation, reason: str,
            request=None) -> None:  # fmt: skip
    """Take away every role `user` holds in the organisation, keeping them to give back.
    Someone left with no role anywhere (and no student record) can no longer sign in."""
    require_admin_of(actor, organisation.pk)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you are suspending them.")})
    held = list(Membership.objects.filter(user=user, organisation=organisation))
    if not held:
        raise ValidationError(_("They hold no role in %(org)s to suspend.")
                              % {"org": organisation.name})  # fmt: skip
    _keep_an_admin(actor, user, organisation, held)
    with transaction.atomic():
        Suspension.objects.bulk_create(
            Suspension(user=user, organisation=organisation, role=m.role, service=m.service,
                       department=m.department, reason=reason.strip(), suspended_by=actor)
            for m in held
        )  # fmt: skip
        Membership.objects.filter(pk__in=[m.pk for m in held]).delete()
        _sign_in_only_with_a_role(user)
        append([admin_entry(actor, request, organisation=organisation,
                             action="governance.person.suspended",
                             reason=f"{user.email}: {reason.strip()}")])  # fmt: skip


def resume(*, actor: User, user: User, organisation: Organisation, request=None) -> None:
    require_admin_of(actor, organisation.pk)
    with transaction.atomic():
        suspended = list(Suspension.objects.filter(user=user, organisation=organisation))
        for s in suspended:
            Membership.objects.get_or_create(
                user=user, organisation=organisation, service=s.service,
                department=s.department, role=s.role,
            )  # fmt: skip
        Suspension.objects.filter(pk__in=[s.pk for s in suspended]).delete()
        if suspended and not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        append([admin_entry(actor, request, organisation=organisation,
                             action="governance.person.resumed",
                             reason=user.email)])  # fmt: skip


def leave(*, actor: User, user: User, organisation: Organisation, request=None) -> None:
    """They leave the organisation: every role there ends, suspended ones too."""
    require_admin_of(actor, organisation.pk)
    held = list(Membership.objects.filter(user=user, organisation=organisation))
    _keep_an_admin(actor, user, organisation, held)
    with transaction.atomic():
        Membership.objects.filter(pk__in=[m.pk for m in held]).delete()
        Suspension.objects.filter(user=user, organisation=organisation).delete()
        Invitation.objects.filter(
            email__iexact=user.email, organisation=organisation, accepted_at__isnull=True,
            withdrawn_at__isnull=True,
        ).update(withdrawn_at=timezone.now())  # fmt: skip
        _sign_in_only_with_a_role(user)
        append([admin_entry(actor, request, organisation=organisation,
                             action="governance.person.left",
                             reason=f"{user.email} left {organisation.name}")])  # fmt: skip


def _keep_an_admin(actor: User, user: User, organisation: Organisation, ending) -> None:
    """An admin does not end their own admin role, and an organisation keeps one admin."""
    if not any(m.role == Role.ORG_ADMIN for m in ending):
        return
    if user == actor:
        raise ValidationError(_("Ask another admin of %(org)s to end your own admin role.")
                              % {"org": organisation.name})  # fmt: skip
    others = Membership.objects.filter(organisation=organisation, role=Role.ORG_ADMIN).exclude(
        user=user
    )
    if not others.exists():
        raise ValidationError(_("%(org)s needs an admin: invite another one first.")
                              % {"org": organisation.name})  # fmt: skip


def _sign_in_only_with_a_role(user: User) -> None:
    if not user.memberships.exists() and not hasattr(user, "student_record"):
        user.is_active = False
        user.save(update_fields=["is_active"])


def _place_of(membership: Membership) -> str:
    return str(membership.service or membership.department or membership.organisation)


# --- What the admin sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user: User
    roles: list[Membership]  # in the admin's organisations
    suspended: list[Suspension]


def people_of(admin: User, user_uuid=None) -> list[Person]:
    """Everyone holding, or suspended from, a role in an organisation `admin` is an admin
    of, by name (three queries)."""
    orgs = organisations_reviewed_by(admin)
    users = (
        User.objects.filter(
            Q(memberships__organisation_id__in=orgs)
            | Q(pk__in=Suspension.objects.filter(organisation_id__in=orgs).values("user"))
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )
    if user_uuid is not None:
        users = users.filter(uuid=user_uuid)
    users = list(users)
    roles: dict[int, list[Membership]] = {}
    for m in Membership.objects.filter(user__in=users, organisation_id__in=orgs).select_related(
        "organisation", "service", "department"
    ):
        roles.setdefault(m.user_id, []).append(m)
    suspended: dict[int, list[Suspension]] = {}
    for s in Suspension.objects.filter(user__in=users, organisation_id__in=orgs).select_related(
        "organisation", "service", "department", "suspended_by"
    ):
        suspended.setdefault(s.user_id, []).append(s)
    return [Person(u, roles.get(u.pk, []), suspended.get(u.pk, [])) for u in users]
