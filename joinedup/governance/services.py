"""What organisation admins do: review emergency overrides, use the audit log, draft,
activate and suspend data sharing agreements. Each is audited."""

from datetime import date, datetime
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import Verification
from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import (
    AgreementChange,
    AgreementSide,
    BreakGlass,
    Category,
    DataSharingAgreement,
    Purpose,
)
from joinedup.consent.policy import seats_of
from joinedup.governance import rules
from joinedup.governance.models import ChainCheck, OverrideEscalation, OverrideReview
from joinedup.governance.selectors import (
    AuditSearch,
    opened_in,
    overrides_for,
    require_admin_of,
    students_numbered,
)
from joinedup.governance.tasks import (
    check_audit_chain,
    email_agreement_change,
    email_overdue_reviews,
    email_override_summary,
)
from joinedup.people.models import Organisation, Role, User


def review_override(
    *, actor: User, access: BreakGlass, outcome: str, note: str, request=None
) -> OverrideReview:
    """An admin of the organisation whose member used the override says whether it was
    appropriate; once. Audited, naming no clinical content."""
    if not overrides_for(actor).filter(pk=access.pk).exists():
        raise PermissionDenied
    if problems := rules.review_problem(outcome, note):
        raise ValidationError(problems)
    if access.expires_at > timezone.now():
        raise ValidationError(_(
            "This emergency access is open until %(until)s. Review it once it has ended, so "
            "that the review covers everything read under it."
        ) % {"until": f"{timezone.localtime(access.expires_at):%-d %B, %H:%M}"})  # fmt: skip
    try:
        with transaction.atomic():
            review = OverrideReview.objects.create(
                access=access, outcome=outcome, note=note.strip(), reviewed_by=actor
            )
            append([admin_entry(
                actor, request, action="governance.override.reviewed", student=access.student,
                reason=f"{outcome}: override {access.uuid}",
            )])  # fmt: skip
    except IntegrityError:
        raise ValidationError(_("This emergency access has been reviewed already.")) from None
    return review


def record_audit_search(
    *, actor: User, search: AuditSearch, found: int, downloaded: bool = False, request=None
) -> None:
    """Every search of the audit log is itself in the log: who searched, for what, and how
    many entries they were shown or downloaded."""
    asked = [
        f"{search.start:%-d %b %Y} to {search.end:%-d %b %Y}",
        *(f"{name} {value!r}" for name, value in (
            ("student", search.student), ("staff", search.staff), ("place", search.place),
            ("override", str(search.override.uuid) if search.override else ""),
        ) if value),
        *(["reads only"] if search.reads_only else []),
    ]  # fmt: skip
    named = list(students_numbered(search.student)[:2]) if search.student else []
    append([admin_entry(
        actor, request,
        action="governance.audit.downloaded" if downloaded else "governance.audit.searched",
        student=named[0] if len(named) == 1 else None,
        reason=f"{'; '.join(asked)}: {found} entries",
    )])  # fmt: skip


def request_chain_check(*, actor: User) -> ChainCheck:
    """Start a check of the whole chain, outside the request; one at a time (a check asked
    for while one runs is that one)."""
    # A check whose worker died never finishes: after an hour it no longer holds the next.
    since = timezone.now() - rules.CHAIN_CHECK_LASTS
    running = ChainCheck.objects.filter(finished_at__isnull=True, requested_at__gt=since).first()
    if running is not None:
        return running
    check = ChainCheck.objects.create(requested_by=actor)
    transaction.on_commit(partial(check_audit_chain.enqueue, check.pk))
    return check


def finish_chain_check(check: ChainCheck, verification: Verification) -> None:
    """Keep what a check found, and audit it as the admin's who asked."""
    broken = verification.broken
    check.finished_at, check.checked = timezone.now(), verification.checked
    check.checkpoints, check.anchored = verification.checkpoints, verification.anchored
    check.broken_seq = broken.seq if broken else None
    check.problem = broken.problem[:300] if broken else ""
    with transaction.atomic():
        check.save()
        append([admin_entry(
            check.requested_by, None, action="governance.audit.verified",
            reason=f"{verification.checked} entries checked: "
            + (f"broken at entry {broken.seq} ({broken.problem})" if broken else "intact"),
        )])  # fmt: skip


