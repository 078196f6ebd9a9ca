"""Merging two records of one student (an organisation admin's action).

Everything that names the merged record moves to the record kept, in one transaction:
every model with a foreign key to `Student` is listed in `HANDLING`, saying what its rows
are called and what happens when the kept record already has the same row (a unique
constraint). A test fails when a new foreign key to `Student` is not listed. The audit log
is the exception: it is append-only and its entries are never rewritten, so they stay with
the merged record, which stays as a tombstone pointing to the record kept
(`Student.merged_into`); old entries still verify, and still resolve to the student.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.models import Basis
from joinedup.audit.services import Entry, append, request_id_of
from joinedup.people.models import Role, Student, User
from joinedup.people.rules import MergeRefusal, MergeSide, merge_refusal


@dataclass(frozen=True)
class Handling:
    """How a merge treats the rows of one foreign key to Student.

    `how`: "move" them to the record kept; "keep" them where they are (the audit log);
    "through" for a many-to-many relation, moved through its own table's entry.
    `duplicates`: when the kept record already has the same row (by a unique constraint),
    "fold" drops the merged record's copy (it says nothing the kept one does not), "refuse"
    stops the merge with `refusal`, to be resolved by the service that wrote them."""

    label: str | Promise
    how: Literal["move", "keep", "through"] = "move"
    duplicates: Literal["", "fold", "refuse"] = ""
    refusal: str | Promise = ""


# Keyed by "<app>.<Model>.<field>" of each relation to Student
# (`Student._meta.get_fields(include_hidden=True)`).
HANDLING: dict[str, Handling] = {
    "people.Notification.student": Handling(gettext_lazy("messages in the portal")),
    "people.Student.merged_into": Handling(gettext_lazy("records merged into it before")),
    "audit.AuditEvent.student": Handling(gettext_lazy("audit entries"), how="keep"),
    "consent.ConsentGrant.student": Handling(gettext_lazy("consents")),
    "consent.CareRelationship.student": Handling(gettext_lazy("care relationships")),
    "consent.BreakGlass.student": Handling(gettext_lazy("emergency accesses")),
    # Two waiting requests from one service for one category ask the same question.
    "consent.SharingRequest.student": Handling(
        gettext_lazy("requests to share"), duplicates="fold"
    ),
    "record.RecordEntry.student": Handling(gettext_lazy("record entries")),
    "referrals.Referral.student": Handling(gettext_lazy("referrals")),
    "referrals.Episode.student": Handling(gettext_lazy("episodes of care")),
    "referrals.FollowUpTask.student": Handling(gettext_lazy("follow-up tasks")),
    "referrals.GapItem.student": Handling(gettext_lazy("gap worklist items")),
    "measures.Administration.student": Handling(gettext_lazy("questionnaires")),
    "risk.RiskAssessment.student": Handling(gettext_lazy("risk assessments")),
    "risk.Flag.student": Handling(gettext_lazy("risk flags")),
    "risk.Concern.student": Handling(gettext_lazy("concerns")),
    "risk.SafetyPlan.student": Handling(
        gettext_lazy("safety plans"),
        duplicates="refuse",
        refusal=gettext_lazy(
            "Both records have a safety plan written by %(services)s, and a student has one "
            "plan per service. Ask %(services)s to bring the two plans into one, then merge."
        ),
    ),
    "risk.ReturnToStudyPlan.student": Handling(gettext_lazy("return-to-study plans")),
    "risk.PanelCase.student": Handling(
        gettext_lazy("case review panel cases"),
        duplicates="refuse",
        refusal=gettext_lazy(
            "Both records are on the agenda of the same case review panel. Ask the panel to "
            "keep one case and remove the other, then merge."
        ),
    ),
    "feedback.Feedback.student": Handling(gettext_lazy("feedback")),
    "reminders.Reminder.student": Handling(gettext_lazy("reminders sent")),
    "messaging.Message.student": Handling(gettext_lazy("messages with services")),
    # One choice a student: where both records made one, the kept record's stands.
    "reminders.ReminderPreference.student": Handling(
        gettext_lazy("how they are reminded"), duplicates="fold"
    ),
    "feedback.DraftComment.student": Handling(gettext_lazy("comments on draft changes")),
    "feedback.AdvisoryGroup.members": Handling(gettext_lazy("advisory groups"), how="through"),
    # Membership of one group twice is membership once.
    "feedback.AdvisoryGroup_members.student": Handling(
        gettext_lazy("advisory group memberships"), duplicates="fold"
    ),
}

# Identifying details the kept record takes from the merged one where its own are blank.
FILLED_WHEN_BLANK = (
    "nhs_number",
    "nhs_number_status",  # the same number's (records with different numbers never merge)
    "preferred_name",
    "pronouns",
    "email",
    "phone",
    "department",
    "gp_practice",
    "term_postcode",
    "home_postcode",
    "gender",
    "ethnicity_group",
    "disability",
    "first_in_family",
    "care_experienced",
    "sexual_orientation",
    "level_of_study",
    "year_of_study",
)
TRUSTED_CONTACT = (
    "trusted_contact_name",
    "trusted_contact_relationship",
    "trusted_contact_phone",
    "trusted_contact_permission",
)
# Choices that only ever widen: a student who opted out (or asked to be told) on either
# record did so.
EITHER = ("national_data_opt_out", "notify_new_access", "notify_break_glass")


def relation_key(relation: models.ForeignObjectRel) -> str:
    return f"{relation.related_model._meta.label}.{relation.field.name}"


def student_relations() -> list[models.ForeignObjectRel]:
    """Every relation pointing at Student, hidden ones (`related_name="+"`) included."""
    return [
        f
        for f in Student._meta.get_fields(include_hidden=True)
        if isinstance(f, models.ForeignObjectRel)
    ]


@dataclass(frozen=True)
class Move:
    """What happens to one kind of row: how many each record has, how many of the merged
    record's move, and how many are folded into the kept record's same row."""

    key: str
    label: str | Promise
    kept_count: int
    merged_count: int
    stays: bool = False
    folded: int = 0


@dataclass
class MergePlan:
    """What a merge of `merged` into `kept` would do, or why it may not happen."""

    kept: Student
    merged: Student
    moves: list[Move] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)  # fields the kept record takes
    refusals: dict[str, list[str]] = field(default_factory=dict)  # form field → messages
    account: Literal["", "moves", "closed"] = ""

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def moving(self) -> list[Move]:
        return [m for m in self.moves if not m.stays and (m.merged_count or m.folded)]


def _refuse(plan: MergePlan, where: str, message: str) -> None:
    plan.refusals.setdefault(where, []).append(message)


REFUSALS = {
    MergeRefusal.SAME_RECORD: ("merged", gettext_lazy("A record cannot be merged with itself.")),
    MergeRefusal.ALREADY_MERGED: (
        "merged",
        gettext_lazy("This record has already been merged into another."),
    ),
    MergeRefusal.DIFFERENT_UNIVERSITIES: (
        "merged",
        gettext_lazy(
            "These records belong to different universities (%(kept)s and %(merged)s): one "
            "student's records are held by their own university."
        ),
    ),
    MergeRefusal.DIFFERENT_NHS_NUMBERS: (
        "merged",
        gettext_lazy(
            "These records have different NHS numbers (%(kept)s and %(merged)s), so they are "
            "two people and cannot be merged. If one number was typed wrong, correct it first."
        ),
    ),
}


def _side(student: Student) -> MergeSide:
    return MergeSide(
        key=student.pk,
        university_id=student.university_id,
        nhs_number=student.nhs_number,
        is_merged=student.is_merged,
    )


def plan_merge(kept: Student, merged: Student) -> MergePlan:
    """What merging `merged` into `kept` would move, fill in and fold, and every reason it
    may not happen (a rule of the two records, or rows that cannot both stand). Reads
    counts only: no row's content."""
    plan = MergePlan(kept, merged)
    refusal = merge_refusal(_side(kept), _side(merged))
    if refusal is not None:
        where, message = REFUSALS[refusal]
        _refuse(
            plan,
            where,
            str(message)
            % {
                "kept": _words_for(refusal, kept),
                "merged": _words_for(refusal, merged),
            },
        )
        return plan
    for relation in student_relations():
        handling = HANDLING[relation_key(relation)]
        if handling.how == "through":
            continue
        model, name = relation.related_model, relation.field.name
        rows = model._base_manager.all()
        counts = {
            "kept": rows.filter(**{name: kept.pk}).count(),
            "merged": rows.filter(**{name: merged.pk}).count(),
        }
        if handling.how == "keep":
            plan.moves.append(
                Move(relation_key(relation), handling.label, counts["kept"], counts["merged"], True)
            )
            continue
        clashing = _clashing(model, name, kept, merged)
        if clashing and handling.duplicates == "refuse":
            _refuse(plan, "__all__", str(handling.refusal) % {"services": _services_of(clashing)})
        plan.moves.append(
            Move(
                relation_key(relation),
                handling.label,
                counts["kept"],
                counts["merged"],
                folded=len(clashing) if handling.duplicates == "fold" else 0,
            )
        )
    plan.filled = [
        name
        for name in FILLED_WHEN_BLANK
        if _blank(getattr(kept, name)) and not _blank(getattr(merged, name))
    ]
    if not kept.trusted_contact_name and merged.trusted_contact_name:
        plan.filled += list(TRUSTED_CONTACT)
    if merged.user_id is not None:
        plan.account = "moves" if kept.user_id is None else "closed"
    return plan


