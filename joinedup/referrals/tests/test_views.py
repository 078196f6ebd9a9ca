"""Referral pages: who may see them, the steps, and what each side sees."""

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_student
from joinedup.consent.tests.factories import give_consent
from joinedup.record.models import RecordEntry
from joinedup.referrals import services
from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.models import FollowUpTask, Referral
from joinedup.referrals.services import create_referral
from joinedup.referrals.tests.factories import refer


def page(client, user, name, *args, **kwargs):
    client.force_login(user)
    response = client.get(reverse(name, args=args), **kwargs)
    return response.status_code, response.content.decode()


def act(client, user, referral, action, **data):
    client.force_login(user)
    return client.post(
        reverse("referrals:referral-action", args=[referral.uuid, action]),
        {"version": Referral.objects.get(pk=referral.pk).version, **data},
        follow=True,
    )


def test_a_practitioner_refers_from_the_form(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("referrals:referral-create", args=[hub.student.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, {"to_service": hub.talking.pk, "reason": "Low mood."})
    referral = Referral.objects.get()
    assert response.url == reverse("referrals:referral-detail", args=[referral.uuid])
    assert (referral.from_service, referral.state) == (hub.wellbeing, "sent")


def test_the_form_explains_a_refusal_next_to_the_field(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("referrals:referral-create", args=[hub.student.uuid])
    html = client.post(
        url, {"to_service": hub.talking.pk, "reason": "Low mood.", "carry_assessment": "on"}
    ).content.decode()
    assert "has not agreed to share their assessment with Talking Therapies" in html
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("outsider", 404),
        ("counsellor", 404),
        ("crisis_practitioner", 404),
        ("academic", 403),
        ("researcher", 403),
    ],
)
def test_people_outside_the_two_services_cannot_open_it(hub, client, who, expected):
    referral = refer(hub)
    status, _ = page(client, getattr(hub, who), "referrals:referral-detail", referral.uuid)
    assert status == expected


def test_the_receiver_opening_it_is_the_referrers_receipt(hub, client):
    referral = refer(hub)
    _, html = page(client, hub.practitioner, "referrals:referral-detail", referral.uuid)
    assert "Not opened yet by the receiving service" in html
    _, opening = page(client, hub.triage, "referrals:referral-detail", referral.uuid)
    assert "Opened by Tom of Talking Therapies on" in opening  # the opener sees it too
    _, html = page(client, hub.practitioner, "referrals:referral-detail", referral.uuid)
    assert "Opened by Tom of Talking Therapies on" in html
    assert Referral.objects.get().opened_by == hub.triage


def test_the_receiver_accepts_and_the_referrer_cannot(hub, client):
    referral = refer(hub)
    response = act(client, hub.practitioner, referral, "accept")
    assert "You cannot do that to this referral now." in response.content.decode()
    act(client, hub.triage, referral, "accept")
    assert Referral.objects.get().state == "accepted"


def test_declining_without_a_reason_says_so_and_changes_nothing(hub, client):
    referral = refer(hub)
    response = act(client, hub.triage, referral, "decline", reason="")
    assert response.status_code == 400
    assert "Choose the reason for declining." in response.content.decode()
    assert Referral.objects.get().state == "sent"


def test_acting_on_an_out_of_date_page_is_refused_with_what_happened(hub, client):
    referral = refer(hub)
    seen = referral.version  # the referrer's page shows this version
    services.accept_referral(actor=hub.triage, referral=referral, version=seen)
    client.force_login(hub.practitioner)
    response = client.post(
        reverse("referrals:referral-action", args=[referral.uuid, "withdraw"]),
        {"version": seen},
        follow=True,
    )
    html = response.content.decode()
    assert "Tom changed this referral at" in html
    assert "it has been accepted now. Nothing you did was saved." in html
    assert Referral.objects.get().state == "accepted"


def test_a_service_that_declined_keeps_its_decision_and_loses_the_rest(hub, client):
    RecordEntry.objects.create(
        student=hub.student,
        category="assessment",
        service=hub.wellbeing,
        author=hub.practitioner,
        title="Wellbeing's assessment",
        body="Sleeping badly since October.",
    )
    give_consent(hub, "assessment", hub.talking)
    hub.student.nhs_number, hub.student.email = "9434765919", "alex@example.ac.uk"
    hub.student.save()
    referral = refer(hub, carry_assessment=True)
    services.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="lower"
    )
    hub.student.consent_grants.update(withdrawn_at=timezone.now())

    status, html = page(client, hub.triage, "referrals:referral-detail", referral.uuid)
    assert status == 200
    assert "Declined" in html
    assert "Sleeping badly" not in html  # the referrer's assessment is the referrer's
    status, html = page(client, hub.triage, "record:student-detail", hub.student.uuid)
    assert hub.student.nhs_number not in html
    assert hub.student.email not in html
    assert page(client, hub.practitioner, "referrals:referral-detail", referral.uuid)[0] == 200


