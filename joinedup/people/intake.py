"""Registering a student who comes to a service (intake): where a member of staff may
register students, the duplicate check, and the registration itself.

A registration is never access on its own: it records the walk-in as the student's
self-referral to the registering service, sent to it at once, and that referral opens the
service's care relationship (`referrals.services.create_referral`). The relationship ends
when the referral does (declined, withdrawn, or discharged after the episode it leads to),
as DESIGN.md's "Access ends when its reason ends" asks. This module sits above `consent` and
`referrals` (as `fhir` does when it adds a patient); `people.models` and `people.services`
stay below them.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import append
from joinedup.consent.models import DataSharingAgreement, agreement_in_force
from joinedup.consent.policy import entry_for, readable_students
from joinedup.people.models import CLINICAL_ROLES, Organisation, Service, Student, User
from joinedup.people.rules import Duplicate, Identity, Match, likely_duplicates
from joinedup.referrals.models import Referral
from joinedup.referrals.services import create_referral

# What a member of staff may read of a student the warning names: the whole identity, not a
# name alone (`rules.NAMES_ONLY` readers must not learn a date of birth or NHS number by it).
FULL_IDENTITY_BASES = ("self", "relationship", "consent", "break_glass")
MATCH_ORDER = (Match.STUDENT_NUMBER, Match.NHS_NUMBER, Match.NAME_AND_BIRTH)


@dataclass(frozen=True)
class Place:
    """A service a member of staff may register students for, and the universities whose
    students it may register: its own organisation, if a university, and the universities
    that share identity with that organisation for direct care under an active agreement."""

    service: Service
    universities: tuple[Organisation, ...]


def registration_places(user: User) -> list[Place]:
    """Where `user` may register students: each service they work in with a clinical role."""
    memberships = user.memberships.filter(
        role__in=CLINICAL_ROLES, service__isnull=False
    ).select_related("service__organisation")
    today = timezone.localdate()
    agreements = list(
        DataSharingAgreement.objects.filter(agreement_in_force(today)).prefetch_related(
            "organisations"
        )
    )
    places: dict[int, Place] = {}
    for membership in memberships:
        service = cast(Service, membership.service)  # filtered above
        own = service.organisation
        universities = [own] if own.kind == Organisation.Kind.UNIVERSITY else []
        for agreement in agreements:
            if "identity" not in agreement.categories or "direct_care" not in agreement.purposes:
                continue
            members = list(agreement.organisations.all())
            if own not in members:
                continue
            universities += [
                o
                for o in members
                if o.kind == Organisation.Kind.UNIVERSITY and o not in universities
            ]
        if universities:
            places[service.pk] = Place(service, tuple(sorted(universities, key=lambda o: o.name)))
    return sorted(places.values(), key=lambda p: p.service.name)


@dataclass(frozen=True)
class StudentDetails:
    """What a member of staff records at registration (checked by the form)."""

    student_number: str
    legal_given_name: str
    legal_family_name: str
    date_of_birth: dt.date
    nhs_number: str = ""
    preferred_name: str = ""
    pronouns: str = ""
    email: str = ""
    phone: str = ""
    gp_practice: Organisation | None = None
    is_not_gp_registered: bool = False

    def identity(self, university: Organisation) -> Identity:
        return Identity(
            university_id=university.pk,
            student_number=self.student_number,
            nhs_number=self.nhs_number,
            legal_given_name=self.legal_given_name,
            legal_family_name=self.legal_family_name,
            date_of_birth=self.date_of_birth,
        )


@dataclass(frozen=True)
class Found:
    """An existing record that may be the student being registered. `student` is set only
    when the user may read that student's whole identity; otherwise the page says only what
    matched, never whose record it is."""

    duplicate: Duplicate
    student: Student | None
    university: Organisation

    @property
    def blocks(self) -> bool:
        """A student number is unique at a university: that match cannot be waved through."""
        return Match.STUDENT_NUMBER in self.duplicate.matches

    @property
    def matches(self) -> list[Match]:
        """What matched, strongest first."""
        return [m for m in MATCH_ORDER if m in self.duplicate.matches]


@dataclass
class PossibleDuplicatesError(Exception):
    """Records that may be this student already. The registration waits until the user says
    the student is a different person (never possible for a student number already used)."""

    found: list[Found] = field(default_factory=list)
    # The existing records, to audit what the warning says of each (shown or withheld).
    records: list[Student] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        return any(f.blocks for f in self.found)

    @property
    def withheld(self) -> bool:
        """Whether the warning names a record without saying whose."""
        return any(f.student is None for f in self.found)


def find_duplicates(user: User, details: StudentDetails, university: Organisation) -> list[Found]:
    """Existing records that may be the student being registered, hub-wide: the same NHS
    number, the same student number at `university`, or the same legal name and date of
    birth (`rules.likely_duplicates`). Three queries, each on indexes."""
    # Each part on an index (an `iexact` would scan every student): numbers are kept as
    # typed, so the usual spellings are asked for, and the rule compares without case.
    number = details.student_number.strip()
    spellings = {number, number.upper(), number.lower()}
    wanted = Q(date_of_birth=details.date_of_birth) | Q(
        university=university, student_number__in=spellings
    )
    if details.nhs_number:
        wanted |= Q(nhs_number=details.nhs_number)
    candidates = {s.pk: s for s in Student.objects.filter(wanted).select_related("university")}
    duplicates = likely_duplicates(
        details.identity(university),
        [
            Identity(
                university_id=s.university_id,
                student_number=s.student_number,
                nhs_number=s.nhs_number,
                legal_given_name=s.legal_given_name,
                legal_family_name=s.legal_family_name,
                date_of_birth=s.date_of_birth,
                key=s.pk,
            )
            for s in candidates.values()
        ],
    )
    readable = set(
        readable_students(
            user, "identity", bases=FULL_IDENTITY_BASES, among=[d.key for d in duplicates]
        ).values_list("pk", flat=True)
    )
    return [
        Found(
            duplicate,
            candidates[duplicate.key] if duplicate.key in readable else None,
            candidates[duplicate.key].university,
        )
        for duplicate in duplicates
    ]


def register_student(
    *,
    actor: User,
    service: Service,
    university: Organisation,
    details: StudentDetails,
    reason: str,
    confirmed_different: bool = False,
    request: HttpRequest | None = None,
) -> tuple[Student, Referral]:
    """Register a student who came to `service` (a walk-in), at `university`, and record
    their self-referral to the service, received at once: the referral opens the service's
    care relationship with them, which ends when the referral does.

    Raises `PossibleDuplicatesError` when a record may be this student already, unless
    `confirmed_different` (never for a student number already used at the university);
    `ValidationError` for details that do not pass the record's checks; `PermissionDenied`
    when `actor` may not register students of `university` for `service`.
    """
    place = next((p for p in registration_places(actor) if p.service == service), None)
    if place is None or university not in place.universities:
        raise PermissionDenied
    found = find_duplicates(actor, details, university)
    if found and (not confirmed_different or any(f.blocks for f in found)):
        records = list(
            Student.objects.filter(pk__in=[f.duplicate.key for f in found]).select_related(
                "university"
            )
        )
        raise PossibleDuplicatesError(found, records)
    student = Student(
        university=university,
        student_number=details.student_number,
        nhs_number=details.nhs_number,
        legal_given_name=details.legal_given_name,
        legal_family_name=details.legal_family_name,
        preferred_name=details.preferred_name,
        pronouns=details.pronouns,
        date_of_birth=details.date_of_birth,
        email=details.email,
        phone=details.phone,
        gp_practice=details.gp_practice,
        is_not_gp_registered=details.is_not_gp_registered,
    )
    student.full_clean(exclude=["user", "department"])
    try:
        with transaction.atomic():
            student.save()
            append(
                [
                    entry_for(
                        "people.student.registered",
                        actor,
                        student,
                        category="identity",
                        service=service,
                        reason=f"Registered at {university} by {service}"
                        + (" (told of a possible duplicate: a different person)" if found else ""),
                        request=request,
                    )
                ]
            )
            referral = create_referral(
                actor=actor,
                student=student,
                to_service=service,
                source=Referral.Source.SELF,
                reason=reason,
                request=request,
            )
    except IntegrityError as error:
        # Someone registered the same number at this university a moment ago.
        raise ValidationError(
            {"student_number": _("This student number has just been used at %(university)s.")
             % {"university": university.name}}
        ) from error  # fmt: skip
    return student, referral
