"""Retention: how long each organisation keeps each kind of record after a student's last
contact with it, what has passed that time, and its erasure once an admin confirms it.

A record entry is erased (with its letter or attached file), and so is a message (an
engagement record); the audit log keeps, for each student and kind of record, an entry
saying how many were erased under which rule. Nothing
in the audit log is changed, so its chain still verifies. Episodes, referrals and
questionnaire scores, which the service reports count, are not record entries and are kept.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append
from joinedup.consent.models import CareRelationship, Category
from joinedup.governance import rules
from joinedup.governance.models import RetentionRule, RetentionRun
from joinedup.governance.selectors import require_admin_of
from joinedup.governance.services import admin_entry
from joinedup.governance.tasks import email_retention_due
from joinedup.messaging.models import Message
from joinedup.people.models import Organisation, User
from joinedup.record.models import RecordEntry


@dataclass(frozen=True)
class Period:
    category: str
    years: int
    source: str  # the default's source
    default_years: int
    set_by: str = ""  # who set the organisation's own period, and when, if anyone did


def periods_of(organisation: Organisation) -> dict[str, Period]:
    """Each kind of record's retention period at the organisation: its own rule, else the
    default for its kind of organisation."""
    years, source = rules.DEFAULT_RETENTION_YEARS.get(
        organisation.kind, (rules.NHS_MENTAL_HEALTH_YEARS, "")
    )
    periods = {c.value: Period(c.value, years, source, years) for c in Category}
    for rule in RetentionRule.objects.filter(organisation=organisation).select_related(
        "changed_by"
    ):
        periods[rule.category] = Period(
            rule.category, rule.years, source, years,
            set_by=_("set by %(who)s on %(day)s") % {
                "who": rule.changed_by.email, "day": f"{rule.changed_at:%-d %B %Y}"},
        )  # fmt: skip
    return periods


def set_period(*, actor: User, organisation: Organisation, category: str, years: int | None,
               request=None) -> None:  # fmt: skip
    require_admin_of(actor, organisation.pk)
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


@dataclass(frozen=True)
class Due:
    """What has passed its retention at an organisation: record entries by kind of record,
    and messages (kept as engagement records)."""

    entries: dict[str, list[int]]
    messages: list[int]

    @property
    def count(self) -> int:
        return sum(len(pks) for pks in self.entries.values()) + len(self.messages)


def due_at(organisation: Organisation, today: date | None = None) -> Due:
    """The record entries and messages of the organisation's services that have passed
    their retention: for students no longer in its care, whose last contact with it (their
    latest entry or message there, or the end of their latest care there) is longer ago than
    the period. Five queries."""
    today = today or timezone.localdate()
    periods = periods_of(organisation)
    entries = RecordEntry.objects.filter(service__organisation=organisation)
    messages = Message.objects.filter(service__organisation=organisation)
    relationships = CareRelationship.objects.filter(service__organisation=organisation)
    in_care = set(relationships.filter(closed_at__isnull=True).values_list("student", flat=True))
    last: dict[int, date] = {}
    for rows, field in ((entries, "created_at"), (messages, "sent_at"),
                        (relationships.filter(closed_at__isnull=False), "closed_at")):  # fmt: skip
        for student, at in (
            rows.values("student").annotate(at=Max(field)).values_list("student", "at")
        ):
            day = timezone.localdate(at)
            last[student] = max(last.get(student, day), day)

    def due(student: int, category: str) -> bool:
        return rules.is_due_for_erasure(
            last_contact=last[student], years=periods[category].years, today=today,
            in_care=student in in_care,
        )  # fmt: skip

    found: dict[str, list[int]] = defaultdict(list)
    for pk, student, category in entries.values_list("pk", "student", "category").order_by("pk"):
        if due(student, category):
            found[category].append(pk)
    old_messages = [pk for pk, student in messages.values_list("pk", "student").order_by("pk")
                    if due(student, Category.ENGAGEMENT)]  # fmt: skip
    return Due(dict(found), old_messages)


def list_due(organisation: Organisation, today: date | None = None) -> RetentionRun | None:
    """The daily listing: a run naming what has passed its retention, for an admin to confirm;
    None when nothing has (or when the last unconfirmed run already names the same)."""
    due = due_at(organisation, today)
    ids = sorted(pk for pks in due.entries.values() for pk in pks)
    if not due.count:
        return None
    waiting = RetentionRun.objects.filter(organisation=organisation, confirmed_at__isnull=True)
    latest = waiting.first()
    if latest is not None and (latest.entries, latest.messages) == (ids, due.messages):
        return latest
    counts = {category: len(pks) for category, pks in sorted(due.entries.items())}
    if due.messages:
        counts["messages"] = len(due.messages)
    with transaction.atomic():
        waiting.delete()  # superseded by this listing
        run = RetentionRun.objects.create(organisation=organisation, entries=ids,
                                          messages=due.messages, by_category=counts)  # fmt: skip
        append([Entry(action="governance.retention.listed", actor_organisation=organisation.name,
                      reason=f"{due.count} records past their retention")])  # fmt: skip
        transaction.on_commit(lambda: email_retention_due.enqueue(run.pk))
    return run


@dataclass(frozen=True)
class Listed:
    """One student's records in a listing: whose (by student number), where, and how many
    of each kind; never what they say."""

    student_number: str
    services: list[str]
    counts: dict[str, int]  # kind of record (or "messages") → how many


def listed_in(run: RetentionRun) -> list[Listed]:
    """What a run would erase, student by student (two queries)."""
    found: dict[int, dict] = {}
    rows = [
        *RecordEntry.objects.filter(pk__in=run.entries).values_list(
            "student_id", "student__student_number", "service__name", "category"),
        *((s, n, service, "messages") for s, n, service in Message.objects.filter(
            pk__in=run.messages).values_list("student_id", "student__student_number",
                                             "service__name")),
    ]  # fmt: skip
    for student, number, service, kind in rows:
        seen = found.setdefault(student, {"number": number, "services": set(), "counts": {}})
        seen["services"].add(service)
        seen["counts"][kind] = seen["counts"].get(kind, 0) + 1
    return sorted(
        (Listed(s["number"] or "—", sorted(s["services"]), dict(sorted(s["counts"].items())))
         for s in found.values()),
        key=lambda listed: listed.student_number,
    )  # fmt: skip


def confirm(*, actor: User, run: RetentionRun, request=None) -> int:
    """Erase what the run lists and is still due today (a student back in care, or a new
    entry, keeps theirs). One audit entry per student and kind of record names the rule.
    Returns how many entries were erased."""
    organisation = run.organisation
    require_admin_of(actor, organisation.pk)
    if run.confirmed_at is not None:
        raise ValidationError(_("This list has been erased already."))
    now_due = due_at(organisation)
    still_due = {pk for pks in now_due.entries.values() for pk in pks}
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
        old_messages = list(
            Message.objects.filter(pk__in=set(run.messages) & set(now_due.messages))
            .select_related("student")
        )  # fmt: skip
        for message in old_messages:
            counts[message.student_id, "messages"] += 1
            students[message.student_id] = message.student
        Message.objects.filter(pk__in=[m.pk for m in old_messages]).delete()
        RecordEntry.objects.filter(pk__in=[e.pk for e in erased]).delete()
        total = len(erased) + len(old_messages)
        run.confirmed_at, run.confirmed_by, run.erased = timezone.now(), actor, total
        run.save(update_fields=["confirmed_at", "confirmed_by", "erased"])
        append([
            admin_entry(
                actor, request, organisation=organisation, action="governance.retention.erased",
                student=students[student],
                category=Category.ENGAGEMENT if kind == "messages" else kind,
                reason=f"{count} {'messages' if kind == 'messages' else kind + ' entries'} "
                f"erased: kept {periods[rule].years} years after the last contact with "
                f"{organisation.name} ({periods[rule].source})",
            )
            for (student, kind), count in sorted(counts.items())
            for rule in [Category.ENGAGEMENT if kind == "messages" else kind]
        ])  # fmt: skip
        for stored in files:
            transaction.on_commit(lambda stored=stored: stored.delete(save=False))
    return total
