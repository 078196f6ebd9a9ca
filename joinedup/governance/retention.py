"""Retention: how long each organisation keeps each kind of record after a student's last
contact with it, what has passed that time, and its erasure once an admin confirms it.

Record entries (with their letters and files), messages, risk assessments, safety plans and
return to study plans are erased. What the service reports count (referrals, appointments,
flags, concerns, follow-ups, panel cases, feedback, questionnaire scores) is anonymised: its
free text is said to be erased and its detail (questionnaire answers, replies, requests)
erased, its dates and codes kept. Episodes hold no free text and are kept. The audit log
keeps, for each student and thing erased, an entry saying how many under which rule;
nothing in it is changed, so its chain still verifies.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, TruncYear
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append
from joinedup.consent.models import CareRelationship, Category
from joinedup.feedback.models import Feedback
from joinedup.governance import rules
from joinedup.governance.models import RetentionRule, RetentionRun
from joinedup.governance.selectors import require_admin_of
from joinedup.governance.services import admin_entry
from joinedup.governance.tasks import email_retention_due
from joinedup.measures.models import Administration
from joinedup.messaging.models import Message
from joinedup.people.models import Notification, Organisation, Student, User
from joinedup.record.models import Attachment, RecordEntry
from joinedup.referrals.models import Appointment, FollowUpTask, Referral
from joinedup.reminders.models import Reminder
from joinedup.risk.models import (
    Concern,
    Flag,
    PanelCase,
    ReturnToStudyPlan,
    RiskAssessment,
    SafetyPlan,
)


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
               why: str = "", request=None) -> Period:  # fmt: skip
    """Set the organisation's own period for a kind of record; the default's own period puts
    it back to the default. A period shorter than the default needs a reason, kept in the
    audit log with the old and new period. Returns the period as it was."""
    require_admin_of(actor, organisation.pk)
    if category not in Category.values:
        raise ValidationError({"category": _("Choose a kind of record from the list.")})
    if (problem := rules.retention_problem(years)) or years is None:
        raise ValidationError({"years": problem})
    before = periods_of(organisation)[category]
    if years < before.default_years and not why.strip():
        raise ValidationError({"why": _(
            "Say why you keep them for less than the default of %(years)d years (%(source)s)."
        ) % {"years": before.default_years, "source": before.source}})  # fmt: skip
    with transaction.atomic():
        if years == before.default_years:
            RetentionRule.objects.filter(organisation=organisation, category=category).delete()
        else:
            RetentionRule.objects.update_or_create(
                organisation=organisation, category=category,
                defaults={"years": years, "changed_by": actor, "changed_at": timezone.now()},
            )  # fmt: skip
        append([admin_entry(
            actor, request, organisation=organisation, action="governance.retention.period_set",
            reason=f"{category}: {before.years} → {years} years after the last contact"
            + (" (the default)" if years == before.default_years else "")
            + (f". Why: {why.strip()}" if why.strip() else ""),
        )])  # fmt: skip
    return before


@dataclass(frozen=True)
class Kept:
    """One kind of thing a service keeps about a student, and what its retention does to it:
    erases the rows, or, for what the service reports still count, replaces their free text
    with `rules.ERASED_TEXT` and erases their detail rows (`erase`, related names), keeping
    the row itself."""

    key: str
    label: str
    model: type[Model]
    category: str | None  # whose period applies; None: the row's own `category`
    contact: str  # the date that counts as a contact with the service
    service: str = "service"
    student: str = "student"
    blank: tuple[str, ...] = ()
    erase: tuple[str, ...] = ()

    @property
    def anonymised(self) -> bool:
        return bool(self.blank or self.erase)

    def rows_at(self, organisation: Organisation) -> QuerySet:
        rows = self.model.objects.filter(**{f"{self.service}__organisation": organisation,
                                            f"{self.student}__isnull": False})  # fmt: skip
        if not self.anonymised:
            return rows
        # What is left to anonymise: a text not yet said to be erased, or a detail row.
        left = Q()
        for field in self.blank:
            left |= ~Q(**{f"{field}__in": ("", rules.ERASED_TEXT)})
        for details, by in self.details():
            left |= Exists(details.filter(**{by: OuterRef("pk")}))
        return rows.filter(left)

    def details(self) -> list[tuple[QuerySet, str]]:
        """The detail rows erased with each row, and the field naming the row."""
        fields = [self.model._meta.get_field(related) for related in self.erase]
        return [(field.related_model.objects.all(), field.field.name) for field in fields]

    def whose(self, pks: list[int]) -> QuerySet:
        """Each row's student, their number, its service, and what a listing names it by."""
        return self.model.objects.filter(pk__in=pks).values_list(
            self.student, f"{self.student}__student_number", f"{self.service}__name",
            "category" if self.category is None else Value(self.key),
        )  # fmt: skip

    def forget(self, pks: list[int]) -> None:
        rows = self.model.objects.filter(pk__in=pks)
        if not self.anonymised:
            rows.delete()
            return
        for details, by in self.details():
            details.filter(**{f"{by}__in": pks}).delete()
        if self.blank:  # a text there is said to be erased; an empty one stays empty
            rows.update(**{field: Case(When(**{field: ""}, then=Value("")),
                                       default=Value(rules.ERASED_TEXT))
                           for field in self.blank})  # fmt: skip