def _terms_problems(own: Organisation, partner: Organisation | None, terms: dict) -> dict:
    """The agreement rule over terms as given (a basis not on the lists is none)."""
    return rules.agreement_problems(
        own=own.pk, partner=partner.pk if partner else None,
        **{name: terms[name] for name in rules.AGREEMENT_TERMS if name != "title"}
        | {"lawful_basis": terms["lawful_basis"]
           if terms["lawful_basis"] in DataSharingAgreement.LawfulBasis.values else "",
           "condition": terms["condition"]
           if terms["condition"] in DataSharingAgreement.Condition.values else ""},
    )  # fmt: skip


def draft_agreement(
    *, actor: User, organisation: Organisation, partner: Organisation, request=None, **terms
) -> DataSharingAgreement:
    """An admin drafts an agreement between their organisation and another, on its terms
    (`rules.AGREEMENT_TERMS`). Nothing flows under it until both organisations' admins have
    activated it."""
    require_admin_of(actor, organisation.pk)
    if problems := _terms_problems(organisation, partner, terms):
        raise ValidationError(problems)
    with transaction.atomic():
        agreement = DataSharingAgreement.objects.create(
            **{name: terms[name] for name in rules.AGREEMENT_TERMS}
            | {"title": terms["title"].strip()},
            drafted_by=actor,
        )
        agreement.organisations.set([organisation, partner])
        _record_change(agreement, organisation, AgreementChange.What.DRAFTED, actor, request,
                       said=f"drafted with {partner.name}")  # fmt: skip
    return agreement


def _record_change(agreement: DataSharingAgreement, organisation: Organisation, what: str,
                   actor: User, request, *, note: str = "", said: str = "") -> None:  # fmt: skip
    """One step in an agreement's life, in one way: kept in its history, told to the other
    side, and audited under the agreement's title (in a transaction the caller holds)."""
    change = AgreementChange.objects.create(
        agreement=agreement, organisation=organisation, what=what, by=actor, note=note
    )
    transaction.on_commit(partial(email_agreement_change.enqueue, change.pk))
    append([admin_entry(
        actor, request, organisation=organisation, action=f"governance.agreement.{what}",
        reason=f"agreement “{agreement.title}” ({agreement.uuid}) for {organisation.name}"
        + "".join(f": {words}" for words in (said, note) if words),
    )])  # fmt: skip


def _term_said(name: str, value) -> str:
    """One term of an agreement as its history says it: labels, days and hours in words."""
    bases = {"lawful_basis": DataSharingAgreement.LawfulBasis,
             "condition": DataSharingAgreement.Condition}  # fmt: skip
    if name in bases:
        return str(bases[name](value).label) if value in bases[name].values else "none"
    if name in ("categories", "purposes"):
        labels = dict(Category.choices if name == "categories" else Purpose.choices)
        return ", ".join(str(labels.get(v, v)) for v in value) or "none"
    if name == "follow_up_hours":
        return f"{value} hours"
    if isinstance(value, date):
        return f"{value:%-d %B %Y}"
    return str(value) if value not in (None, "") else "none"


