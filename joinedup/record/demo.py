"""A deterministic demo hub: two universities, an NHS trust, GP practices, a charity,
about 300 students with varied consents and care relationships, and one login per role."""

import datetime as dt
import random
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone
from nhs_number import REGION_SYNTHETIC
from nhs_number import generate as generate_nhs_numbers

from joinedup.consent.models import (
    AgreementSide,
    CareRelationship,
    ConsentGrant,
    DataSharingAgreement,
)
from joinedup.evaluation.demo import add_demo_year
from joinedup.feedback.demo import add_demo_feedback
from joinedup.governance.demo import add_demo_overrides
from joinedup.measures.demo import add_demo_measures, add_story_measures
from joinedup.messaging.demo import add_demo_messages
from joinedup.people.demo import (
    FAMILY,
    GIVEN,
    INTERNATIONAL,
    equality_answers,
    study_and_birth,
)
from joinedup.people.models import Department, Membership, Organisation, Service, Student, User
from joinedup.record.models import LetterTemplate, NoteTemplate, RecordEntry
from joinedup.record.my_day.demo import add_demo_days
from joinedup.referrals.demo import add_demo_referrals
from joinedup.referrals.directory_demo import add_directory_entries
from joinedup.referrals.models import Episode
from joinedup.referrals.selfreferral.demo import add_demo_self_referrals
from joinedup.reminders.demo import add_demo_reminders
from joinedup.risk.demo import add_demo_risk

DEMO_PASSWORD = "joinedup-demo"  # noqa: S105 - printed for people trying the demo
DEMO_TOTP_SECRET = "JOINEDUPDEMOTOTPSECRETXYZ234567A"  # noqa: S105
SEED = 2026

PREFERRED = ["Jo", "Alex", "Sunny", "Max", "Robin", "Charlie"]
PRONOUNS = ["she/her", "he/him", "they/them", ""]
POSTCODES = ["LS2 9JT", "M13 9PL", "BS8 1TH", "L69 3BX", "S10 2TN", "NE1 7RU"]

RISK_TEXT = (
    "Reports low mood for three months and passive thoughts of not wanting to be here, "
    "no plan or intent. Protective factors: close friend, sister, wants to finish the degree."
)
ASSESSMENT_TEXT = (
    "In my own words: things got hard after my grandad died in the first term. I stopped "
    "going to lectures and sleep badly. I have tried the GP and a self-help app. I want to "
    "talk to someone regularly and to sort out my deadlines."
)


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    organisation: str
    service: str


def build_demo_hub(students_per_university: int = 150) -> list[Login]:
    """Create the demo hub in one transaction; the same every time."""
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    with transaction.atomic():
        hub = _organisations()
        logins = _staff(hub)
        add_directory_entries(hub)
        _students(hub, rng, students_per_university)
        _story_student(hub)
        add_demo_risk(hub, rng)
        add_demo_referrals(hub, rng)
        add_demo_days(hub)
        add_demo_self_referrals(hub)
        add_demo_feedback(hub, rng)
        add_demo_reminders(hub, rng)
        # After the steps that read portal accounts: it gives a few students one.
        add_demo_messages(hub, Student.objects.get(user__email="student@demo.joinedup.example"))
        add_demo_overrides(hub)
        # A year of finished care for reports, on its own random stream and after every step
        # that reads the students in care, which it leaves as they were.
        year = random.Random(SEED + 2)  # noqa: S311 - repeatable demo data
        numbers = iter(_synthetic_nhs_numbers(random.Random(SEED + 3), 1000))  # noqa: S311
        add_demo_year(hub, year, students_per_university, numbers)
    return logins


def demo_logins() -> list[Login]:
    """The logins of a hub already loaded."""
    rows = []
    for user in User.objects.filter(email__endswith="@demo.joinedup.example").order_by("pk"):
        membership = user.memberships.select_related(
            "organisation", "service", "department"
        ).first()
        if membership:
            place = membership.service or membership.department or membership.organisation
            rows.append(
                Login(membership.role, user.email, membership.organisation.name, str(place))
            )
        elif hasattr(user, "student_record"):
            rows.append(Login("student", user.email, user.student_record.university.name, "—"))
    return rows


