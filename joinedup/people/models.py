"""Organisations, their services and departments, the staff who work in them, and students."""

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from joinedup.people.rules import SearchTerms, parse_search
from joinedup.people.validators import (
    normalise_nhs_number,
    normalise_postcode,
    validate_nhs_number,
    validate_ods_code,
    validate_postcode,
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in: a member of staff (with memberships) or a student."""

    username = None
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    def __str__(self):
        return self.get_full_name() or self.email

    @property
    def is_student(self) -> bool:
        return hasattr(self, "student_record")


class Organisation(models.Model):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("University")
        NHS_TRUST = "nhs_trust", _("NHS trust")
        GP_PRACTICE = "gp_practice", _("GP practice")
        THIRD_SECTOR = "third_sector", _("Third sector")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ods_code = models.CharField(
        _("ODS code"), max_length=6, blank=True, validators=[validate_ods_code]
    )
    data_protection_email = models.EmailField(
        _("data protection contact"),
        blank=True,
        help_text=_("Told of every emergency override of the access policy."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"], condition=~Q(ods_code=""), name="unique_ods_code"
            )
        ]

    def __str__(self):
        return self.name


class Service(models.Model):
    class Kind(models.TextChoices):
        WELLBEING = "wellbeing", _("Wellbeing")
        COUNSELLING = "counselling", _("Counselling")
        DISABILITY = "disability", _("Disability")
        CRISIS = "crisis", _("Crisis")
        TALKING_THERAPIES = "talking_therapies", _("NHS Talking Therapies")
        COMMUNITY_MENTAL_HEALTH = "community_mental_health", _("Community mental health")
        STUDENT_LIAISON = "student_liaison", _("Student liaison")
        GENERAL_PRACTICE = "general_practice", _("General practice")
        THIRD_SECTOR = "third_sector", _("Third sector")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    waiting_standard_days = models.PositiveIntegerField(
        _("waiting-time standard (days)"),
        null=True,
        blank=True,
        help_text=_("Days from referral to first contact that the service aims for."),
    )

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self):
        return self.name


class Department(models.Model):
    """An academic department of a university (personal tutors and course leads)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        models.PROTECT,
        related_name="departments",
        limit_choices_to={"kind": Organisation.Kind.UNIVERSITY},
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", _("Practitioner")
    TRIAGE = "triage", _("Triage / duty")
    LIAISON = "liaison", _("Liaison")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    ACADEMIC = "academic", _("Academic")
    ORG_ADMIN = "org_admin", _("Organisation admin")
    RESEARCHER = "researcher", _("Researcher")


CLINICAL_ROLES = frozenset({Role.PRACTITIONER, Role.TRIAGE, Role.LIAISON})


class Membership(models.Model):
    """A member of staff's role in one service, department or (for admins) organisation."""

    user = models.ForeignKey(User, models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="memberships")
    service = models.ForeignKey(
        Service, models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=True) | Q(department__isnull=True),
                name="membership_service_or_department",
            ),
            models.UniqueConstraint(
                fields=["user", "organisation", "service", "department", "role"],
                name="unique_membership",
            ),
        ]

    def __str__(self):
        place = self.service or self.department or self.organisation
        return f"{self.user} — {self.get_role_display()}, {place}"


class StudentQuerySet(models.QuerySet["Student"]):
    def search(self, text: str) -> "StudentQuerySet":
        """The students a search box's text asks for (`rules.parse_search`): none when the
        text cannot be searched for as it is (the page says why)."""
        if not text.strip():
            return self
        return self.matching(parse_search(text))

    def matching(self, terms: SearchTerms, *, identifiers: bool = True) -> "StudentQuerySet":
        """The students matching every part of `terms`. With `identifiers=False` the NHS
        number and date of birth are never compared (for readers of names and numbers only):
        digits then match the student number alone, and a date of birth matches no one."""
        if terms.problem is not None or terms.is_empty:
            return self.none()
        if not identifiers and terms.date_of_birth is not None:
            return self.none()
        condition = Q()
        for word in terms.names:
            condition &= _name_word(word)
        for number in terms.numbers:
            condition &= Q(student_number__icontains=number)
        if terms.digits:
            digits = Q(student_number__contains=terms.digits)
            if identifiers:
                digits |= Q(nhs_number__contains=terms.digits)
            condition &= digits
        if terms.date_of_birth is not None:
            condition &= Q(date_of_birth=terms.date_of_birth)
        return self.filter(condition)


def _name_word(word: str) -> Q:
    """A word that begins one of the student's names, or a later part of one ("jo" finds
    Jo, Joanna and Mary-Jo; "morgan" finds Morgan and Lloyd Morgan)."""
    condition = Q()
    for field in ("preferred_name", "legal_given_name", "legal_family_name"):
        condition |= (
            Q(**{f"{field}__istartswith": word})
            | Q(**{f"{field}__icontains": f" {word}"})
            | Q(**{f"{field}__icontains": f"-{word}"})
        )
    return condition


