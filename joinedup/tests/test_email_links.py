"""Every message lands where its reader can act: each link in each email opens, for the
person it was sent to, a page they may use that shows the thing the email is about.

Each scenario below makes the system send one kind of email (every `send_mail` of the
project is one of them: a test fails when an email kind has no scenario); the check follows
every link as each recipient, signed in as they would be.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from conftest import SignedInClient, make_staff, make_student
from joinedup.consent.services import (
    answer_sharing_request,
    ask_to_share,
    open_break_glass,
    open_care_relationship,
)
from joinedup.governance.retention import list_due
from joinedup.governance.services import (
    draft_agreement,
    escalate_overdue_reviews,
    send_override_summaries,
)
from joinedup.governance.staff import Place, invite
from joinedup.measures.services import send_completion_link
from joinedup.messaging.services import send_from_service
from joinedup.people.models import Role, User
from joinedup.people.services import notify_student
from joinedup.record.models import RecordEntry
from joinedup.record.tests.factories import write_entry
from joinedup.referrals import services as referrals
from joinedup.referrals.tests.factories import book, refer
from joinedup.reminders.services import send_due_reminders
from joinedup.risk import concerns
from joinedup.risk import services as risk

LINK = re.compile(r"https?://\S+")


def _accepted(hub):
    referral = refer(hub)
    return referrals.accept_referral(actor=hub.triage, referral=referral, version=referral.version)


def _discharged(hub):
    referral = _accepted(hub)
    referral = referrals.start_treatment(
        actor=hub.triage, referral=referral, version=referral.version
    )
    referrals.discharge_referral(
        actor=hub.triage, referral=referral, version=referral.version,
        ending="planned", summary="Eight sessions.",
    )  # fmt: skip
    return referral


def _declined(hub):
    referral = refer(hub)
    referrals.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="lower"
    )
    return referral


def _flag(hub):
    return risk.raise_flag(
        student=hub.student, service=hub.wellbeing, actor=hub.practitioner,
        level=risk.level_of_rank(3), source="practitioner", reason="Said they had a plan.",
    )  # fmt: skip


def _escalated(hub):
    flag = _flag(hub)
    for hours in (25, 49):
        with time_machine.travel(flag.raised_at + dt.timedelta(hours=hours)):
            risk.escalate_flags()
    return flag


def _assigned(hub):
    flag = _escalated(hub)
    risk.assign_flag(actor=hub.service_manager, flag=flag, practitioner=hub.practitioner)
    return flag


def _crisis_follow_up(hub):
    referrals.record_crisis_contact(
        actor=hub.crisis_practitioner, student=hub.student, service=hub.crisis, note="Seen."
    )
    return hub.student


def _overdue_follow_up(hub):
    student = _crisis_follow_up(hub)
    with time_machine.travel(timezone.now() + dt.timedelta(days=5)):
        referrals.escalate_overdue_follow_ups()
    return student


def _concern(hub):
    student = make_student(hub.university, "NB2000001", department=hub.history)
    concern, _code = concerns.raise_concern(
        reporter=hub.academic, student=student, observed="Missed every seminar.",
        urgency="soon", student_knows="yes", student_agreed=True,
    )  # fmt: skip
    return concern


def _concern_picked_up(hub):
    concern = _concern(hub)
    concerns.acknowledge_concern(actor=hub.practitioner, concern=concern)
    return concern


def _concern_reply(hub):
    concern = _concern_picked_up(hub)
    concerns.add_message(
        concern=concern, text="We have it.", actor=hub.practitioner, from_reporter=False
    )
    return concern


def _concern_closed(hub):
    concern = _concern(hub)
    concerns.record_concern_outcome(actor=hub.practitioner, concern=concern, outcome="no_action")
    return concern


def _sharing_answered(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    asked = ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")
    answer_sharing_request(actor=hub.student_user, asked=asked, share=True)
    return hub.student


def _student_told(hub):
    notify_student(hub.student, "Something changed in your record.")
    return hub.student


def _questionnaire_link(hub):
    episode = referrals.open_episode(actor=hub.practitioner, student=hub.student,
                                     service=hub.wellbeing)  # fmt: skip
    hub.student.email = "alex.private@example.com"
    hub.student.save()
    send_completion_link(actor=hub.practitioner, episode=episode, session_number=1, codes=["PHQ-9"])
    return episode


def _appointment_reminder(hub):
    episode = referrals.open_episode(actor=hub.practitioner, student=hub.student,
                                     service=hub.wellbeing)  # fmt: skip
    book(hub, episode, timezone.now() + dt.timedelta(hours=3))
    send_due_reminders()


def _override(hub):
    return open_break_glass(
        actor=hub.crisis_practitioner, student=hub.student,
        reason="Risk to life: the student told the GP they have a plan tonight.",
    )  # fmt: skip


def _invitation(hub):
    invite(actor=hub.org_admin, email="nina@nb.ac.uk", role=Role.PRACTITIONER,
           place=Place(hub.university, service=hub.counselling))  # fmt: skip


def _overdue_review(hub):
    _override(hub)
    escalate_overdue_reviews(now=timezone.now() + dt.timedelta(days=8))


def _override_summary(hub):
    _override(hub)
    send_override_summaries(timezone.localdate().replace(day=1))


def _retention_due(hub):
    student = make_student(hub.university, "NB4000001")
    write_entry(student, "notes", hub.wellbeing, hub.practitioner)
    RecordEntry.objects.filter(student=student).update(
        created_at=timezone.now() - dt.timedelta(days=365 * 7)
    )
    list_due(hub.university)


def _agreement_drafted(hub):
    trust_admin = make_staff("dpo@nhs.example", Role.ORG_ADMIN, hub.trust)
    draft_agreement(
        actor=trust_admin, organisation=hub.trust, partner=hub.university,
        title="Crisis team sharing", categories=["risk"], purposes=["direct_care"],
        starts_on=dt.date(2026, 1, 1), ends_on=None, review_on=None, follow_up_hours=72,
        lawful_basis="public_task", condition="health_care",
    )  # fmt: skip


def _message(hub):
    send_from_service(actor=hub.practitioner, student=hub.student, body="Friday at 10am?")


SCENARIOS = {
    "new referral, accepted": _accepted,
    "declined": _declined,
    "discharged without the summary": _discharged,
    "flag raised": _flag,
    "flag escalated to duty and manager": _escalated,
    "flag assigned by the manager": _assigned,
    "crisis contact follow-up": _crisis_follow_up,
    "overdue follow-up": _overdue_follow_up,
    "concern raised": _concern,
    "concern picked up": _concern_picked_up,
    "concern reply": _concern_reply,
    "concern closed": _concern_closed,
    "sharing request answered": _sharing_answered,
    "student told": _student_told,
    "questionnaire link": _questionnaire_link,
    "appointment reminder": _appointment_reminder,
    "emergency access reported": _override,
    "message from the service": _message,
    "invitation to join": _invitation,
    "override review overdue": _overdue_review,
    "agreement drafted": _agreement_drafted,
    "records past their retention": _retention_due,
    "monthly summary of emergency access": _override_summary,
}

# Scenarios whose last step ends the access an earlier email's link gave (closing a concern
# ends triage's access, rightly): only the email of that step is followed; the earlier ones
# are followed in the scenarios that send them.
LATER = {"concern closed": "The concern you raised has been closed"}

# What the page a link opens must show, by the link's path: the thing the email is about.
SHOWS = (
    (r"^/referrals/[0-9a-f-]{36}/$", "Referral to Talking Therapies"),
    (r"^/referrals/follow-ups/$", "data-task="),
    (r"^/risk/flags/$", "data-flag="),
    (r"^/risk/flags/[0-9a-f-]{36}/$", "High risk flag"),
    (r"^/concerns/[0-9a-f-]{36}/$", "Missed every seminar."),
    (r"^/students/[0-9a-f-]{36}/$", "data-category="),
    (r"^/me/$", "Messages about your record"),
    (r"^/me/questionnaires/[^/]+/$", "Before your next session"),
    (r"^/me/appointments/$", "data-appointment="),
    (r"^/me/messages/[0-9a-f-]{36}/$", "Friday at 10am?"),
    (r"^/governance/overrides/$", "data-override-card"),
    (r"^/governance/agreements/[0-9a-f-]{36}/$", "Crisis team sharing"),
    (r"^/governance/retention/$", "data-retention-run"),
    (r"^/governance/overrides/summary/\?month=\d{4}-\d{2}$", "data-place="),
    (r"^/governance/join/[^/]+/$", "has invited you to work as Practitioner in Counselling"),
)


def _shows(path: str) -> str:
    found = [text for pattern, text in SHOWS if re.match(pattern, path)]
    assert found, f"no page check for a link to {path}: add one to SHOWS"
    return found[0]


def _every_email_kind() -> set[str]:
    """The task functions that send email, found in the source (a new one needs a scenario)."""
    kinds = set()
    for path in Path(settings.BASE_DIR, "joinedup").glob("*/tasks.py"):
        source = path.read_text()
        for name, body in re.findall(r"@task\ndef (\w+)\(.*?\n((?:    .*\n|\n)*)", source):
            if "send_mail" in body or "_send(" in body or "_tell_organisation(" in body:
                kinds.add(name)
    return kinds


def test_every_kind_of_email_is_covered_by_a_scenario():
    covered = {
        "email_new_referral", "email_referrer", "email_referrer_discharge_withheld",
        "email_follow_up", "email_overdue_follow_up", "email_flag_raised", "email_escalation",
        "email_flag_assigned", "email_concern_raised", "email_concern_acknowledged",
        "email_concern_reply", "email_concern_closed", "tell_asker", "email_notification",
        "report_break_glass", "tell_student_of_message", "email_invitation",
        "email_overdue_reviews", "email_agreement_change", "email_retention_due",
        "email_override_summary",
    }  # fmt: skip
    assert _every_email_kind() == covered


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_link_opens_a_page_its_reader_may_use(
    hub, mailoutbox, django_capture_on_commit_callbacks, scenario
):
    open_care_relationship(student=hub.student, service=hub.talking, reason="referral")
    with django_capture_on_commit_callbacks(execute=True):
        SCENARIOS[scenario](hub)
    assert mailoutbox, "the scenario sent no email"
    for sent in mailoutbox:
        if scenario in LATER and sent.subject != LATER[scenario]:
            continue
        links = [link.removeprefix(settings.SITE_URL) for link in LINK.findall(sent.body)]
        for address in sent.to:
            client = SignedInClient()
            reader = User.objects.filter(email=address).first()
            if reader is not None:
                client.force_login(reader)
            for path in links:
                # Someone who does not sign in (a student's own address, a data protection
                # contact) gets only links that are their own authority.
                response = client.get(path, follow=True)
                where = f"{sent.subject!r} → {path} as {address}"
                assert response.status_code == 200, where
                assert "/accounts/login/" not in response.request["PATH_INFO"], where
                assert _shows(path) in response.content.decode(), where