def _organisations() -> dict:
    hub: dict = {}
    for key, name in [("north", "University of Northbridge"), ("south", "Southgate University")]:
        uni = Organisation.objects.create(
            name=name, kind="university",
            data_protection_email=f"dpo@{key}.demo.joinedup.example",
        )  # fmt: skip
        hub[key] = uni
        hub[f"{key}_wellbeing"] = Service.objects.create(
            organisation=uni, name=f"{name.split()[-1]} Wellbeing Service", kind="wellbeing",
            waiting_standard_days=10,
        )  # fmt: skip
        hub[f"{key}_counselling"] = Service.objects.create(
            organisation=uni, name=f"{name.split()[-1]} Counselling Service",
            kind="counselling", waiting_standard_days=21,
        )  # fmt: skip
        hub[f"{key}_disability"] = Service.objects.create(
            organisation=uni, name=f"{name.split()[-1]} Disability Service", kind="disability"
        )
    hub["north_history"] = Department.objects.create(organisation=hub["north"], name="History")
    hub["north_computing"] = Department.objects.create(
        organisation=hub["north"], name="Computer Science"
    )
    hub["south_nursing"] = Department.objects.create(organisation=hub["south"], name="Nursing")
    hub["south_law"] = Department.objects.create(organisation=hub["south"], name="Law")
    trust = Organisation.objects.create(
        name="Northbridge and Southgate NHS Foundation Trust", kind="nhs_trust", ods_code="RX4",
        data_protection_email="dpo@trust.demo.joinedup.example",
    )  # fmt: skip
    hub["trust"] = trust
    for key, name, kind, days in [
        ("crisis", "Crisis Team", "crisis", 1),
        ("talking", "NHS Talking Therapies", "talking_therapies", 42),
        ("cmht", "Community Mental Health Team", "community_mental_health", 28),
        ("liaison", "Student Liaison Service", "student_liaison", 14),
    ]:
        hub[key] = Service.objects.create(
            organisation=trust, name=name, kind=kind, waiting_standard_days=days
        )
    hub["gps"] = [
        Organisation.objects.create(name="Riverside Medical Practice", kind="gp_practice",
                                    ods_code="B82005"),
        Organisation.objects.create(name="University Health Centre", kind="gp_practice",
                                    ods_code="B82018"),
    ]  # fmt: skip
    charity = Organisation.objects.create(name="Mind in Northbridge", kind="third_sector")
    hub["charity"] = Service.objects.create(
        organisation=charity, name="Student Peer Support", kind="third_sector"
    )
    clinical = ["identity", "registration", "engagement", "assessment", "outcomes", "risk",
                "discharge"]  # fmt: skip
    for uni in (hub["north"], hub["south"]):
        agreement = DataSharingAgreement.objects.create(
            title=f"{uni.name} and NHS student mental health partnership",
            lawful_basis="public_task", condition="health_care",
            categories=clinical, purposes=["direct_care"], starts_on=dt.date(2024, 9, 1),
            # Its yearly review falls due within the month: the admins are reminded.
            review_on=timezone.localdate() + dt.timedelta(days=20),
        )  # fmt: skip
        agreement.organisations.set(
            [uni, trust],
            through_defaults={
                "active": True,
                "signatory": "Named Caldicott Guardian of each organisation",
            },
        )
        charity_agreement = DataSharingAgreement.objects.create(
            title=f"{uni.name} and Mind peer support", categories=["identity", "engagement"],
            lawful_basis="public_task", condition="health_care",
            purposes=["direct_care"], starts_on=dt.date(2025, 1, 1),
            review_on=dt.date(2027, 9, 1),
        )  # fmt: skip
        charity_agreement.organisations.set(
            [uni, charity],
            through_defaults={
                "active": True,
                "signatory": "Data protection officer of each organisation",
            },
        )
    # Who signed each side, as each activation records.
    for organisation, signatory in SIGNATORIES.items():
        AgreementSide.objects.filter(organisation__name=organisation).update(signatory=signatory)
    return hub


SIGNATORIES = {
    "University of Northbridge": "Dr Helen Ward, Caldicott Guardian",
    "Southgate University": "Prof. Amir Khan, Senior Information Risk Owner",
    "Northbridge and Southgate NHS Foundation Trust": "Dr Ruth Adeyemi, Caldicott Guardian",
    "Mind in Northbridge": "Sam Lewis, Chief Executive",
}