# Everything a service keeps about a student, in the order a listing names it. Episodes
# (dates and endings only) and questionnaire totals are kept: the service reports count them.
KEPT = (
    Kept("entries", _("Record entries"), RecordEntry, None, "created_at"),
    Kept("messages", _("Messages"), Message, Category.ENGAGEMENT, "sent_at"),
    Kept("risk_assessments", _("Risk assessments"), RiskAssessment, Category.RISK, "created_at"),
    Kept("safety_plans", _("Safety plans"), SafetyPlan, Category.RISK, "updated_at"),
    Kept("return_plans", _("Return to study plans"), ReturnToStudyPlan, Category.ADJUSTMENTS,
         "updated_at", service="university_service"),
    Kept("answers", _("Questionnaire answers (the scores are kept)"), Administration,
         Category.OUTCOMES, "completed_at", erase=("answers",)),
    Kept("referrals", _("Referral reasons (the referral's dates are kept)"), Referral,
         Category.REGISTRATION, "last_changed_at", service="to_service",
         blank=("reason", "signposted_to")),
    Kept("appointments", _("Appointment notes and requests (the times are kept)"), Appointment,
         Category.ENGAGEMENT, "starts_at", service="episode__service",
         student="episode__student", blank=("place", "cancel_reason", "move_reason"),
         erase=("requests",)),
    Kept("flags", _("Risk flag reasons (the flag's times are kept)"), Flag, Category.RISK,
         "raised_at", blank=("reason",)),
    Kept("concerns", _("Concerns' words and replies (the concern's times are kept)"), Concern,
         Category.NOTES, "raised_at", blank=("observed",), erase=("messages",)),
    Kept("follow_ups", _("Follow-up details (the task's times are kept)"), FollowUpTask,
         Category.NOTES, "created_at", blank=("reason", "detail", "outcome")),
    Kept("panel_cases", _("Panel case summaries and decisions"), PanelCase, Category.RISK,
         "added_at", blank=("summary", "decision")),
    Kept("feedback", _("Feedback comments (the ratings are kept)"), Feedback,
         Category.ENGAGEMENT, "given_in", blank=("comment",)),
)  # fmt: skip


class Identities:
    """Students' identities, once every organisation's retention has passed: names, contact
    details, student and NHS numbers and the portal account are erased; the year of birth
    and the equality monitoring answers stay, for reports. The record says when."""

    key = "identities"
    label = _("Identities (the year of birth and equality answers are kept)")
    category = Category.IDENTITY
    anonymised = True

    def whose(self, pks: list[int]) -> QuerySet:
        return Student.objects.filter(pk__in=pks).values_list(
            "pk", "student_number", "university__name", Value(self.key)
        )

    def forget(self, pks: list[int]) -> None:
        students = Student.objects.filter(pk__in=pks)
        accounts = User.objects.filter(pk__in=students.values("user"))
        EmailAddress.objects.filter(user__in=accounts).delete()
        Authenticator.objects.filter(user__in=accounts).delete()
        accounts.update(is_active=False, password=UNUSABLE_PASSWORD_PREFIX, first_name="",
                        last_name="", email=Concat(Value("erased-"), Cast("pk", CharField()),
                                                   Value("@erased.invalid")))  # fmt: skip
        Notification.objects.filter(student__in=pks).delete()
        Reminder.objects.filter(student__in=pks).update(detail="")
        students.update(
            legal_given_name="Erased", legal_family_name="identity", preferred_name="",
            pronouns="", date_of_birth=TruncYear("date_of_birth"), nhs_number="",
            nhs_number_status="", student_number=Concat(Value("ERASED-"), Cast("pk", CharField())),
            term_postcode="", home_postcode="", email="", phone="", trusted_contact_name="",
            trusted_contact_relationship="", trusted_contact_phone="",
            trusted_contact_permission=Student.TrustedContactPermission.NOT_ASKED,
            erased_at=timezone.now(), changed_at=timezone.now(), user=None,
        )  # fmt: skip