_StudentManagerBase = models.Manager.from_queryset(StudentQuerySet)


class StudentManager(_StudentManagerBase):
    """Current records: a record merged into another (a tombstone, kept so that the audit
    entries naming it still resolve) is never listed, found or counted."""

    def get_queryset(self) -> StudentQuerySet:
        return super().get_queryset().filter(merged_into__isnull=True)


class Student(models.Model):
    class Language(models.TextChoices):
        # As settings.LANGUAGES, each named in its own language.
        ENGLISH = "en-gb", "English"
        WELSH = "cy", "Cymraeg"

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non_binary", _("Non-binary")
        OTHER = "other", _("In another way")
        NOT_SAID = "not_said", _("Prefer not to say")

    class EthnicityGroup(models.TextChoices):
        # The five broad groups of the 2021 census in England and Wales.
        ASIAN = "asian", _("Asian or Asian British")
        BLACK = "black", _("Black, Black British, Caribbean or African")
        MIXED = "mixed", _("Mixed or multiple ethnic groups")
        WHITE = "white", _("White")
        OTHER = "other", _("Other ethnic group")
        NOT_SAID = "not_said", _("Prefer not to say")

    class YesNoUnknown(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        NOT_SAID = "not_said", _("Prefer not to say")

    class SexualOrientation(models.TextChoices):
        HETEROSEXUAL = "heterosexual", _("Heterosexual or straight")
        GAY_LESBIAN = "gay_lesbian", _("Gay or lesbian")
        BISEXUAL = "bisexual", _("Bisexual")
        OTHER = "other", _("Another orientation")
        NOT_SAID = "not_said", _("Prefer not to say")

    class LevelOfStudy(models.TextChoices):
        FOUNDATION = "foundation", _("Foundation")
        UNDERGRADUATE = "undergraduate", _("Undergraduate")
        TAUGHT_POSTGRADUATE = "pgt", _("Taught postgraduate")
        RESEARCH_POSTGRADUATE = "pgr", _("Research postgraduate")

    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        INTERRUPTED = "interrupted", _("Interrupted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        GRADUATED = "graduated", _("Graduated")

    class TrustedContactPermission(models.TextChoices):
        NOT_ASKED = "not_asked", _("Not answered yet")
        NEVER = "never", _("Never contact them")
        SERIOUS_CONCERN = (
            "serious_concern",
            _("Contact them if there is a serious concern for my safety"),
        )
        ASK_ME_FIRST = "ask_me_first", _("Ask me first, unless I cannot be reached")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        User, models.SET_NULL, null=True, blank=True, related_name="student_record"
    )
    university = models.ForeignKey(
        Organisation,
        models.PROTECT,
        related_name="students",
        limit_choices_to={"kind": Organisation.Kind.UNIVERSITY},
    )
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, blank=True, related_name="students"
    )
    legal_given_name = models.CharField(_("legal given name"), max_length=100)
    legal_family_name = models.CharField(_("legal family name"), max_length=100)
    preferred_name = models.CharField(
        _("preferred name"), max_length=100, blank=True, help_text=_("Shown everywhere.")
    )
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    # Blank only on a pending record: someone who referred themselves without knowing it.
    student_number = models.CharField(_("student number"), max_length=20, blank=True)
    nhs_number = models.CharField(
        _("NHS number"), max_length=10, blank=True, validators=[validate_nhs_number]
    )
    # NHS England's verification status of the number (01 verified against PDS, 02 present
    # but not traced, …), as the partner system that sent it said; blank when unknown.
    nhs_number_status = models.CharField(max_length=2, blank=True)
    gp_practice = models.ForeignKey(
        Organisation,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="registered_students",
        limit_choices_to={"kind": Organisation.Kind.GP_PRACTICE},
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ENROLLED)
    is_international = models.BooleanField(_("international student"), default=False)
    is_not_gp_registered = models.BooleanField(_("not registered with a GP"), default=False)
    term_postcode = models.CharField(
        _("term-time postcode"), max_length=8, blank=True, validators=[validate_postcode]
    )
    home_postcode = models.CharField(
        _("home postcode"), max_length=8, blank=True, validators=[validate_postcode]
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    trusted_contact_name = models.CharField(_("trusted contact"), max_length=100, blank=True)
    trusted_contact_relationship = models.CharField(max_length=60, blank=True)
    trusted_contact_phone = models.CharField(max_length=30, blank=True)
    trusted_contact_permission = models.CharField(
        _("when the university may contact them"),
        max_length=20,
        choices=TrustedContactPermission.choices,
        default=TrustedContactPermission.NOT_ASKED,
    )
    # Equality monitoring (`shared/spec/evaluation.md`, "Equity"): blank means not recorded.
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    ethnicity_group = models.CharField(
        _("ethnicity group"), max_length=20, choices=EthnicityGroup.choices, blank=True
    )
    disability = models.CharField(max_length=20, choices=YesNoUnknown.choices, blank=True)
    first_in_family = models.CharField(
        _("first in family to attend university"),
        max_length=20,
        choices=YesNoUnknown.choices,
        blank=True,
    )
    care_experienced = models.CharField(
        _("care experienced"), max_length=20, choices=YesNoUnknown.choices, blank=True
    )
    sexual_orientation = models.CharField(
        _("sexual orientation"), max_length=20, choices=SexualOrientation.choices, blank=True
    )
    level_of_study = models.CharField(
        _("level of study"), max_length=20, choices=LevelOfStudy.choices, blank=True
    )
    year_of_study = models.PositiveSmallIntegerField(_("year of study"), null=True, blank=True)
    # Recorded from the NHS partner: the student's records are left out of research
    # extracts of NHS-sourced data.
    national_data_opt_out = models.BooleanField(_("national data opt-out"), default=False)
    # The language of their pages, emails and texts; blank until they choose (their pages then
    # follow the browser, and what is sent to them is in English).
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    notify_new_access = models.BooleanField(
        _("tell me the first time a new service opens my record"), default=False
    )
    notify_break_glass = models.BooleanField(
        _("tell me whenever emergency access is used"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the record last changed (every save writes it, a partial one too): a partner
    # keeping a copy asks for what changed since it last looked (FHIR `_lastUpdated`).
    changed_at = models.DateTimeField(auto_now=True)
    # A record merged into another stays as a tombstone pointing to the one kept: the audit
    # log names students for ever (it is append-only), so its entries must still resolve.
    merged_into = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_records",
        db_index=False,  # `student_tombstones` below: an index of the few that are set
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Someone not yet registered who referred themselves through a service's public form
    # (`referrals.selfreferral`): the details are as they typed them, until the service's
    # triage confirms the record (or confirms them as a student already registered).
    is_pending = models.BooleanField(
        _("self-referred, not yet confirmed"), default=False, editable=False
    )

    # When the identity was erased, once every organisation's retention had passed
    # (`governance.retention.Identities`): the row stays, so that what reports count and the
    # audit log still name a student, but nobody in particular.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StudentManager()
    # Every row, tombstones too: for merging, and for following an old link to the record kept.
    records = StudentQuerySet.as_manager()

    class Meta:
        ordering = ["preferred_name", "legal_family_name"]
        constraints = [
            # A tombstone gives its number back: another student may be given it.
            # A pending record does not claim its number until it is confirmed: a stranger
            # typing a registered student's number must learn nothing from the form.
            models.UniqueConstraint(
                fields=["university", "student_number"],
                condition=Q(merged_into__isnull=True, is_pending=False),
                name="unique_student_number",
                violation_error_message=_(
                    "A student with this student number is already registered at this university."
                ),
            ),
            models.CheckConstraint(
                condition=Q(is_pending=True) | ~Q(student_number=""),
                name="student_confirmed_has_number",
                violation_error_message=_("Give the student number."),
            ),
        ]
        indexes = [
            models.Index(fields=["student_number"]),
            # Finding a student by NHS number or date of birth, and the duplicate check at
            # registration (same NHS number; same name and date of birth), hub-wide.
            models.Index(fields=["nhs_number"], name="student_nhs_number"),
            models.Index(fields=["date_of_birth"], name="student_date_of_birth"),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="student_tombstones",
            ),
        ]

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "changed_at"}
        super().save(*args, **kwargs)

    def in_own_language(self) -> translation.override:
        """`with student.in_own_language():` words what is sent to them in the language they
        chose (English until they choose)."""
        return translation.override(self.language or Student.Language.ENGLISH)

    @property
    def display_name(self) -> str:
        """The name shown everywhere: the preferred name with the family name."""
        return f"{self.preferred_name or self.legal_given_name} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_given_name} {self.legal_family_name}"

    @property
    def is_merged(self) -> bool:
        """Whether this record is a tombstone, merged into another."""
        return self.merged_into_id is not None

    def clean_fields(self, exclude=None):
        # Normalise before the field checks, so "943 476 5919" meets max_length as 10 digits.
        self.nhs_number = normalise_nhs_number(self.nhs_number)
        self.term_postcode = normalise_postcode(self.term_postcode)
        self.home_postcode = normalise_postcode(self.home_postcode)
        super().clean_fields(exclude=exclude)


class Notification(models.Model):
    """A message to a student in their portal (and by email): who opened their record."""

    student = models.ForeignKey(Student, models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.text