def revise_agreement(
    *, actor: User, agreement: DataSharingAgreement, organisation: Organisation, request=None,
    **terms,
) -> list[str]:  # fmt: skip
    """Either side's admin changes the terms of an agreement not in force on every side. Each
    side that had activated it must activate it again (they agreed to the old terms); the
    change, and whose activation it undid, is in both sides' history. Returns the terms
    changed."""
    require_admin_of(actor, organisation.pk)
    with transaction.atomic():
        agreement = DataSharingAgreement.objects.select_for_update().get(pk=agreement.pk)
        sides = list(agreement.sides.select_related("organisation"))
        if organisation.pk not in {side.organisation_id for side in sides}:
            raise PermissionDenied
        if not agreement.may_be_revised:
            raise ValidationError(
                _("It is withdrawn, or in force on both sides: draft a new agreement, and "
                  "suspend this one once the new one is in force.")
                if agreement.withdrawn_at is None else _("This draft was withdrawn: draft a "
                                                         "new agreement instead."))  # fmt: skip
        partner = next(s.organisation for s in sides if s.organisation_id != organisation.pk)
        if problems := _terms_problems(organisation, partner, terms):
            raise ValidationError(problems)
        terms["title"] = terms["title"].strip()
        changed = [
            name for name in rules.AGREEMENT_TERMS if terms[name] != getattr(agreement, name)
        ]
        if not changed:
            return []
        was = {name: getattr(agreement, name) for name in changed}
        for name in changed:
            setattr(agreement, name, terms[name])
        agreement.save(update_fields=changed)
        undone = [side for side in sides if side.active]
        AgreementSide.objects.filter(pk__in=[side.pk for side in undone]).update(
            active=False,
            changed_at=None,
            changed_by=None,
            signatory="",  # as never activated
        )
        # What the sides agreed to before, and what they are asked to agree to now.
        note = _("Changed: %(terms)s.") % {"terms": "; ".join(
            f"{rules.AGREEMENT_TERMS[name]}, {_term_said(name, was[name])} → "
            f"{_term_said(name, terms[name])}" for name in changed)}  # fmt: skip
        if undone:
            note += " " + _("Activation undone for %(orgs)s: activate it again to agree to the "
                            "new terms.") % {
                "orgs": ", ".join(side.organisation.name for side in undone)}  # fmt: skip
        _record_change(agreement, organisation, AgreementChange.What.REVISED, actor, request,
                       note=note)  # fmt: skip
    return changed


def set_agreement_side(
    *, actor: User, agreement: DataSharingAgreement, organisation: Organisation, active: bool,
    note: str = "", signatory: str = "", request=None,
) -> AgreementSide:  # fmt: skip
    """An organisation's admin activates the agreement for their side, naming who signed it
    for their organisation, or suspends it (with a reason): data flows only while every side
    has it active, from the next request on."""
    require_admin_of(actor, organisation.pk)
    if not active and not note.strip():
        raise ValidationError({"note": _("Say why you are suspending the agreement.")})
    if active and not signatory.strip():
        raise ValidationError({"signatory": _(
            "Give the name and role of who signed the agreement for your organisation."
        )})  # fmt: skip
    what = AgreementChange.What.ACTIVATED if active else AgreementChange.What.SUSPENDED
    with transaction.atomic():
        side = (
            AgreementSide.objects.select_for_update()
            .filter(agreement=agreement, organisation=organisation)
            .first()
        )
        if side is None:
            raise PermissionDenied
        if agreement.withdrawn_at is not None:
            raise ValidationError(_("This draft was withdrawn: draft a new agreement instead."))
        if side.active == active:
            return side  # asked twice: once is enough
        side.active, side.changed_at, side.changed_by = active, timezone.now(), actor
        if active:
            side.signatory = signatory.strip()
            note = _("Signed by %(who)s") % {"who": side.signatory}
        side.save(update_fields=["active", "changed_at", "changed_by", "signatory"])
        _record_change(agreement, organisation, what, actor, request, note=note.strip())
    return side


def withdraw_agreement(
    *, actor: User, agreement: DataSharingAgreement, organisation: Organisation, note: str,
    request=None,
) -> None:  # fmt: skip
    """Either side's admin withdraws a draft that no side has activated yet (to change it, or
    because it is not wanted), saying why; it is kept, withdrawn, in both sides' history. An
    agreement once activated is suspended instead, never withdrawn."""
    require_admin_of(actor, organisation.pk)
    if not note.strip():
        raise ValidationError({"note": _("Say why you are withdrawing the draft.")})
    with transaction.atomic():
        agreement = DataSharingAgreement.objects.select_for_update().get(pk=agreement.pk)
        if not agreement.sides.filter(organisation=organisation).exists():
            raise PermissionDenied
        if agreement.withdrawn_at is not None:
            return  # asked twice: once is enough
        if not agreement.is_draft:
            raise ValidationError(_("It has been activated, so it is no longer a draft: "
                                    "suspend it instead."))  # fmt: skip
        agreement.withdrawn_at = timezone.now()
        agreement.save(update_fields=["withdrawn_at"])
        _record_change(agreement, organisation, AgreementChange.What.WITHDRAWN, actor, request,
                       note=note.strip())  # fmt: skip