IDENTITIES = Identities()
KINDS: dict[str, Kept | Identities] = {kept.key: kept for kept in (*KEPT, IDENTITIES)}
# What a listing's counts are named by: a record entry's kind of record, or the kind kept.
LABELS = dict(Category.choices) | {kept.key: kept.label for kept in (*KEPT[1:], IDENTITIES)}


def fate_of(category: str) -> list[str]:
    """What happens, once a kind of record's period has passed, to what is kept under it:
    the lines of the retention page's "Then" column."""
    kept = [k for k in KEPT if k.category == category]
    erased = [_("record entries of this kind"), *(k.label for k in kept if not k.anonymised)]
    lines = [_("Erased: %(what)s.") % {"what": "; ".join(erased).lower()}]
    if anonymised := [str(k.label) for k in kept if k.anonymised]:
        lines.append(_("Their words erased, their dates kept for reports: %(what)s.")
                     % {"what": "; ".join(anonymised).lower()})  # fmt: skip
    if category == IDENTITIES.category:
        lines.append(_("The student's identity is erased (the year of birth and equality "
                       "answers are kept) only once they have left the university and the "
                       "longest period of every organisation holding anything about them has "
                       "passed."))  # fmt: skip
    return lines


@dataclass(frozen=True)
class Due:
    """What has passed its retention at an organisation: ids by kind kept (`KEPT`), and how
    many by what a listing names them (record entries by their kind of record)."""

    ids: dict[str, list[int]]
    counts: dict[str, int]

    @property
    def count(self) -> int:
        return sum(self.counts.values())


def _contacts(organisation: Organisation) -> tuple[dict[int, date], set[int]]:
    """Each student's last contact with the organisation (the latest date of anything it
    keeps about them, or the end of their latest care there), and who is in its care now.
    A query a kind kept."""
    relationships = CareRelationship.objects.filter(service__organisation=organisation)
    in_care = set(relationships.filter(closed_at__isnull=True).values_list("student", flat=True))
    everything = [(kept.model.objects.filter(**{f"{kept.service}__organisation": organisation}),
                   kept.student, kept.contact) for kept in KEPT]  # fmt: skip
    last: dict[int, date] = {}
    for rows, student_field, field in (
        *everything,
        (relationships.filter(closed_at__isnull=False), "student", "closed_at"),
    ):
        for student, at in (rows.filter(**{f"{student_field}__isnull": False})
                            .values(student_field).annotate(at=Max(field))
                            .values_list(student_field, "at")):  # fmt: skip
            day = timezone.localdate(at) if isinstance(at, datetime) else at  # or a date
            last[student] = max(last.get(student, day), day)
    return last, in_care


def identities_due(university: Organisation, today: date) -> list[int]:
    """The university's students whose identity has passed its retention everywhere: they
    have left (withdrawn or graduated), no organisation has them in its care, and their last
    contact with each organisation is longer ago than the longest period there (so nothing
    any organisation still keeps loses whose it is). Someone with no contact anywhere is left
    to the student registry."""
    left = set(Student.objects.filter(
        university=university, erased_at__isnull=True, is_pending=False,
        status__in=(Student.Status.WITHDRAWN, Student.Status.GRADUATED),
    ).values_list("pk", flat=True))  # fmt: skip
    seen: set[int] = set()
    for organisation in Organisation.objects.all() if left else ():
        last, in_care = _contacts(organisation)
        years = max(period.years for period in periods_of(organisation).values())
        for student in left & (last.keys() | in_care):
            seen.add(student)
            if not rules.is_due_for_erasure(last_contact=last.get(student, today), years=years,
                                            today=today, in_care=student in in_care):  # fmt: skip
                left.discard(student)
    return sorted(left & seen)