def test_discharge_before_first_contact_is_explained_on_the_form(hub, client):
    referral = refer(hub)
    act(client, hub.triage, referral, "accept")
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = act(
        client, hub.triage, referral, "discharge", ending="planned", summary="Well.", at=now
    )
    assert response.status_code == 400
    assert "record the first contact before discharging" in response.content.decode()


def test_the_waiting_list_is_ordered_by_wait_with_coloured_clocks(hub, client):
    old, new = refer(hub), refer(hub, actor=hub.counsellor, frm=hub.counselling)
    Referral.objects.filter(pk=old.pk).update(sent_at=timezone.now() - dt.timedelta(days=50))
    status, html = page(client, hub.triage, "referrals:waiting-list")
    assert status == 200
    assert html.index(str(old.uuid)) < html.index(str(new.uuid))
    assert 'data-clock="red"' in html
    assert 'data-clock="green"' in html


def test_the_waiting_list_names_who_holds_a_risk_level_and_offers_to_ask(hub, client):
    from joinedup.consent.models import SharingRequest
    from joinedup.risk.tests.test_services import assess

    referral = refer(hub)
    assess(hub)  # Wellbeing: High, not shared with Talking Therapies

    html = page(client, hub.triage, "referrals:waiting-list")[1]

    row = html[html.index(str(referral.uuid)) :]
    assert "Assessed by Wellbeing — not shared with you" in row
    assert "Not assessed" not in row
    assert "Ask the student to share risk" in row
    client.post(
        reverse("consent:sharing-request-create", args=[hub.student.uuid]),
        {"category": "risk", "next": reverse("referrals:waiting-list")},
    )
    asked = SharingRequest.objects.get()
    assert (asked.service, asked.category) == (hub.talking, "risk")
    give_consent(hub, "risk", hub.talking)
    html = page(client, hub.triage, "referrals:waiting-list")[1]
    assert "Ask the student to share risk" not in html
    assert "High" in html[html.index(str(referral.uuid)) :]


def test_the_discharge_form_says_truly_where_the_summary_will_go(hub, client):
    referral = refer(hub)
    referral = services.accept_referral(
        actor=hub.triage, referral=referral, version=referral.version
    )
    services.start_treatment(actor=hub.triage, referral=referral, version=referral.version)

    html = page(client, hub.triage, "referrals:referral-detail", referral.uuid)[1]
    assert "The student&#x27;s consent does not let the summary reach Wellbeing" in html
    assert "The summary will go to" not in html

    give_consent(hub, "discharge", hub.wellbeing)
    html = page(client, hub.triage, "referrals:referral-detail", referral.uuid)[1]
    assert "The summary will go to Wellbeing." in html


def test_the_referrer_sees_their_referrals_with_the_same_clock(hub, client):
    referral = refer(hub)
    status, html = page(client, hub.practitioner, "referrals:referral-list")
    assert status == 200
    assert str(referral.uuid) in html
    assert 'data-clock="green"' in html


def test_a_declined_referral_is_not_shown_as_still_waiting(hub, client):
    referral = refer(hub)
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - dt.timedelta(days=90))
    services.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="lower"
    )
    html = page(client, hub.practitioner, "referrals:referral-list")[1]
    row = html[html.index(str(referral.uuid)) :]
    assert "Not waiting" in row[: row.index("</tr>")]
    assert "past the standard" not in html