def review_agreement(
    *, actor: User, agreement: DataSharingAgreement, organisation: Organisation,
    next_review_on: date | None, note: str, request=None,
) -> DataSharingAgreement:  # fmt: skip
    """One side records that it has reviewed the agreement, and when the next review is
    due; the other side is told."""
    require_admin_of(actor, organisation.pk)
    if not agreement.sides.filter(organisation=organisation).exists():
        raise PermissionDenied
    if agreement.withdrawn_at is not None:
        raise ValidationError(_("This draft was withdrawn: there is nothing to review."))
    problems = {"note": _("Say what the review found, such as “Still needed, no change”.")
                if not note.strip() else "",
                "next_review_on": rules.next_review_problem(
                    next_review_on, agreement.ends_on, timezone.localdate())}  # fmt: skip
    if any(problems.values()):
        raise ValidationError({field: problem for field, problem in problems.items() if problem})
    with transaction.atomic():
        agreement.review_on = next_review_on
        agreement.save(update_fields=["review_on"])
        _record_change(agreement, organisation, AgreementChange.What.REVIEWED, actor, request,
                       note=note.strip(), said=f"next review {next_review_on}")  # fmt: skip
    return agreement


def admin_entry(actor: User, request, *, organisation: Organisation | None = None,
                 **said) -> Entry:  # fmt: skip
    """An audit entry of an organisation admin's act, under the organisation it was done in
    (else their first), so the other admins of it find it in their search of the log."""
    seat = next((s for s in seats_of(actor) if s.role == Role.ORG_ADMIN), None)
    name = organisation.name if organisation else seat.organisation_name if seat else ""
    return Entry(
        actor=actor, actor_role=Role.ORG_ADMIN, actor_organisation=name,
        request_id=request_id_of(request), **said,
    )  # fmt: skip


def escalate_overdue_reviews(now: datetime | None = None) -> int:
    """Escalate, once each, the overrides no one reviewed within `rules.REVIEW_WITHIN`: the
    data protection contact and every admin of each organisation one was used from is
    emailed (how many, never who or about whom). Returns how many were escalated."""
    now = now or timezone.now()
    overdue = list(
        BreakGlass.objects.filter(
            opened_at__lt=now - rules.REVIEW_WITHIN, review__isnull=True,
            escalation__isnull=True,
        )
    )  # fmt: skip
    by_organisation: dict[int, int] = {}
    with transaction.atomic():
        for access in overdue:
            OverrideEscalation.objects.create(access=access, escalated_at=now)
            by_organisation[access.organisation_id] = by_organisation.get(
                access.organisation_id, 0) + 1  # fmt: skip
        if overdue:
            said = f"{len(overdue)} overrides not reviewed within 7 days"
            append([Entry(action="governance.override.escalated", reason=said)])
        for org_id, count in by_organisation.items():
            transaction.on_commit(partial(email_overdue_reviews.enqueue, org_id, count))
    return len(overdue)


def send_override_summaries(month: date) -> int:
    """Email each organisation whose staff used emergency access in the month starting
    `month` its monthly summary (how many, how their reviews stand, never who), once per
    organisation and month. Returns how many organisations were sent one."""
    said = f"{month:%Y-%m}"
    sent = AuditEvent.objects.filter(action="governance.override.summarised", reason=said)
    used = BreakGlass.objects.filter(opened_in(month)).values("organisation")
    organisations = (
        Organisation.objects.filter(pk__in=used)
        .exclude(name__in=sent.values("actor_organisation"))
        .distinct()
    )
    count = 0
    with transaction.atomic():
        for organisation in organisations:
            append([Entry(action="governance.override.summarised",
                          actor_organisation=organisation.name, reason=said)])  # fmt: skip
            transaction.on_commit(partial(email_override_summary.enqueue, organisation.pk, said))
            count += 1
    return count