def due_at(organisation: Organisation, today: date | None = None) -> Due:
    """What the organisation's services keep that has passed its retention: for students no
    longer in its care, whose last contact with it is longer ago than the period; and, at a
    university, the identities of its students that have passed theirs everywhere."""
    today = today or timezone.localdate()
    periods = periods_of(organisation)
    last, in_care = _contacts(organisation)
    ids: dict[str, list[int]] = {}
    counts: dict[str, int] = defaultdict(int)
    for kept in KEPT:
        fields = ("pk", kept.student, *(() if kept.category else ("category",)))
        for pk, student, *category in (
            kept.rows_at(organisation).values_list(*fields).order_by("pk")
        ):
            named = category[0] if category else kept.key
            if rules.is_due_for_erasure(
                last_contact=last[student], years=periods[kept.category or named].years,
                today=today, in_care=student in in_care,
            ):  # fmt: skip
                ids.setdefault(kept.key, []).append(pk)
                counts[named] += 1
    if organisation.kind == Organisation.Kind.UNIVERSITY and (
        identities := identities_due(organisation, today)
    ):
        ids[IDENTITIES.key], counts[IDENTITIES.key] = identities, len(identities)
    return Due(ids, dict(sorted(counts.items())))


def list_due(organisation: Organisation, today: date | None = None) -> RetentionRun | None:
    """The daily listing: a run naming what has passed its retention, for an admin to confirm;
    None when nothing has (or when the last unconfirmed run already names the same)."""
    due = due_at(organisation, today)
    if not due.count:
        return None
    waiting = RetentionRun.objects.filter(organisation=organisation, confirmed_at__isnull=True)
    latest = waiting.first()
    if latest is not None and latest.listed == due.ids:
        return latest
    with transaction.atomic():
        waiting.delete()  # superseded by this listing
        run = RetentionRun.objects.create(organisation=organisation, listed=due.ids,
                                          by_category=due.counts)  # fmt: skip
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
    counts: dict[str, int]  # what it is (`LABELS`) → how many


def listed_in(run: RetentionRun) -> list[Listed]:
    """What a run would erase, student by student (a query a kind listed)."""
    found: dict[int, dict] = {}
    for key, pks in run.listed.items():
        for student, number, service, named in KINDS[key].whose(pks):
            seen = found.setdefault(student, {"number": number, "services": set(),
                                              "counts": defaultdict(int)})  # fmt: skip
            seen["services"].add(service)
            seen["counts"][named] += 1
    return sorted(
        (Listed(s["number"] or "—", sorted(s["services"]), dict(sorted(s["counts"].items())))
         for s in found.values()),
        key=lambda listed: listed.student_number,
    )  # fmt: skip


def _under_which_rule(named: str, count: int, organisation: Organisation,
                      periods: dict[str, Period]) -> str:  # fmt: skip
    """An erasure's audit reason: how many of what, and the rule (never what they said)."""
    if named == IDENTITIES.key:
        return ("identity erased: the student has left, and their last contact with every "
                "organisation is older than its longest retention period")  # fmt: skip
    kept = KINDS.get(named)  # else a kind of record entry
    what = f"{named} entries" if kept is None else named.replace("_", " ")
    period = periods[kept.category if kept else named]
    return (f"{count} {what} {'anonymised' if kept and kept.anonymised else 'erased'}: kept "
            f"{period.years} years after the last contact with {organisation.name} "
            f"({period.source})")  # fmt: skip


def confirm(*, actor: User, run: RetentionRun, request=None) -> int:
    """Erase (or anonymise) what the run lists and is still due today (a student back in
    care, or a new contact, keeps theirs). One audit entry per student and what was erased
    names the rule. Returns how many things were erased or anonymised."""
    organisation = run.organisation
    require_admin_of(actor, organisation.pk)
    if run.confirmed_at is not None:
        raise ValidationError(_("This list has been erased already."))
    now_due = due_at(organisation).ids
    periods = periods_of(organisation)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    students: set[int] = set()
    total = 0
    with transaction.atomic():
        files = [
            attachment.file
            for attachment in Attachment.objects.filter(
                entry__in=set(run.listed.get("entries", ())) & set(now_due.get("entries", ()))
            )
        ]
        for key, pks in run.listed.items():
            kept = KINDS[key]
            still = sorted(set(pks) & set(now_due.get(key, ())))
            for student, _number, _service, named in kept.whose(still):
                counts[student, named] += 1
                students.add(student)
            kept.forget(still)
            total += len(still)
        run.confirmed_at, run.confirmed_by, run.erased = timezone.now(), actor, total
        run.save(update_fields=["confirmed_at", "confirmed_by", "erased"])
        by_pk = Student.records.in_bulk(students)
        append([
            admin_entry(
                actor, request, organisation=organisation, action="governance.retention.erased",
                student=by_pk[student], category=KINDS[named].category if named in KINDS else named,
                reason=_under_which_rule(named, count, organisation, periods),
            )
            for (student, named), count in sorted(counts.items())
        ])  # fmt: skip
        for stored in files:
            transaction.on_commit(lambda stored=stored: stored.delete(save=False))
    return total