STAFF = [
    ("practitioner", "practitioner", "north", "north_wellbeing", None, "Priya", "Shah"),
    ("counsellor", "practitioner", "north", "north_counselling", None, "Colin", "Reid"),
    ("nhs-clinician", "practitioner", "trust", "crisis", None, "Cara", "Mensah"),
    ("triage", "triage", "trust", "talking", None, "Tom", "Fletcher"),
    ("liaison", "liaison", "trust", "liaison", None, "Lee", "Okoro"),
    ("service-manager", "service_manager", "north", "north_wellbeing", None, "Sam", "Price"),
    ("academic", "academic", "north", None, "north_history", "Anna", "Kowalski"),
    ("org-admin", "org_admin", "north", None, None, "Oscar", "Hart"),
    ("nhs-admin", "org_admin", "trust", None, None, "Nadia", "Begum"),
    ("researcher", "researcher", "north", None, None, "Rita", "Gomez"),
]


def _staff(hub) -> list[Login]:
    logins = []
    for handle, role, org, service, department, first, last in STAFF:
        user = User.objects.create_user(
            f"{handle}@demo.joinedup.example", DEMO_PASSWORD, first_name=first, last_name=last
        )
        membership = Membership.objects.create(
            user=user, organisation=hub[org], role=role,
            service=hub[service] if service else None,
            department=hub[department] if department else None,
        )  # fmt: skip
        TOTP.activate(user, DEMO_TOTP_SECRET)
        place = membership.service or membership.department or membership.organisation
        logins.append(Login(role, user.email, hub[org].name, str(place)))
    return logins


def _students(hub, rng: random.Random, per_university: int) -> None:
    now = timezone.now()
    equality = random.Random(SEED + 1)  # noqa: S311 - its own stream: the rest stays as it was
    recorder = User.objects.get(email="practitioner@demo.joinedup.example")
    nhs_numbers = iter(_synthetic_nhs_numbers(rng, 2 * per_university))
    students, relationships, grants, entries = [], [], [], []
    gps = hub["gps"]
    for key, departments in [("north", ["north_history", "north_computing"]),
                             ("south", ["south_nursing", "south_law"])]:  # fmt: skip
        for n in range(per_university):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            international = rng.random() < INTERNATIONAL
            students.append(Student(
                **equality_answers(equality, international=international),
                **study_and_birth(equality, international=international, today=now.date()),
                university=hub[key], department=hub[rng.choice(departments)],
                legal_given_name=given, legal_family_name=family,
                preferred_name=rng.choice(PREFERRED) if rng.random() < 0.15 else "",
                pronouns=rng.choice(PRONOUNS),
                student_number=f"{key[0].upper()}{2400000 + n}",
                nhs_number=next(nhs_numbers) if rng.random() < 0.75 else "",
                gp_practice=None if international and rng.random() < 0.5 else gps[n % 2],
                is_international=international,
                is_not_gp_registered=international and rng.random() < 0.5,
                status=rng.choices(["enrolled", "interrupted", "withdrawn"], [90, 7, 3])[0],
                term_postcode=rng.choice(POSTCODES), home_postcode=rng.choice(POSTCODES),
                email=f"{given.lower()}.{family.lower()}{n}@{key}.demo.joinedup.example",
            ))  # fmt: skip
    Student.objects.bulk_create(students, batch_size=500)
    students = list(Student.objects.select_related("university").order_by("pk"))
    for student in students:
        key = "north" if student.university_id == hub["north"].pk else "south"
        roll = rng.random()
        services = []
        if roll < 0.55:
            services.append(hub[f"{key}_wellbeing"])
        if 0.3 < roll < 0.5:
            services.append(hub[f"{key}_counselling"])
        if 0.45 < roll < 0.6:
            services.append(hub["talking"])
        if 0.58 < roll < 0.62:
            services.append(hub["crisis"])
        if 0.6 < roll < 0.66:
            services.append(hub["charity"])
        for service in services:
            opened = now - dt.timedelta(days=rng.randrange(3, 200))
            ended = rng.random() < 0.1
            relationships.append(CareRelationship(
                student=student, service=service, reason="episode", opened_at=opened,
                # Ended within sixty days of opening, and never later than yesterday.
                closed_at=min(opened + dt.timedelta(days=60), now - dt.timedelta(days=1))
                if ended
                else None,
                ended_because="episode_ended" if ended else "",
            ))  # fmt: skip
            if service.organisation_id != student.university_id and rng.random() < 0.6:
                for category in ("assessment", "risk"):
                    grants.append(_grant(student, category, recorder, service=service))
        if rng.random() < 0.3:
            grants.append(_grant(student, "engagement", recorder, department=student.department,
                                 purpose="academic_support"))  # fmt: skip
        if rng.random() < 0.15:
            grants.append(
                _grant(
                    student,
                    "adjustments",
                    recorder,
                    department=student.department,
                    purpose="academic_support",
                )
            )
        if services and rng.random() < 0.5:
            entries.append(RecordEntry(student=student, category="assessment", service=services[0],
                                       author=recorder, title="Shared assessment",
                                       body=ASSESSMENT_TEXT))  # fmt: skip
        if services and rng.random() < 0.25:
            entries.append(
                RecordEntry(
                    student=student,
                    category="risk",
                    service=services[0],
                    author=recorder,
                    title="Risk summary",
                    body=RISK_TEXT,
                )
            )
    CareRelationship.objects.bulk_create(relationships, batch_size=500)
    ConsentGrant.objects.bulk_create(grants, batch_size=500)
    RecordEntry.objects.bulk_create(entries, batch_size=500)
    add_demo_measures(hub, relationships, rng, recorder)