def _words_for(refusal: MergeRefusal, student: Student) -> str:
    if refusal == MergeRefusal.DIFFERENT_NHS_NUMBERS:
        number = student.nhs_number
        return f"{number[:3]} {number[3:6]} {number[6:]}"
    return student.university.name


def _blank(value: object) -> bool:
    return value is None or value == ""


def _unique_sets(model: type[models.Model], name: str) -> list[tuple[list[str], Q]]:
    """The unique constraints of `model` that include the field `name`: the other fields of
    each, and the condition under which it holds."""
    found: list[tuple[list[str], Q]] = []
    if model._meta.get_field(name).unique:
        found.append(([], Q()))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and name in constraint.fields:
            others = [f for f in constraint.fields if f != name]
            found.append((others, constraint.condition or Q()))
    for together in model._meta.unique_together:
        if name in together:
            found.append(([f for f in together if f != name], Q()))
    return found


def _clashing(model: type[models.Model], name: str, kept: Student, merged: Student) -> list:
    """The merged record's rows that could not stand beside the kept record's (the same
    row by a unique constraint)."""
    rows = model._base_manager.all()
    clashing = []
    for others, condition in _unique_sets(model, name):
        if not others:
            if rows.filter(condition, **{name: kept.pk}).exists():
                clashing += list(rows.filter(condition, **{name: merged.pk}))
            continue
        taken = set(rows.filter(condition, **{name: kept.pk}).values_list(*others))
        for row in rows.filter(condition, **{name: merged.pk}):
            if tuple(getattr(row, model._meta.get_field(f).attname) for f in others) in taken:
                clashing.append(row)
    return list({row.pk: row for row in clashing}.values())


