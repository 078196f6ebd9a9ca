"""Demo risk data: each service's own scale, assessments, and concerns in each state."""

import datetime as dt
import random

from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.people.models import Student, User
from joinedup.risk import rules
from joinedup.risk.levels import ensure_default_levels
from joinedup.risk.models import (
    Concern,
    ConcernMessage,
    Panel,
    PanelAction,
    PanelCase,
    PanelMember,
    ReturnToStudyPlan,
    RiskAssessment,
    RiskLevel,
    SafetyPlan,
    ServiceScale,
)

SCALES = {
    "crisis": ["Green", "Amber", "Red", "Red — immediate"],
    "talking": ["Routine", "Routine — review", "Urgent", "Emergency"],
    "north_counselling": ["1", "2", "3", "4"],
    "south_counselling": ["1", "2", "3", "4"],
}
FACTORS = [
    "Low mood and poor sleep before exams.",
    "Recent self-harm; lives alone.",
    "Money worries; has stopped attending.",
    "Relationship ended; drinking more.",
]


def add_demo_risk(hub, rng: random.Random) -> None:
    ensure_default_levels()
    levels = list(RiskLevel.objects.order_by("rank"))
    ServiceScale.objects.bulk_create(
        ServiceScale(service=hub[key], label=label, level=level)
        for key, labels in SCALES.items()
        for label, level in zip(labels, levels, strict=True)
    )
    author = User.objects.get(email="practitioner@demo.joinedup.example")
    now = timezone.now()
    relationships = list(
        CareRelationship.objects.open().filter(service=hub["north_wellbeing"]).order_by("pk")[:60]
    )
    assessments = []
    for relationship in relationships:
        ranks = {
            "self": rng.choices([1, 2, 3, 4], [40, 35, 20, 5])[0],
            "academic": rng.choice([1, 2, 3]),
        }
        top = rules.overall({d: levels[r - 1].as_rule() for d, r in ranks.items()})
        assessments.append(
            RiskAssessment(
                student_id=relationship.student_id,
                service=hub["north_wellbeing"],
                author=author,
                created_at=now - dt.timedelta(days=rng.randrange(1, 60)),
                domain_levels=ranks,
                level=levels[top.rank - 1],
                factors=rng.choice(FACTORS),
                protective_factors="Close friend; wants to finish the degree.",
                plan="Weekly sessions; safety plan shared; review at each session.",
                review_on=(now + dt.timedelta(days=rng.randrange(7, 30))).date(),
            )
        )
    RiskAssessment.objects.bulk_create(assessments)
    _concerns(hub, relationships, now)
    _story(hub, author, now)


def _story(hub, author, now) -> None:
    """The story student's safety plan, and a panel next week with their case on it."""
    student = Student.objects.get(student_number="N2499999")
    SafetyPlan.objects.create(
        student=student,
        service=hub["north_wellbeing"],
        updated_by=author,
        warning_signs="Not sleeping; skipping lectures; staying in my room.",
        things_that_help="Running by the river; music; calling my sister.",
        people_and_places="My sister Amy; the library café; the chaplaincy.",
        professional_contacts="Priya Shah, Northbridge Wellbeing Service, 0113 496 0100.",
        making_safer="Keep medication with my flatmate during exams.",
    )
    panel = Panel.objects.create(
        title="Northbridge and NHS complex cases",
        organiser=author,
        meets_at=now + dt.timedelta(days=7),
    )
    clinician = User.objects.get(email="nhs-clinician@demo.joinedup.example")
    PanelMember.objects.bulk_create(
        [
            PanelMember(panel=panel, user=author, service=hub["north_wellbeing"]),
            PanelMember(panel=panel, user=clinician, service=hub["crisis"]),
        ]
    )
    case = PanelCase.objects.create(
        panel=panel,
        student=student,
        service=hub["north_wellbeing"],
        added_by=author,
        summary="Crisis contact last week; exams in three weeks; wants to stay on the course.",
    )
    ReturnToStudyPlan.objects.create(
        student=student,
        nhs_service=hub["crisis"],
        university_service=hub["north_wellbeing"],
        support_agreed="Weekly Wellbeing sessions; Crisis Team follow-up call after a week.",
        who_does_what="Crisis Team: follow-up call. Wellbeing: weekly sessions and exam plan.",
        adjustments="Two-week extension on the history essay; a quiet room for exams.",
        review_on=(now + dt.timedelta(days=21)).date(),
        fit_to_study="disagreed",
        nhs_view="Return after one more week at home.",
        university_view="Return now on a reduced timetable, with weekly check-ins.",
        student_view="I want to go back for the seminars I enjoy first.",
        created_by=author,
    )
    PanelAction.objects.create(
        panel=panel,
        case=case,
        owner=author,
        description="Agree exam adjustments with the History department",
        due_on=(now + dt.timedelta(days=10)).date(),
    )


def _concerns(hub, relationships, now) -> None:
    academic = User.objects.get(email="academic@demo.joinedup.example")
    triage = User.objects.get(email="practitioner@demo.joinedup.example")
    history = [
        r.student for r in relationships if r.student.department_id == hub["north_history"].pk
    ]
    for n, (urgency, state) in enumerate(
        [("urgent", "new"), ("soon", "picked_up"), ("routine", "closed")]
    ):
        if n >= len(history):
            break
        raised = now - dt.timedelta(hours=2 + 30 * n)
        concern = Concern.objects.create(
            student=history[n],
            service=hub["north_wellbeing"],
            reporter=academic,
            observed="Missed four weeks of seminars and seemed very low when we spoke.",
            urgency=urgency,
            student_knows="yes",
            student_agreed=True,
            raised_at=raised,
            due_at=rules.concern_due_at(raised, urgency),
        )
        if state != "new":
            Concern.objects.filter(pk=concern.pk).update(
                acknowledged_at=now, acknowledged_by=triage
            )
            ConcernMessage.objects.create(
                concern=concern,
                from_reporter=False,
                author=triage,
                text="Thank you for telling us. Has the student "
                "mentioned any support they already have?",
            )
        if state == "closed":
            Concern.objects.filter(pk=concern.pk).update(outcome="contacted", outcome_at=now)