def test_follow_ups_are_listed_and_completed_with_what_was_done(hub, client):
    services.record_crisis_contact(
        actor=hub.crisis_practitioner, student=hub.student, service=hub.crisis, note="Seen at A&E."
    )
    task = FollowUpTask.objects.get()
    _, html = page(client, hub.practitioner, "referrals:follow-ups")
    assert "Crisis contact with Crisis Team" in html
    client.post(reverse("referrals:follow-up-complete", args=[task.uuid]), {"text": "Called."})
    task.refresh_from_db()
    assert task.outcome == "Called."


def test_the_gap_worklist_names_students_only_where_the_policy_allows(hub, client):
    referral = refer(hub)
    referral = services.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="higher"
    )
    Referral.objects.filter(pk=referral.pk).update(decided_at=timezone.now() - dt.timedelta(days=8))
    detect_gaps()
    status, html = page(client, hub.service_manager, "referrals:gaps")
    assert status == 200
    assert "Declined 8 days ago" in html
    assert "A student of Wellbeing" in html  # a manager is not in the student's care
    assert hub.student.display_name not in html


def test_the_gap_worklist_is_not_for_practitioners(hub, client):
    status, _ = page(client, hub.practitioner, "referrals:gaps")
    assert status == 404


def test_only_a_crisis_service_records_crisis_contacts(hub, client):
    from joinedup.consent.services import open_care_relationship

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    status, _ = page(client, hub.practitioner, "referrals:crisis-contact", hub.student.uuid)
    assert status == 404
    client.force_login(hub.crisis_practitioner)
    url = reverse("referrals:crisis-contact", args=[hub.student.uuid])
    client.post(url, {"note": "Seen out of hours."})
    assert FollowUpTask.objects.get().service == hub.wellbeing


def test_the_pathway_map_counts_students_per_flow_with_small_numbers_hidden(hub, client):
    students = [make_student(hub.university, f"NB20000{n:02d}") for n in range(12)]
    for n, student in enumerate(students):
        create_referral(
            actor=hub.practitioner,
            student=student,
            from_service=hub.wellbeing,
            to_service=hub.talking if n < 9 else hub.crisis,
            source="service",
            reason="Low mood.",
        )
    status, html = page(client, hub.service_manager, "referrals:pathway-map")
    assert status == 200
    rows = re.findall(r"<tr class=\"nhsuk-table__row\" data-flow>(.*?)</tr>", html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert cells == [["Wellbeing", "Talking Therapies", "10"], ["Wellbeing", "Crisis Team", "*"]]
    chart = json.loads(re.search(r'id="pathway-data" type="application/json">(.*?)<', html)[1])
    assert chart == [{"from": "Wellbeing", "to": "Talking Therapies", "flow": 10}]


def test_the_pathway_map_period_must_end_after_it_starts(hub, client):
    client.force_login(hub.service_manager)
    response = client.get(
        reverse("referrals:pathway-map"), {"start": "2026-05-01", "end": "2026-04-01"}
    )
    assert "The end must be after the start." in response.content.decode()


def test_students_do_not_see_the_pathway_map(hub, client):
    assert page(client, hub.student_user, "referrals:pathway-map")[0] == 403


def test_the_waiting_list_counts_its_colours_in_sql_as_the_clocks_do(hub, client):
    from joinedup.referrals.rules import AMBER_SHARE

    assert AMBER_SHARE == 0.8
    ages = [50, 43, 42, 34, 33, 1]  # standard 42: red past 42, amber from 34
    for n, days in enumerate(ages):
        student = make_student(hub.university, f"NB40000{n:02d}")
        referral = create_referral(
            actor=hub.practitioner,
            student=student,
            from_service=hub.wellbeing,
            to_service=hub.talking,
            source="service",
            reason="Low mood.",
        )
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=timezone.now() - dt.timedelta(days=days)
        )
    _, html = page(client, hub.triage, "referrals:waiting-list")
    assert "6 waiting: 2 past the standard, 2 near it, 2 within it." in html
    assert html.count('data-clock="red"') == 2
    assert html.count('data-clock="orange"') + html.count('data-clock="amber"') == 2


def test_a_referral_seen_in_time_stays_green_however_long_it_then_waits(hub, client):
    referral = refer(hub)
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=timezone.now() - dt.timedelta(days=90),
        first_contact_at=timezone.now() - dt.timedelta(days=87),
    )
    _, html = page(client, hub.triage, "referrals:waiting-list")
    assert 'data-clock="green">Within the standard</strong>' in html
    assert 'seen on day 3</span> <span class="jup-nowrap">(standard 42 days)' in html
    assert "1 waiting: 0 past the standard, 0 near it, 1 within it." in html