def _services_of(rows: list) -> str:
    names = sorted({str(row.service) for row in rows if getattr(row, "service_id", None)})
    return ", ".join(names) or _("one service")


class MergeRefusedError(ValidationError):
    """The merge may not happen; the messages say why, by form field."""


def may_merge(user: User, student: Student) -> bool:
    """Organisation admins merge the records of their own university's students."""
    return user.memberships.filter(
        role=Role.ORG_ADMIN, organisation_id=student.university_id
    ).exists()


def merge_students(
    *, actor: User, kept: Student, merged: Student, request: HttpRequest | None = None
) -> MergePlan:
    """Merge `merged` into `kept`: every row naming the merged record moves to the kept one,
    the kept record takes the details it lacks, the merged record's sign-in moves (or is
    closed, when the kept record has its own), and the merged record stays as a tombstone
    pointing to the kept one. All or nothing; audited on both records.

    Raises `MergeRefusedError` with the reasons (`plan_merge`), `PermissionDenied` unless `actor`
    is an admin of the students' university."""
    if not may_merge(actor, kept) or not may_merge(actor, merged):
        raise PermissionDenied
    return merge_records(
        kept=kept, merged=merged, entries=lambda plan: _entries(actor, plan, request)
    )


def merge_records(
    *, kept: Student, merged: Student, entries: Callable[[MergePlan], list[Entry]]
) -> MergePlan:
    """The merge itself, for a caller that has checked who may ask for it: `entries` says
    in the audit log who merged the two records and why (a service's triage folds a pending
    self-referral into the record of the student it turned out to be:
    `referrals.selfreferral`). Raises `MergeRefusedError` as `merge_students` does."""
    with transaction.atomic():
        # Lock both (PostgreSQL): a second merge of either waits, then sees a tombstone.
        locked = {
            s.pk: s
            for s in Student.records.select_for_update()
            .select_related("university")
            .filter(pk__in=[kept.pk, merged.pk])
        }
        kept, merged = locked.get(kept.pk, kept), locked.get(merged.pk, merged)
        plan = plan_merge(kept, merged)
        if not plan.allowed:
            raise MergeRefusedError(plan.refusals)
        for relation in student_relations():
            handling = HANDLING[relation_key(relation)]
            if handling.how != "move":
                continue
            model, name = relation.related_model, relation.field.name
            if handling.duplicates == "fold":
                folded = [row.pk for row in _clashing(model, name, kept, merged)]
                model._base_manager.filter(pk__in=folded).delete()
            model._base_manager.filter(**{name: merged.pk}).update(**{name: kept.pk})
        _repoint_partner_identifiers(kept, merged)
        _take_details(plan)
        append(entries(plan))
    return plan


def _repoint_partner_identifiers(kept: Student, merged: Student) -> None:
    """A partner system's own id of the patient, remembered by a FHIR import, now names the
    record kept (by uuid, not a foreign key)."""
    identifier = apps.get_model("fhir", "ExternalIdentifier")
    identifier.objects.filter(resource_type="Patient", target_uuid=merged.uuid).update(
        target_uuid=kept.uuid
    )