def _grant(student, category, recorder, *, service=None, department=None,
           purpose="direct_care") -> ConsentGrant:  # fmt: skip
    return ConsentGrant(
        student=student, category=category, purpose=purpose, how_given="portal",
        recipient_service=service, recipient_department=department, recorded_by=recorder,
    )  # fmt: skip


def _synthetic_nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """NHS numbers from the range reserved for test data (999…), never a real person's."""
    random.seed(rng.random())
    return [str(n) for n in generate_nhs_numbers(for_region=REGION_SYNTHETIC, quantity=count)]


def _story_student(hub) -> None:
    """One student with a full story, and the demo student login, for a guided tour."""
    user = User.objects.create_user("student@demo.joinedup.example", DEMO_PASSWORD,
                                    first_name="Jo", last_name="Morgan")  # fmt: skip
    student = Student.objects.create(
        user=user, university=hub["north"], department=hub["north_history"],
        legal_given_name="Joanna", legal_family_name="Morgan", preferred_name="Jo",
        pronouns="they/them", date_of_birth=dt.date(2004, 3, 14), student_number="N2499999",
        nhs_number="9990000018", gp_practice=hub["gps"][1], term_postcode="LS2 9JT",
        home_postcode="BS8 1TH", email="student@demo.joinedup.example",
        gender="non_binary", ethnicity_group="white", disability="no", first_in_family="yes",
        care_experienced="no", sexual_orientation="bisexual", level_of_study="undergraduate",
        year_of_study=2,
    )  # fmt: skip
    practitioner = User.objects.get(email="practitioner@demo.joinedup.example")
    clinician = User.objects.get(email="nhs-clinician@demo.joinedup.example")
    now = timezone.now()
    relationship = CareRelationship.objects.create(
        student=student,
        service=hub["north_wellbeing"],
        reason="episode",
        opened_at=now - dt.timedelta(days=40),
    )
    episode = Episode.objects.create(
        student=student,
        service=hub["north_wellbeing"],
        relationship=relationship,
        started_at=relationship.opened_at,
    )
    add_story_measures(episode, practitioner)
    CareRelationship.objects.create(student=student, service=hub["crisis"], reason="referral",
                                    opened_at=now - dt.timedelta(days=3))  # fmt: skip
    RecordEntry.objects.create(student=student, category="assessment",
                               service=hub["north_wellbeing"], author=practitioner,
                               title="Shared assessment", body=ASSESSMENT_TEXT)  # fmt: skip
    RecordEntry.objects.create(
        student=student,
        category="risk",
        service=hub["north_wellbeing"],
        author=practitioner,
        title="Risk summary",
        body=RISK_TEXT,
    )
    add_story_notes(hub, student, practitioner, now)
    RecordEntry.objects.create(
        student=student,
        category="risk",
        service=hub["crisis"],
        author=clinician,
        title="Crisis contact",
        body="Seen by the Crisis Team out of hours; safe to go home.",
    )
    ConsentGrant.objects.create(student=student, category="assessment", purpose="direct_care",
                                how_given="portal", recipient_organisation=hub["trust"],
                                recorded_by=user)  # fmt: skip
    ConsentGrant.objects.create(
        student=student,
        category="engagement",
        purpose="academic_support",
        how_given="portal",
        recipient_department=hub["north_history"],
        recorded_by=user,
    )