@pytest.mark.parametrize("standard", [0, 7, 42])
def test_the_colour_counts_in_sql_agree_with_every_clock(hub, standard):
    """The SQL twin of the breach rule against `rules.Clock.colour`, over waits either side
    of the standard, first contacts late and in time, and times either side of midnight."""
    import random
    from collections import Counter

    from joinedup.referrals import rules
    from joinedup.referrals.selectors import _colour_counts

    hub.talking.waiting_standard_days = standard
    hub.talking.save(update_fields=["waiting_standard_days"])
    chosen = random.Random(standard)  # noqa: S311 - a fixed sample, not a secret
    now = timezone.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(60):
        referral = create_referral(
            actor=hub.practitioner, student=make_student(hub.university, f"NB5{n:06d}"),
            from_service=hub.wellbeing, to_service=hub.talking, source="service", reason="Low.",
        )  # fmt: skip
        sent = midnight - dt.timedelta(days=chosen.randint(0, 2 * standard + 3),
                                       minutes=chosen.choice([1, 30, 720, 1439]))  # fmt: skip
        contact = (
            None
            if chosen.random() < 0.4
            else min(
                now,
                sent
                + dt.timedelta(
                    days=chosen.randint(0, 2 * standard + 2), minutes=chosen.choice([0, 2, 700])
                ),
            )
        )
        Referral.objects.filter(pk=referral.pk).update(sent_at=sent, first_contact_at=contact)
    waiting = Referral.objects.filter(to_service=hub.talking, state__in=rules.WAITING)
    clocks = Counter(
        rules.clock(r.sent_at, r.first_contact_at, None, standard, now).colour for r in waiting
    )
    assert _colour_counts(waiting, standard) == {c: clocks[c] for c in ("green", "amber", "red")}
    assert clocks["red"]  # both sides of the rule are tried
    assert clocks["green"]


def test_readable_students_among_a_few_agrees_with_the_whole_rule(hub):
    from joinedup.consent.policy import readable_students

    other = make_student(hub.university, "NB4999999")
    ids = [hub.student.pk, other.pk]
    whole = set(readable_students(hub.practitioner, "identity").filter(pk__in=ids))
    assert set(readable_students(hub.practitioner, "identity", among=ids)) == whole == {hub.student}


def test_an_unreadable_version_is_treated_as_a_stale_page(hub, client):
    referral = refer(hub)
    client.force_login(hub.triage)
    response = client.post(
        reverse("referrals:referral-action", args=[referral.uuid, "accept"]),
        {"version": "abc"},
        follow=True,
    )
    assert "changed this referral" in response.content.decode()
    assert Referral.objects.get().state == "sent"


def test_a_manager_sees_a_follow_up_but_not_who_it_is_about(hub, client):
    services.record_crisis_contact(
        actor=hub.crisis_practitioner, student=hub.student, service=hub.crisis, note="Seen at A&E."
    )
    _, html = page(client, hub.service_manager, "referrals:follow-ups")
    assert "A student of Wellbeing" in html
    assert hub.student.display_name not in html
    _, html = page(client, hub.practitioner, "referrals:follow-ups")
    assert hub.student.display_name in html


def test_the_referrer_sees_the_receivers_appointments_only_with_consent(hub, client):
    referral = refer(hub)
    referral = services.accept_referral(
        actor=hub.triage, referral=referral, version=referral.version
    )
    appointment = services.book_appointment(
        actor=hub.triage, episode=referral.episode,
        starts_at=timezone.now() + dt.timedelta(days=3), kind="assessment",
    )  # fmt: skip

    html = page(client, hub.practitioner, "referrals:referral-detail", referral.uuid)[1]
    assert "Appointments: held by Talking Therapies — not shared with you" in html
    assert str(appointment.uuid) not in html
    assert (
        str(appointment.uuid)
        in page(client, hub.triage, "referrals:referral-detail", referral.uuid)[1]
    )

    give_consent(hub, "engagement", hub.wellbeing)
    html = page(client, hub.practitioner, "referrals:referral-detail", referral.uuid)[1]
    assert str(appointment.uuid) in html
    assert "Appointments: held by" not in html
