"""Retention: how long each organisation keeps each kind of record after a student's last
contact with it, what has passed that time, and its erasure once an admin confirms it.

A record entry is erased (with its letter or attached file); the audit log keeps, for each
student and kind of record, an entry saying how many were erased under which rule. Nothing
in the audit log is changed, so its chain still verifies. Episodes, referrals and
questionnaire scores, which the service reports count, are not record entries and are kept.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append
from joinedup.consent.models import CareRelationship, Category
from joinedup.governance import rules
from joinedup.governance.models import RetentionRule, RetentionRun
from joinedup.governance.selectors import organisations_reviewed_by
from joinedup.governance.services import admin_entry
from joinedup.people.models import Organisation, User
from joinedup.record.models import RecordEntry


@dataclass(frozen=True)
class Period:
    category: str
    years: int
    source: str  # the default's source, or who set it


def periods_of(organisation: Organisation) -> dict[str, Period]:
    """Each kind of record's retention period at the organisation: its own rule, else the
    default for its kind of organisation."""
    years, source = rules.DEFAULT_RETENTION_YEARS.get(
        organisation.kind, (rules.NHS_MENTAL_HEALTH_YEARS, "")
    )
    periods = {c.value: Period(c.value, years, source) for c in Category}
    for rule in RetentionRule.objects.filter(organisation=organisation).select_related(
        "changed_by"
    ):
        periods[rule.category] = Period(
            rule.category, rule.years,
            _("set by %(who)s on %(day)s") % {"who": rule.changed_by.email,
                                             "day": f"{rule.changed_at:%-d %B %Y}"},
        )  # fmt: skip
    return periods


def set_period(*, actor: User, organisation: Organisation, category: str, years: int | None,
               request=None) -> None:  # fmt: skip
    if organisation.pk not in organisations_reviewed_by(actor):
        raise PermissionDenied
    if category not in Category.values:
        raise ValidationError({"category": _("Choose a kind of record from the list.")})
    if problem := rules.retention_problem(years):
        raise ValidationError({"years": problem})
    with transaction.atomic():
        RetentionRule.objects.update_or_create(
            organisation=organisation, category=category,
            defaults={"years": years, "changed_by": actor, "changed_at": timezone.now()},
        )  # fmt: skip
        append([admin_entry(
            actor, request, organisation=organisation, action="governance.retention.period_set",
            reason=f"{category}: {years} years after the last contact",
        )])  # fmt: skip


def due_entries(organisation: Organisation, today: date | None = None) -> dict[str, list[int]]:
    """The record entries written by the organisation's services that have passed their
    retention, by kind of record: for students no longer in its care, whose last contact with
    it (their latest entry there, or the end of their latest care there) is longer ago than
    the period. Three queries."""
    today = today or timezone.localdate()
    periods = periods_of(organisation)
    entries = RecordEntry.objects.filter(service__organisation=organisation)
    relationships = CareRelationship.objects.filter(service__organisation=organisation)
    in_care = set(relationships.filter(closed_at__isnull=True).values_list("student", flat=True))
    last: dict[int, date] = {}
    for student, at in (
        entries.values("student").annotate(at=Max("created_at")).values_list("student", "at")
    ):
        last[student] = timezone.localdate(at)
    for student, at in (
        relationships.filter(closed_at__isnull=False)
        .values("student")
        .annotate(at=Max("closed_at"))
        .values_list("student", "at")
    ):
        if student in last:
            last[student] = max(last[student], timezone.localdate(at))
    due: dict[str, list[int]] = defaultdict(list)
    for pk, student, category in entries.values_list("pk", "student", "category").order_by("pk"):
        if rules.is_due_for_erasure(
            last_contact=last[student], years=periods[category].years, today=today,
            in_care=student in in_care,
        ):  # fmt: skip
            due[category].append(pk)
    return dict(due)


def list_due(organisation: Organisation, today: date | None = None) -> RetentionRun | None:
    """The daily listing: a run naming what has passed its retention, for an admin to confirm;
    None when nothing has (or when the last unconfirmed run already names the same)."""
    due = due_entries(organisation, today)
    ids = sorted(pk for pks in due.values() for pk in pks)
    if not ids:
        return None
    waiting = RetentionRun.objects.filter(organisation=organisation, confirmed_at__isnull=True)
    if (latest := waiting.first()) is not None and latest.entries == ids:
        return latest
    with transaction.atomic():
        waiting.delete()  # superseded by this listing
        run = RetentionRun.objects.create(
            organisation=organisation, entries=ids,
            by_category={category: len(pks) for category, pks in sorted(due.items())},
        )  # fmt: skip
        append([Entry(action="governance.retention.listed", actor_organisation=organisation.name,
                      reason=f"{len(ids)} record entries past their retention")])  # fmt: skip
    return run


def confirm(*, actor: User, run: RetentionRun, request=None) -> int:
    """Erase what the run lists and is still due today (a student back in care, or a new
    entry, keeps theirs). One audit entry per student and kind of record names the rule.
    Returns how many entries were erased."""
    organisation = run.organisation
    if organisation.pk not in organisations_reviewed_by(actor):
        raise PermissionDenied
    if run.confirmed_at is not None:
        raise ValidationError(_("This list has been erased already."))
    still_due = {pk for pks in due_entries(organisation).values() for pk in pks}
    periods = periods_of(organisation)
    with transaction.atomic():
        erased = list(
            RecordEntry.objects.filter(pk__in=set(run.entries) & still_due).select_related(
                "attachment", "student"
            )
        )
        files = [e.attachment.file for e in erased if hasattr(e, "attachment")]
        counts: dict[tuple[int, str], int] = defaultdict(int)
        students = {}
        for entry in erased:
            counts[entry.student_id, entry.category] += 1
            students[entry.student_id] = entry.student
        RecordEntry.objects.filter(pk__in=[e.pk for e in erased]).delete()
        run.confirmed_at, run.confirmed_by, run.erased = timezone.now(), actor, len(erased)
        run.save(update_fields=["confirmed_at", "confirmed_by", "erased"])
        append([
            admin_entry(
                actor, request, organisation=organisation, action="governance.retention.erased",
                student=students[student], category=category,
                reason=f"{count} {category} entries erased: kept {periods[category].years} "
                f"years after the last contact with {organisation.name} "
                f"({periods[category].source})",
            )
            for (student, category), count in sorted(counts.items())
        ])  # fmt: skip
        for stored in files:
            transaction.on_commit(lambda stored=stored: stored.delete(save=False))
    return len(erased)