NOTE_TEMPLATES = [
    ("Session note", "session",
     "Presenting:\nWhat we worked on:\nRisk (any change):\nPlan and next session:"),
    ("Phone call", "phone", "Reason for the call:\nWhat was agreed:"),
    ("Missed appointment follow-up", "dna_follow_up",
     "How we tried to reach the student:\nOutcome:\nNext step:"),
]  # fmt: skip
LETTER_TEMPLATES = [
    ("appointment", "Appointment letter", """Dear {{ name }},
Your next appointment with {{ service }} is on {{ next_appointment }}.
{{ message }}
If you cannot come, please tell us so that we can offer the time to someone else.
Yours sincerely,"""),
    ("gp", "Letter to the GP", """Dear colleagues at {{ gp_practice }},
Re: {{ legal_name }}, born {{ date_of_birth }}
NHS number: {{ nhs_number }}
{{ name }} has been supported by {{ service }} since {{ care_started }}.
{{ message }}
Yours sincerely,"""),
    ("discharge", "Discharge letter", """Dear {{ name }},
Your time with {{ service }} has come to an end.
{{ message }}
You can refer yourself again at any time.
Yours sincerely,"""),
]  # fmt: skip
STORY_NOTES = [
    (35, "session", "First session",
     "Presenting: low mood since the first term, poor sleep, behind on two essays.\n"
     "Plan: weekly sessions; PHQ-9 and GAD-7 each time."),
    (28, "session", "Session note",
     "Worked on a sleep routine. Reviewed deadlines; Jo will ask History for an extension."),
    (24, "dna_follow_up", "Missed appointment follow-up",
     "Jo missed Tuesday's session. Reached by phone: overslept after a bad night; rebooked."),
    (14, "session", "Session note",
     "Sleep better most nights. Extension agreed. Passive thoughts less frequent; no plan."),
]  # fmt: skip


def add_story_notes(hub, student, practitioner, now) -> None:
    """Wellbeing's templates, and its signed notes of the story student's sessions (one
    corrected by an addendum), and a letter to their GP sent today."""
    from joinedup.record.services import send_letter

    wellbeing = hub["north_wellbeing"]
    for name, kind, body in NOTE_TEMPLATES:
        NoteTemplate.objects.create(service=wellbeing, name=name, contact_kind=kind, body=body)
    templates = {
        kind: LetterTemplate.objects.create(service=wellbeing, kind=kind, name=name, body=body)
        for kind, name, body in LETTER_TEMPLATES
    }
    notes = []
    for days, kind, title, body in STORY_NOTES:
        contact_at = (now - dt.timedelta(days=days)).replace(hour=11, minute=0)
        written = contact_at + dt.timedelta(hours=1)
        notes.append(RecordEntry.objects.create(
            student=student, category="notes", kind="note", service=wellbeing,
            author=practitioner, title=title, body=body, contact_kind=kind,
            contact_at=contact_at, created_at=written, updated_at=written,
            signed_at=written, signed_by=practitioner,
        ))  # fmt: skip
    corrected = notes[1]
    at = corrected.signed_at + dt.timedelta(days=1)
    RecordEntry.objects.create(
        student=student, category="notes", kind="addendum", service=wellbeing,
        author=practitioner, title=f"Addendum to {corrected.title}", amends=corrected,
        body="Correction: the extension is to be asked of History, not the Registry.",
        created_at=at, updated_at=at, signed_at=at, signed_by=practitioner,
    )  # fmt: skip
    send_letter(
        actor=practitioner, student=student, template=templates["gp"],
        recipient=f"The GP\n{student.gp_practice.name}" if student.gp_practice else "The GP",
        message="Jo's mood and sleep are improving; we would welcome your view on a "
        "medication review at their next GP appointment.",
    )  # fmt: skip


def accounts_beside_demo() -> int:
    """The accounts that are not the demo hub's, while it is not loaded: the demo logins
    share one published password and second factor, so they never join anyone else's."""
    if is_loaded():
        return 0
    return User.objects.exclude(email__endswith="@demo.joinedup.example").count()


def refusal(others: int) -> str:
    return (
        f"This database holds {others} account{'' if others == 1 else 's'} that "
        f"{'is' if others == 1 else 'are'} not the demo hub's. The demo logins "
        "share a published password and second factor, so the demo hub is loaded only into "
        "an empty database: point DATABASE_URL at a new one. Nothing was changed."
    )


def is_loaded() -> bool:
    return Authenticator.objects.filter(user__email__endswith="@demo.joinedup.example").exists()
