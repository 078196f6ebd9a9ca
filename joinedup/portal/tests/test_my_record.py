"""The student's own record in plain words: who is involved, waiting lists, appointments."""

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from conftest import make_student
from joinedup.portal.selectors import my_record
from joinedup.record.tests.factories import write_entry
from joinedup.referrals import services
from joinedup.referrals.models import Referral


def refer(hub, student, days_ago):
    referral = services.create_referral(
        actor=hub.practitioner,
        student=student,
        from_service=hub.wellbeing,
        to_service=hub.talking,
        source="service",
        reason="Low mood.",
    )
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return referral


def test_who_is_involved_and_what_each_holds(hub):
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner)
    write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner, withheld_reason="For safety.")
    [wellbeing] = my_record(hub.student).involved
    assert wellbeing.service == hub.wellbeing
    assert wellbeing.holds == ["your story and what you want from support"]


def test_the_place_on_the_waiting_list_and_the_expected_wait(hub):
    for n in range(2):
        refer(hub, make_student(hub.university, f"NB50000{n}"), days_ago=30 + n)
    refer(hub, hub.student, days_ago=10)
    [waiting] = my_record(hub.student).waiting
    assert (waiting.position, waiting.waited, waiting.expected) == (3, 10, None)


def test_the_next_appointments(hub):
    referral = refer(hub, hub.student, days_ago=1)
    referral = services.accept_referral(
        actor=hub.triage, referral=referral, version=referral.version
    )
    services.book_appointment(
        actor=hub.triage,
        episode=referral.episode,
        kind="assessment",
        starts_at=timezone.now() + dt.timedelta(days=3),
    )
    [appointment] = my_record(hub.student).appointments
    assert appointment.episode.service == hub.talking


def test_the_portal_home_shows_it_in_plain_words(hub, client):
    refer(hub, hub.student, days_ago=4)
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Talking Therapies: you are number 1 on the list, and have waited 4 days." in html
    assert "Who is working with you" in html
    waiting_well = html[html.index("data-while-waiting") :]
    assert "If things get worse while you wait" in waiting_well
    assert f'href="{reverse("referrals:help-now")}"' in waiting_well


def test_no_waiting_no_waiting_words(hub, client):
    client.force_login(hub.student_user)
    assert "data-while-waiting" not in client.get(reverse("portal:home")).content.decode()


def test_questionnaires_to_fill_in_are_listed_until_answered(hub, client):
    from joinedup.measures.services import complete_from_link, link_from_token, send_completion_link
    from joinedup.measures.tests.factories import start_episode

    episode = start_episode(hub)
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["GAD-7"]
    )
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:home")).content.decode()
    # Tokens carry the time they were signed, so compare the link they name.
    shown = re.search(r'href="/me/questionnaires/([^"/]+)/"', html)[1]
    assert link_from_token(shown) == link_from_token(token)
    complete_from_link(link=link_from_token(token), answers_by_code={"GAD-7": [1] * 7})
    assert my_record(hub.student).to_complete == []


def test_who_looked_shows_why_each_service_could_and_when_that_ended(hub, client):
    from joinedup.consent.models import CareRelationship
    from joinedup.consent.services import close_care_relationship, open_care_relationship

    concern = open_care_relationship(student=hub.student, service=hub.counselling, reason="concern")
    close_care_relationship(
        relationship=concern,
        because="concern_closed",
        at=dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC),
    )
    client.force_login(hub.student_user)

    html = client.get(reverse("portal:home")).content.decode()

    shown = re.findall(r"<li data-relationship=\"\w+\">(.*?)</li>", html, re.S)
    assert any(
        "Counselling: concern, from" in line
        and "to 3 Nov 2026, when the concern was closed." in line
        for line in shown
    ), shown
    assert any("Wellbeing: episode of care, from" in line and "still now" in line for line in shown)
    assert len(shown) == CareRelationship.objects.filter(student=hub.student).count()


def test_while_waiting_the_student_sees_the_services_self_help_with_its_links(hub, client):
    from joinedup.referrals.models import DirectoryEntry

    DirectoryEntry.objects.create(
        service=hub.talking, purpose="Talking therapy", who_for="Adults",
        accepts_referrals_from=["self", "service", "gp"],
        self_help=(
            "Every Mind Matters https://www.nhs.uk/every-mind-matters/\n\n  Keep a sleep diary "
        ),
    )  # fmt: skip
    refer(hub, hub.student, days_ago=4)
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:home")).content.decode()
    assert "While you wait, Talking Therapies suggests" in html
    assert 'href="https://www.nhs.uk/every-mind-matters/"' in html
    assert html.count("<li>Keep a sleep diary</li>") == 1
    entry = client.get(reverse("referrals:directory-entry", args=[hub.talking.uuid]))
    assert "Self-help while you wait" in entry.content.decode()


def test_a_service_without_self_help_says_nothing_of_it(hub, client):
    refer(hub, hub.student, days_ago=4)
    client.force_login(hub.student_user)
    assert "suggests" not in client.get(reverse("portal:home")).content.decode()


def test_the_students_own_plans_speak_to_them_and_give_help_now(hub, client):
    import datetime as dt

    from joinedup.risk.services import save_return_plan, save_safety_plan

    save_safety_plan(actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
                     warning_signs="Not sleeping")  # fmt: skip
    save_return_plan(
        actor=hub.practitioner, student=hub.student, nhs_service=hub.crisis,
        university_service=hub.wellbeing, support_agreed="Weekly check-in",
        who_does_what="Priya calls on Mondays", adjustments="", fit_to_study="agreed",
        review_on=timezone.localdate() + dt.timedelta(days=14), nhs_view="", university_view="",
    )  # fmt: skip
    client.force_login(hub.student_user)
    plans = client.get(reverse("portal:return-plans")).content.decode()
    assert "Your view" in plans
    assert "The student&#x27;s view" not in plans
    safety = client.get(reverse("portal:safety-plan")).content.decode()
    assert "data-help-now" in safety
    assert 'href="tel:999"' in safety
