"""The banner at the top of a student's record: who they are, their risk, open flags, named
worker and next appointment, each as the policy lets the reader see it; withheld is said to
be withheld, never left out; and it costs the same queries however much the record holds."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.people.rules import age_on
from joinedup.record.selectors import banner_for
from joinedup.record.tests.factories import write_entry
from joinedup.referrals.appointments import book_appointment
from joinedup.referrals.episodes import open_walk_in_episode
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at
from joinedup.risk.services import acknowledge_flag, level_of_rank, raise_flag, record_assessment


def assess(hub, rank: int, *, service=None, author=None):
    return record_assessment(
        actor=author or hub.practitioner, student=hub.student, service=service or hub.wellbeing,
        domain_levels={"self": rank}, factors="Recent self-harm; lives alone.",
        plan="Same-day contact; safety plan agreed.", review_on=timezone.localdate(),
    )  # fmt: skip


def flag(hub, rank: int, *, service=None):
    return raise_flag(
        student=hub.student, service=service or hub.wellbeing, level=level_of_rank(rank),
        source="practitioner", reason="Said they had a plan.", actor=hub.practitioner,
    )  # fmt: skip


def episode_of(hub, service=None, actor=None, practitioner=None):
    return open_walk_in_episode(
        actor=actor or hub.practitioner, student=hub.student, service=service or hub.wellbeing,
        practitioner=practitioner,
    )  # fmt: skip


def banner(hub, user):
    return banner_for(user, hub.student)


def page(client, user, student):
    client.force_login(user)
    response = client.get(reverse("record:student-detail", args=[student.uuid]))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("data-banner") : html.index("</section>")]


# --- Who the student is -----------------------------------------------------------------------


def test_the_banner_names_the_student_with_their_identifiers(hub, client):
    hub.student.nhs_number = "9434765919"
    hub.student.save(update_fields=["nhs_number"])

    html = page(client, hub.practitioner, hub.student)

    assert "Alex StudentNB1000001" in html
    assert "(she/her)" in html
    assert "Alexandra StudentNB1000001" in html  # the legal name, as it differs
    assert "943 476 5919" in html
    assert "NB1000001" in html
    age = age_on(dt.date(2004, 5, 17), timezone.localdate())
    assert f"17 May 2004 ({age} years)" in html


def test_the_legal_name_is_not_repeated_when_it_is_the_name_used(hub, client):
    hub.student.preferred_name = ""
    hub.student.save(update_fields=["preferred_name"])

    assert "Legal name" not in page(client, hub.practitioner, hub.student)


def test_a_tutors_banner_has_names_and_number_only_and_names_no_service(hub, client):
    hub.student.nhs_number = "9434765919"
    hub.student.save(update_fields=["nhs_number"])
    assess(hub, 3)
    flag(hub, 3)
    book(hub, episode_of(hub, practitioner=hub.practitioner), day_after_tomorrow_at(10))

    html = page(client, hub.academic, hub.student)

    assert "Alex StudentNB1000001" in html
    for private in ("943 476 5919", "17 May 2004", "she/her", "Wellbeing", "High", "Priya"):
        assert private not in html, private
    assert "Risk not shared with you" in html
    shown = banner(hub, hub.academic)
    assert (shown.flags, shown.appointments_allowed, shown.episodes) == (
        "Not shared with you", False, None,
    )  # fmt: skip


# --- Risk ---------------------------------------------------------------------------------------


def test_risk_the_reader_may_see_shows_its_level(hub):
    assess(hub, 3)

    shown = banner(hub, hub.practitioner)

    assert (shown.risk, shown.risk_rank, shown.risk_shown) == ("High", 3, True)


def test_a_level_in_the_services_own_words_keeps_the_shared_one_first(hub):
    from joinedup.risk.models import ServiceScale

    ServiceScale.objects.create(service=hub.wellbeing, label="Red", level=level_of_rank(3))
    assess(hub, 3)

    assert banner(hub, hub.practitioner).risk == "High — Wellbeing: Red"


def test_risk_another_service_holds_names_it_and_shows_no_level(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    assess(hub, 4)

    shown = banner(hub, hub.crisis_practitioner)

    assert shown.risk == "Assessed by Wellbeing — not shared with you"
    assert (shown.risk_rank, shown.risk_shown) == (0, True)


def test_a_newer_assessment_held_elsewhere_is_named_after_the_level_shown(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    assess(hub, 1)
    assess(hub, 4, service=hub.crisis, author=hub.crisis_practitioner)

    shown = banner(hub, hub.practitioner)

    assert shown.risk == "Low · assessed since by Crisis Team — not shared with you"
    assert shown.risk_rank == 1


def test_risk_refused_whole_names_who_holds_it_never_not_assessed(hub):
    give_consent(hub, "identity", hub.crisis)
    write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner)

    shown = banner(hub, hub.crisis_practitioner)

    assert shown.risk == "Risk held by Wellbeing — not shared with you"
    assert shown.flags == "Not shared with you"


def test_other_risk_held_elsewhere_without_an_assessment_is_not_not_assessed(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    write_entry(hub.student, "risk", hub.crisis, hub.crisis_practitioner)

    assert banner(hub, hub.practitioner).risk == "Risk held by Crisis Team — not shared with you"


def test_not_assessed_when_nothing_of_risk_exists_anywhere(hub):
    shown = banner(hub, hub.practitioner)

    assert (shown.risk, shown.risk_shown) == ("Not assessed", False)


def test_risk_shared_by_consent_shows_the_other_services_level(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    assess(hub, 3)
    give_consent(hub, "risk", hub.crisis)

    assert banner(hub, hub.crisis_practitioner).risk == "High"


# --- Flags --------------------------------------------------------------------------------------


def test_open_flags_are_counted_with_the_highest_level(hub):
    flag(hub, 2)
    flag(hub, 3, service=hub.counselling)
    acknowledge_flag(actor=hub.practitioner, flag=flag(hub, 4))

    shown = banner(hub, hub.practitioner)

    assert (shown.flags, shown.flag_rank) == ("2 open · highest High", 3)


def test_no_open_flag_says_none_open(hub):
    assert banner(hub, hub.practitioner).flags == "None open"


# --- Named worker -------------------------------------------------------------------------------


def test_the_named_worker_is_who_the_open_episode_at_my_service_is_allocated_to(hub):
    episode = episode_of(hub, practitioner=hub.practitioner)

    assert banner(hub, hub.practitioner).episodes == [episode]
    assert episode.practitioner == hub.practitioner


def test_an_unallocated_episode_is_shown_as_such(hub, client):
    episode_of(hub)

    assert "Not allocated yet (Wellbeing)" in page(client, hub.practitioner, hub.student)


def test_another_services_episode_is_not_my_named_worker(hub, client):
    episode_of(hub, service=hub.counselling, actor=hub.counsellor, practitioner=hub.counsellor)

    assert banner(hub, hub.practitioner).episodes == []
    html = page(client, hub.practitioner, hub.student)
    assert "No open episode with your service" in html
    assert "Colin" not in html


# --- Next appointment ---------------------------------------------------------------------------


def test_the_next_booked_appointment_i_may_see_is_shown(hub, client):
    episode = episode_of(hub, practitioner=hub.practitioner)
    later = book(hub, episode, day_after_tomorrow_at(15))
    sooner = book(hub, episode, day_after_tomorrow_at(10))

    shown = banner(hub, hub.practitioner)

    assert (shown.appointment, shown.appointment_held_by) == (sooner, [])
    assert later != sooner
    assert "Wellbeing (Priya)" in page(client, hub.practitioner, hub.student)


def test_a_sooner_appointment_with_another_service_is_said_to_be_held(hub, client):
    own = book(hub, episode_of(hub, practitioner=hub.practitioner), day_after_tomorrow_at(15))
    theirs = episode_of(hub, service=hub.counselling, actor=hub.counsellor)
    book_appointment(actor=hub.counsellor, episode=theirs, starts_at=day_after_tomorrow_at(9),
                     kind="assessment")  # fmt: skip

    shown = banner(hub, hub.practitioner)

    assert (shown.appointment, shown.appointment_held_by) == (own, ["other services"])
    html = page(client, hub.practitioner, hub.student)
    assert "A sooner one is held by other services — not shared with you" in html
    assert "Counselling" not in html


def test_only_another_services_appointment_is_held_not_none(hub, client):
    theirs = episode_of(hub, service=hub.counselling, actor=hub.counsellor)
    book_appointment(actor=hub.counsellor, episode=theirs, starts_at=day_after_tomorrow_at(9),
                     kind="assessment")  # fmt: skip

    html = page(client, hub.practitioner, hub.student)

    assert "Held by other services — not shared with you" in html
    assert "None booked" not in html


def test_with_consent_another_services_appointment_is_shown(hub):
    theirs = episode_of(hub, service=hub.counselling, actor=hub.counsellor)
    booked = book_appointment(actor=hub.counsellor, episode=theirs,
                              starts_at=day_after_tomorrow_at(9), kind="assessment")  # fmt: skip
    give_consent(hub, "engagement", hub.wellbeing)

    shown = banner(hub, hub.practitioner)

    assert (shown.appointment, shown.appointment_held_by) == (booked, [])


def test_no_appointment_anywhere_says_none_booked(hub, client):
    episode = episode_of(hub, practitioner=hub.practitioner)
    past = book(hub, episode, day_after_tomorrow_at(9))
    past.status = "attended"
    past.save(update_fields=["status"])

    html = page(client, hub.practitioner, hub.student)

    assert "None booked" in html


# --- Cost and audit -----------------------------------------------------------------------------


def _record_queries(client, hub) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("record:student-detail", args=[hub.student.uuid]))
    assert response.status_code == 200
    return len(queries)


def test_the_record_with_its_banner_takes_the_same_queries_however_full(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    episode = episode_of(hub, practitioner=hub.practitioner)
    assess(hub, 2)
    flag(hub, 2)
    book(hub, episode, day_after_tomorrow_at(9))
    client.force_login(hub.practitioner)
    _record_queries(client, hub)  # the first page view of a session also moves its expiry on
    few = _record_queries(client, hub)

    for hour in (11, 13, 15):
        book(hub, episode, day_after_tomorrow_at(hour))
        flag(hub, 3)
        flag(hub, 4, service=hub.crisis)
        assess(hub, 3)
        assess(hub, 4, service=hub.crisis, author=hub.crisis_practitioner)
        write_entry(hub.student, "risk", hub.crisis, hub.crisis_practitioner)

    assert _record_queries(client, hub) == few


@pytest.mark.parametrize("user", ["practitioner", "crisis_practitioner"])
def test_the_banner_on_the_record_adds_no_audit_of_its_own(hub, client, user):
    from joinedup.audit.models import AuditEvent

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    page(client, getattr(hub, user), hub.student)

    assert not AuditEvent.objects.filter(action="record.banner.read").exists()


def test_a_banner_read_alone_is_audited_for_what_it_shows(hub):
    from joinedup.audit.models import AuditEvent

    banner(hub, hub.practitioner)

    audited = AuditEvent.objects.filter(action="record.banner.read", actor=hub.practitioner)
    assert sorted(audited.values_list("category", flat=True)) == [
        "engagement", "identity", "risk",
    ]  # fmt: skip
