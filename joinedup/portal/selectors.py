"""The student's own record, in plain words: who is involved and what each holds, where
they are on each waiting list, and their next appointments."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.consent.models import CareRelationship, Category
from joinedup.consent.policy import decide_as, department_seat, grants_reaching, service_seat
from joinedup.consent.rules import STUDENT_LEVEL, STUDENT_WORDS
from joinedup.measures.models import Administration, CompletionLink
from joinedup.measures.services import token_of
from joinedup.people.models import Service
from joinedup.record.models import RecordEntry
from joinedup.referrals import rules
from joinedup.referrals.directory.rules import typical_wait_days
from joinedup.referrals.directory.selectors import recent_waits_by_service
from joinedup.referrals.models import Appointment, Referral
from joinedup.risk.models import RiskAssessment

# What each kind of information a service writes is, in the student's words.
PLAIN = {c: STUDENT_WORDS[c] for c in STUDENT_WORDS if c not in STUDENT_LEVEL and c != "engagement"}


@dataclass
class Involved:
    service: object
    since: object
    holds: list[str] = field(default_factory=list)


@dataclass
class Waiting:
    referral: Referral
    position: int
    waited: int
    expected: int | None  # days left, from the service's typical wait


@dataclass
class MyRecord:
    involved: list[Involved]
    waiting: list[Waiting]
    appointments: list
    to_complete: list = field(default_factory=list)  # (link, token) of questionnaires due
    # Every care relationship, open and ended: why each service could read the record.
    relationships: list = field(default_factory=list)


def my_record(student) -> MyRecord:
    """A fixed number of queries, whatever the size of the record."""
    relationships = (
        CareRelationship.objects.open()
        .filter(student=student)
        .select_related("service__organisation")
        .order_by("opened_at")
    )
    held = defaultdict(Counter)
    for service_id, category in RecordEntry.objects.filter(
        student=student, is_withheld_from_student=False
    ).values_list("service_id", "category"):
        held[service_id][category] += 1
    for service_id in Administration.objects.filter(student=student).values_list(
        "service_id", flat=True
    ):
        held[service_id]["outcomes"] += 1
    for service_id in RiskAssessment.objects.filter(student=student).values_list(
        "service_id", flat=True
    ):
        held[service_id]["risk"] += 1
    involved = {}
    for r in relationships:
        involved.setdefault(r.service_id, Involved(r.service, r.opened_at))
    for service_id, item in involved.items():
        item.holds = [_(PLAIN[c]) for c in PLAIN if held[service_id][c]]
    return MyRecord(
        list(involved.values()),
        _waiting(student),
        _appointments(student),
        _to_complete(student),
        list(
            CareRelationship.objects.filter(student=student)
            .select_related("service")
            .order_by("-opened_at")
        ),
    )


def _to_complete(student) -> list:
    """Questionnaires a service has asked for and the student has not yet answered."""
    links = CompletionLink.objects.filter(
        episode__student=student, used_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("episode__service")
    return [(link, token_of(link)) for link in links]


def _waiting(student) -> list[Waiting]:
    mine = list(
        Referral.objects.filter(student=student, state__in=rules.WAITING).select_related(
            "to_service__directory_entry"
        )
    )
    if not mine:
        return []
    now = timezone.now()
    waits = recent_waits_by_service([r.to_service_id for r in mine])
    result = []
    for referral in mine:
        ahead = Referral.objects.filter(
            to_service=referral.to_service_id, state__in=rules.WAITING, sent_at__lt=referral.sent_at
        ).count()
        waited = (now.date() - referral.sent_at.date()).days
        typical = typical_wait_days(waits.get(referral.to_service_id, []))
        expected = max(typical - waited, 0) if typical is not None else None
        result.append(Waiting(referral, ahead + 1, waited, expected))
    return result


def _appointments(student) -> list:
    return list(
        Appointment.objects.filter(
            episode__student=student, status="booked", starts_at__gte=timezone.now()
        )
        .select_related("episode__service")
        .order_by("starts_at")[:10]
    )


@dataclass
class Choice:
    """One category for one recipient, as the policy applies it now: `state` is `shared`
    (the student's consent reaches them), `agreed` (the student agreed, but no data sharing
    agreement lets it reach them), `in_care` (they read it whole while they work with the
    student, whatever the consent) or `not_shared`. `grants` are the consents through which
    it reaches them; `wide` the organisation-wide one among them, if any."""

    category: str
    state: str
    grants: list = field(default_factory=list)
    wide: object = None

    @property
    def why(self) -> str:
        return WHY[self.category]

    @property
    def label(self) -> str:
        return Category(self.category).label


@dataclass
class Recipient:
    service: object = None
    department: object = None
    choices: list[Choice] = field(default_factory=list)


def consent_choices(student) -> list[Recipient]:
    """Each service working with the student, and their department, with the state of each
    category the student may share with them: the state the policy applies, decided as it
    decides for that recipient's staff (so an organisation-wide consent shows as shared
    with each of its services)."""
    services = (
        Service.objects.filter(
            care_relationships__student=student, care_relationships__closed_at__isnull=True
        )
        .distinct()
        .select_related("organisation")
        .order_by("name")
    )
    recipients = [
        Recipient(service=s, choices=_choices(student, service_seat(s), SHAREABLE, "direct_care"))
        for s in services
    ]
    if student.department_id:
        seat = department_seat(student.department)
        recipients.append(
            Recipient(
                department=student.department,
                choices=_choices(student, seat, DEPARTMENT_SHAREABLE, "academic_support"),
            )
        )
    return recipients


# Why a student might share each category, in their words.
WHY = {
    "assessment": gettext_lazy("Your story, told once: they will not ask you to repeat it."),
    "outcomes": gettext_lazy("Your questionnaire answers: they can see how things are going."),
    "risk": gettext_lazy("Your risk summary and safety plan: so they can keep you safe."),
    "discharge": gettext_lazy("Summaries when a service finishes working with you."),
    "engagement": gettext_lazy("Which services you are in touch with, and your appointments."),
    "adjustments": gettext_lazy(
        "Support agreed for your studies, such as extensions. Never anything clinical."
    ),
}
# What a student may share with a service, and with their department (case notes never
# leave the service that wrote them; academic staff never see anything clinical).
SHAREABLE = ("assessment", "outcomes", "risk", "discharge", "engagement")
DEPARTMENT_SHAREABLE = ("engagement", "adjustments")


def _choices(student, seat, categories, purpose) -> list[Choice]:
    decisions = decide_as(seat, student, categories, purpose)
    choices = []
    for category in categories:
        decision = decisions[category]
        grants = list(
            grants_reaching(student, seat, category, purpose).select_related(
                "recipient_organisation"
            )
        )
        if decision.allowed and decision.whole:
            state = "shared" if decision.basis == "consent" else "in_care"
        else:
            state = "agreed" if grants else "not_shared"
        wide = next((g for g in grants if g.recipient_organisation_id), None)
        choices.append(Choice(category, state, grants, wide))
    return choices