def _take_details(plan: MergePlan) -> None:
    kept, merged = plan.kept, plan.merged
    for name in plan.filled:
        setattr(kept, name, getattr(merged, name))
    for name in EITHER:
        setattr(kept, name, getattr(kept, name) or getattr(merged, name))
    account = merged.user
    merged.user = None
    merged.merged_into, merged.merged_at = kept, timezone.now()
    merged.save(update_fields=["user", "merged_into", "merged_at"])
    if account is not None and plan.account == "moves":
        kept.user = account
    elif account is not None:
        # The student signs in with the kept record's account from now on.
        account.is_active = False
        account.save(update_fields=["is_active"])
    kept.save(update_fields=[*plan.filled, *EITHER, "user"])


def _entries(actor: User, plan: MergePlan, request: HttpRequest | None) -> list[Entry]:
    kept, merged = plan.kept, plan.merged
    seat = actor.memberships.filter(
        role=Role.ORG_ADMIN, organisation_id=kept.university_id
    ).select_related("organisation")[0]
    moved = "; ".join(f"{m.merged_count} {m.label}" for m in plan.moving) or "nothing else"
    common = {
        "actor": actor,
        "category": "identity",
        "allowed": True,
        "basis": Basis.ADMIN,
        "actor_role": Role.ORG_ADMIN.value,
        "actor_service": "Merge records",
        "actor_organisation": seat.organisation.name,
        "request_id": request_id_of(request),
    }
    return [
        Entry(
            action="people.student.merged",
            student=kept,
            reason=f"Record {merged.student_number} ({merged.uuid}) merged into this one. "
            f"Moved: {moved}. Details taken: {', '.join(plan.filled) or 'none'}.",
            **common,
        ),
        Entry(
            action="people.student.merged_away",
            student=merged,
            reason=f"Merged into record {kept.student_number} ({kept.uuid}); this record is "
            "kept only so that its audit entries resolve.",
            **common,
        ),
    ]


def audit_admin_read(
    actor: User, students: list[Student], *, request: HttpRequest | None = None
) -> None:
    """The merge page shows two records' identities side by side to an organisation admin
    (no clinical content): each is audited as a read in site administration."""
    seat = actor.memberships.filter(role=Role.ORG_ADMIN).select_related("organisation").first()
    append(
        [
            Entry(
                action="people.student.merge_compared",
                actor=actor,
                student=student,
                category="identity",
                allowed=True,
                basis=Basis.ADMIN,
                reason="Compared with another record before merging.",
                actor_role=Role.ORG_ADMIN.value,
                actor_service="Merge records",
                actor_organisation=seat.organisation.name if seat else "",
                request_id=request_id_of(request),
            )
            for student in students
        ]
    )


def merged_in_words(plan: MergePlan) -> str:
    """What a finished merge did, for the admin who did it."""
    moved = ", ".join(f"{m.merged_count} {m.label}" for m in plan.moving)
    return _(
        "Record %(merged)s is now part of %(kept)s. Moved: %(moved)s. Its audit entries stay "
        "with it, and it points to %(kept)s."
    ) % {
        "merged": plan.merged.student_number,
        "kept": plan.kept.student_number,
        "moved": moved or _("nothing else"),
    }


def compared(plan: MergePlan) -> list[tuple[str, str, str]]:
    """The two records' identifying details side by side: (what, kept, merged)."""

    def pair(label: str | Promise, value) -> tuple[str, str, str]:
        return str(label), value(plan.kept), value(plan.merged)

    return [
        pair(_("Name"), lambda s: s.display_name),
        pair(_("Legal name"), lambda s: s.legal_name),
        pair(_("Pronouns"), lambda s: s.pronouns),
        pair(_("Date of birth"), lambda s: date_format(s.date_of_birth, "j F Y")),
        pair(_("Student number"), lambda s: s.student_number),
        pair(_("NHS number"), lambda s: s.nhs_number),
        pair(_("Email"), lambda s: s.email),
        pair(_("Phone"), lambda s: s.phone),
        pair(_("GP practice"), lambda s: s.gp_practice.name if s.gp_practice else ""),
        pair(_("Department"), lambda s: s.department.name if s.department else ""),
        pair(_("Sign-in"), lambda s: _("yes") if s.user_id else _("no")),
        pair(_("Registered"), lambda s: date_format(timezone.localtime(s.created_at), "j F Y")),
    ]


def filled_in_words(plan: MergePlan) -> list[str]:
    """The details the kept record takes from the merged one, by their labels."""
    names = [n for n in plan.filled if n not in TRUSTED_CONTACT[1:]]
    return [str(Student._meta.get_field(name).verbose_name) for name in names]
