"""The service directory pages: search, filters, a service's page, and editing one's own."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from conftest import make_staff
from joinedup.audit.models import AuditEvent
from joinedup.people.models import Organisation, Role, Service
from joinedup.referrals.directory import selectors
from joinedup.referrals.models import DirectoryEntry

DIRECTORY = reverse("referrals:directory")
UK = ZoneInfo("Europe/London")
WEEKDAYS = ["0", "1", "2", "3", "4"]
ALL_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}


def write_entry(service, **fields) -> DirectoryEntry:
    defaults = {
        "purpose": f"What {service.name} does.",
        "who_for": "Students of the university.",
        "opening_hours": {day: [["09:00", "17:00"]] for day in WEEKDAYS},
    }
    return DirectoryEntry.objects.create(service=service, **(defaults | fields))


def write_directory(hub) -> dict[str, DirectoryEntry]:
    """Entries for most of the hub's services; Student Liaison has not written one."""
    return {
        "wellbeing": write_entry(
            hub.wellbeing,
            purpose="Short-term support with wellbeing: drop-ins, one-to-one sessions, groups.",
            who_for="Any student of the University of Northbridge.",
            eligibility="No threshold: come as you are.",
            accepts_referrals_from=["self", "academic", "service", "gp"],
            topics=["anxiety", "low mood", "international students"],
            phone="0161 496 0100",
            email="wellbeing@nb.ac.uk",
        ),
        "counselling": write_entry(
            hub.counselling,
            purpose="Up to six sessions of counselling.",
            who_for="Students whose difficulties affect their studies.",
            eligibility="Not for students who need a crisis response.",
            how_to_refer="Fill in the counselling form on the student hub.",
            information_needed="What is going on, how long for, and any risk.",
            accepts_referrals_from=["self", "service"],
            topics=["eating difficulties", "bereavement", "anxiety"],
            opening_hours={day: [["10:00", "18:00"]] for day in ["0", "1", "2", "3"]},
            out_of_hours="Call Northbridge Nightline on 0161 496 0999, 20:00 to 08:00.",
        ),
        "crisis": write_entry(
            hub.crisis,
            purpose="Urgent assessment and home treatment in a mental health crisis.",
            who_for="Adults in Northbridge in a mental health crisis.",
            accepts_referrals_from=["service", "gp"],
            topics=["crisis", "self-harm"],
            opening_hours=ALL_DAY,
            phone="0800 555 0111",
        ),
        "talking": write_entry(
            hub.talking,
            purpose="Talking therapies for anxiety and depression.",
            who_for="Adults registered with a GP in Northbridge.",
            accepts_referrals_from=["self", "gp"],
            topics=["anxiety", "low mood"],
            opening_hours={day: [["08:00", "20:00"]] for day in WEEKDAYS},
        ),
        "other_wellbeing": write_entry(
            hub.other_wellbeing,
            purpose="Wellbeing support at Southgate, with an evening line.",
            who_for="Students of Southgate University.",
            accepts_referrals_from=["self"],
            topics=["international students"],
            opening_hours={"2": [["20:00", "02:00"]]},
        ),
    }


@pytest.fixture
def entries(hub):
    return write_directory(hub)


def listed(response) -> list[str]:
    """Service names on the directory page, in order."""
    return re.findall(
        r'<h2 class="nhsuk-card__heading[^"]*"><a href="[^"]+">([^<]+)</a>', html(response)
    )


def html(response) -> str:
    return response.content.decode()


def error_next_to_field(page: str, error_id: str) -> str:
    """The text of the NHS.UK error message with this id, after its hidden "Error:" prefix."""
    found = re.search(rf'id="{error_id}"><span[^>]*>Error:</span>([^<]*)<', page)
    return found[1].strip() if found else ""


ALL_SERVICES = [
    "Crisis Team", "Student Liaison", "Talking Therapies", "Southgate Wellbeing",
    "Counselling", "Wellbeing",
]  # fmt: skip


@pytest.mark.parametrize(
    "who",
    ["practitioner", "triage", "service_manager", "academic", "org_admin", "researcher",
     "outsider", "student_user"],
)  # fmt: skip
def test_every_signed_in_user_sees_every_service_in_the_hub(hub, entries, client, who):
    client.force_login(getattr(hub, who))

    response = client.get(DIRECTORY)

    assert response.status_code == 200
    assert listed(response) == ALL_SERVICES
    assert "6 services of 6" in html(response)


def test_someone_not_signed_in_finds_a_service_and_its_refer_yourself_form(hub, entries, client):
    # Someone not yet registered has no account: the directory is how they find a service.
    response = client.get(DIRECTORY)

    assert response.status_code == 200
    assert listed(response) == ALL_SERVICES
    page = client.get(reverse("referrals:directory-entry", args=[hub.wellbeing.uuid]))
    form = reverse("referrals:self-referral-create", args=[hub.wellbeing.uuid])
    assert page.status_code == 200
    assert f'href="{form}"' in html(page)
    assert client.get(form).status_code == 200
    # Editing stays with the organisation's admins.
    edit = client.get(reverse("referrals:directory-entry-edit", args=[hub.wellbeing.uuid]))
    assert edit.status_code == 302
    assert edit["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("eating", ["Counselling"], id="topic-word"),
        pytest.param("Talking", ["Talking Therapies"], id="name"),
        pytest.param("home treatment", ["Crisis Team"], id="purpose"),
        pytest.param("registered with a GP", ["Talking Therapies"], id="who-it-is-for"),
        pytest.param("crisis response", ["Counselling"], id="eligibility"),
        pytest.param("southgate", ["Southgate Wellbeing"], id="organisation-any-case"),
        pytest.param("NHS trust", ["Crisis Team", "Student Liaison", "Talking Therapies"],
                     id="organisation-name"),
        pytest.param("anxiety northbridge", ["Talking Therapies", "Counselling", "Wellbeing"],
                     id="every-word-somewhere"),
        pytest.param("juggling", [], id="no-match"),
        pytest.param("I feel depressed", ["Talking Therapies", "Wellbeing"],
                     id="as-a-student-says-it"),
    ],
)  # fmt: skip
def test_search_matches_name_purpose_who_for_eligibility_topics_and_organisation(
    hub, entries, client, query, expected
):
    client.force_login(hub.academic)

    response = client.get(DIRECTORY, {"q": query})

    assert listed(response) == expected
    if not expected:
        assert "No services match." in html(response)


def test_self_referral_filter_keeps_services_students_can_refer_themselves_to(hub, entries, client):
    client.force_login(hub.academic)

    response = client.get(DIRECTORY, {"self_referral": "on"})

    assert listed(response) == ["Talking Therapies", "Southgate Wellbeing", "Counselling",
                                "Wellbeing"]  # fmt: skip
    assert 'id="self_referral" name="self_referral" type="checkbox" value="on" checked' in html(
        response
    )


def test_topic_filter_keeps_services_with_any_topic_ticked(hub, entries, client):
    client.force_login(hub.student_user)

    one = client.get(DIRECTORY, {"topic": "eating difficulties"})
    two = client.get(DIRECTORY, {"topic": ["eating difficulties", "international students"]})

    assert listed(one) == ["Counselling"]
    assert listed(two) == ["Southgate Wellbeing", "Counselling", "Wellbeing"]


def test_topic_choices_are_the_topics_in_use(hub, entries, client):
    client.force_login(hub.student_user)

    response = client.get(DIRECTORY, {"q": "juggling"})

    topics = re.findall(r'name="topic" type="checkbox" value="([^"]+)"', html(response))
    assert topics == ["anxiety", "bereavement", "crisis", "eating difficulties",
                      "international students", "low mood", "self-harm"]  # fmt: skip


def test_organisation_kind_filter(hub, entries, client):
    client.force_login(hub.student_user)

    nhs = client.get(DIRECTORY, {"kind": "nhs_trust"})
    nhs_or_university = client.get(DIRECTORY, {"kind": ["nhs_trust", "university"]})

    assert listed(nhs) == ["Crisis Team", "Student Liaison", "Talking Therapies"]
    assert listed(nhs_or_university) == ALL_SERVICES


def test_filters_combine_with_each_other_and_the_search(hub, entries, client):
    client.force_login(hub.student_user)

    response = client.get(DIRECTORY, {"q": "anxiety", "self_referral": "on", "kind": "university"})

    assert listed(response) == ["Counselling", "Wellbeing"]


def test_unreadable_filters_are_ignored(hub, entries, client):
    client.force_login(hub.student_user)

    response = client.get(DIRECTORY, {"kind": "spaceship", "open_now": "perhaps"})

    assert response.status_code == 200


def uk(month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UK)


@pytest.mark.parametrize(
    ("uk_time", "expected"),
    [
        pytest.param(uk(3, 4, 9, 30), ["Crisis Team", "Talking Therapies", "Wellbeing"],
                     id="wednesday-morning"),
        pytest.param(uk(3, 4, 17, 30), ["Crisis Team", "Talking Therapies", "Counselling"],
                     id="wednesday-after-five"),
        pytest.param(uk(3, 4, 21), ["Crisis Team", "Southgate Wellbeing"], id="wednesday-evening"),
        pytest.param(uk(3, 5, 1), ["Crisis Team", "Southgate Wellbeing"],
                     id="past-midnight-into-thursday"),
        pytest.param(uk(3, 7, 12), ["Crisis Team"], id="saturday"),
        pytest.param(uk(7, 1, 8, 30), ["Crisis Team", "Talking Therapies"],
                     id="summer-time-is-uk-time"),
    ],
)  # fmt: skip
def test_open_now_uses_the_opening_hours_in_uk_time(hub, entries, client, uk_time, expected):
    with time_machine.travel(uk_time, tick=False):
        client.force_login(hub.student_user)
        response = client.get(DIRECTORY, {"open_now": "on"})

    assert listed(response) == expected


def test_cards_say_open_or_closed_now(hub, entries, client):
    with time_machine.travel(uk(3, 7, 12), tick=False):
        client.force_login(hub.student_user)
        response = client.get(DIRECTORY, {"q": "crisis"})

    assert "Open now" in html(response)
    assert "Closed now" in html(response)  # Counselling mentions a crisis response


def test_service_page_shows_everything_about_the_service(hub, entries, client):
    client.force_login(hub.student_user)

    response = client.get(reverse("referrals:directory-entry", args=[hub.counselling.uuid]))

    page = html(response)
    assert response.status_code == 200
    for text in [
        "Up to six sessions of counselling.",
        "Students whose difficulties affect their studies.",
        "Not for students who need a crisis response.",
        "Fill in the counselling form on the student hub.",
        "What is going on, how long for, and any risk.",
        "Students can refer themselves.",
        "Another service or professional",
        "eating difficulties",
        "Not enough recent referrals to say.",
        "The service has not set one.",
    ]:
        assert text in page, text
    assert re.search(r"Thursday</th><td[^>]*>10:00–18:00</td>", page)
    assert re.search(r"Friday</th><td[^>]*>Closed</td>", page)
    care_card = page[page.index("nhsuk-card--care--urgent") :]
    assert "Out of hours or in a crisis" in care_card
    assert 'Call Northbridge Nightline on <a href="tel:01614960999">0161 496 0999</a>' in care_card


def test_service_page_shows_contact_details_and_the_waiting_standard(hub, entries, client):
    client.force_login(hub.academic)

    wellbeing = html(client.get(reverse("referrals:directory-entry", args=[hub.wellbeing.uuid])))
    talking = html(client.get(reverse("referrals:directory-entry", args=[hub.talking.uuid])))

    assert "0161 496 0100" in wellbeing
    assert '<a href="mailto:wellbeing@nb.ac.uk">' in wellbeing
    assert "First contact within 42 days of referral" in talking
    assert "Students cannot refer themselves" not in talking


def test_service_without_an_entry_says_so(hub, entries, client):
    client.force_login(hub.student_user)

    response = client.get(reverse("referrals:directory-entry", args=[hub.liaison_service.uuid]))

    assert "This service has not written its directory entry yet." in html(response)


def test_unknown_service_is_not_found(hub, client):
    client.force_login(hub.student_user)

    response = client.get(reverse("referrals:directory-entry", args=[hub.student.uuid]))

    assert response.status_code == 404


def test_typical_wait_comes_from_the_recent_waits_given(hub, entries, client, monkeypatch):
    def waits(service_ids):
        return {hub.talking.pk: [10, 12, 15, 20, 40], hub.crisis.pk: [1, 1, 2, 1]}

    monkeypatch.setattr(selectors, "recent_waits_by_service", waits)
    client.force_login(hub.triage)

    talking = html(client.get(reverse("referrals:directory-entry", args=[hub.talking.uuid])))
    crisis = html(client.get(reverse("referrals:directory-entry", args=[hub.crisis.uuid])))
    directory = html(client.get(DIRECTORY, {"q": "talking"}))

    assert "15 days from referral to first contact" in talking
    assert "Not enough recent referrals to say." in crisis
    assert "Typical wait" in directory
    assert "15 days" in directory


def test_selector_takes_waits_as_a_mapping_or_a_function_of_the_listed_ids(hub, entries):
    now = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
    asked = []

    def waits(service_ids):
        asked.append(sorted(service_ids))
        return {hub.talking.pk: [5, 5, 6, 7, 9]}

    by_mapping = selectors.directory_for(
        "talking", selectors.DirectoryFilters(), now, {hub.talking.pk: [1, 2, 3, 4, 5]}
    )
    by_function = selectors.directory_for("talking", selectors.DirectoryFilters(), now, waits)
    without = selectors.directory_for("talking", selectors.DirectoryFilters(), now)

    assert [listing.typical_wait_days for listing in by_mapping.listings] == [3]
    assert [listing.typical_wait_days for listing in by_function.listings] == [6]
    assert asked == [[hub.talking.pk]]
    assert [listing.typical_wait_days for listing in without.listings] == [None]


def add_services(organisation, count):
    for n in range(count):
        service = Service.objects.create(
            organisation=organisation, name=f"Extra service {n:03d}", kind="third_sector"
        )
        write_entry(service, topics=[f"topic {n}"], accepts_referrals_from=["self"])


def test_directory_page_query_count_does_not_grow_with_the_directory(
    hub, entries, client, django_assert_max_num_queries
):
    charity = Organisation.objects.create(name="Mind in Northbridge", kind="third_sector")
    client.force_login(hub.academic)
    client.get(DIRECTORY)  # the first page view of a session also moves its expiry on
    with django_assert_max_num_queries(10) as few:
        client.get(DIRECTORY)

    add_services(charity, 40)
    with django_assert_max_num_queries(len(few)) as many:
        response = client.get(DIRECTORY)

    assert len(listed(response)) == 46
    assert len(many) == len(few)


def test_service_page_query_count_is_small(hub, entries, client, django_assert_max_num_queries):
    client.force_login(hub.org_admin)

    # One of them asks whether the user is staff (and so needs the second factor); three count
    # what the admin's header says to act on: agreements, overrides and rights requests.
    with django_assert_max_num_queries(14):
        client.get(reverse("referrals:directory-entry", args=[hub.wellbeing.uuid]))


# Editing ---------------------------------------------------------------------------------


def edit_url(service) -> str:
    return reverse("referrals:directory-entry-edit", args=[service.uuid])


def good_form(**changes) -> dict:
    form = {
        "purpose": "Short-term support with wellbeing.",
        "who_for": "Any student of the University of Northbridge.",
        "eligibility": "No threshold.",
        "how_to_refer": "Use the form on the student hub.",
        "information_needed": "What is going on.",
        "accepts_referrals_from": ["self", "academic"],
        "phone": "0161 496 0100",
        "email": "wellbeing@nb.ac.uk",
        "address": "Student Centre, Oxford Road",
        "out_of_hours": "Call Nightline on 0161 496 0999.",
        "topics": "Anxiety, International Students,  low   mood, anxiety",
        "hours_0": "09:00–17:00",
        "hours_1": "9:00-12:30, 13:30-17:00",
        "hours_2": "09:00–17:00",
        "hours_3": "09:00–17:00",
        "hours_4": "09:00–16:00",
        "hours_5": "",
        "hours_6": "closed",
    }
    return form | changes


@pytest.mark.parametrize(
    ("who", "service", "status"),
    [
        pytest.param("org_admin", "wellbeing", 200, id="admin-of-its-organisation"),
        pytest.param("org_admin", "liaison_service", 404, id="admin-of-another-organisation"),
        pytest.param("service_manager", "wellbeing", 404, id="manager-of-the-service"),
        pytest.param("practitioner", "wellbeing", 404, id="practitioner-of-the-service"),
        pytest.param("academic", "wellbeing", 404, id="academic"),
        pytest.param("researcher", "wellbeing", 404, id="researcher-of-its-organisation"),
        pytest.param("outsider", "wellbeing", 404, id="outsider"),
        pytest.param("student_user", "wellbeing", 404, id="student"),
    ],
)
def test_only_an_admin_of_the_services_organisation_may_edit_its_entry(
    hub, entries, client, who, service, status
):
    client.force_login(getattr(hub, who))
    url = edit_url(getattr(hub, service))

    shown = client.get(url)
    posted = client.post(url, good_form(purpose="Changed."))

    assert shown.status_code == status
    assert posted.status_code == (302 if status == 200 else 404)
    changed = DirectoryEntry.objects.filter(purpose="Changed.").exists()
    assert changed is (status == 200)


def test_admin_of_the_trust_may_edit_trust_services(hub, entries, client):
    trust_admin = make_staff("ada@nhs.example", Role.ORG_ADMIN, hub.trust)
    client.force_login(trust_admin)

    assert client.get(edit_url(hub.crisis)).status_code == 200
    assert client.get(edit_url(hub.wellbeing)).status_code == 404


def test_edit_link_is_shown_only_to_those_who_may_edit(hub, entries, client):
    page = reverse("referrals:directory-entry", args=[hub.wellbeing.uuid])
    client.force_login(hub.service_manager)
    manager_sees = html(client.get(page))
    client.force_login(hub.org_admin)
    admin_sees = html(client.get(page))

    assert "Edit this directory entry" not in manager_sees
    assert "Edit this directory entry" in admin_sees


def test_edit_form_starts_with_the_entry_as_it_is(hub, entries, client):
    entry = entries["counselling"]
    entry.opening_hours = {"0": [["09:00", "12:30"], ["13:30", "17:00"]], "5": [["00:00", "24:00"]]}
    entry.save()
    client.force_login(hub.org_admin)

    page = html(client.get(edit_url(hub.counselling)))

    assert 'name="hours_0" value="09:00–12:30, 13:30–17:00"' in page
    assert 'name="hours_5" value="24 hours"' in page
    assert re.search(r'name="hours_6"(?! value)', page)
    assert 'value="eating difficulties, bereavement, anxiety"' in page
    assert re.search(r'value="self"\s+checked|value="self" checked', page)


def test_saving_an_entry_stores_it_and_audits_the_change(hub, entries, client):
    client.force_login(hub.org_admin)

    response = client.post(edit_url(hub.wellbeing), good_form())

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:directory-entry", args=[hub.wellbeing.uuid])
    entry = DirectoryEntry.objects.get(service=hub.wellbeing)
    assert entry.opening_hours == {
        "0": [["09:00", "17:00"]],
        "1": [["09:00", "12:30"], ["13:30", "17:00"]],
        "2": [["09:00", "17:00"]],
        "3": [["09:00", "17:00"]],
        "4": [["09:00", "16:00"]],
    }
    assert entry.topics == ["anxiety", "international students", "low mood"]
    assert entry.accepts_referrals_from == ["self", "academic"]
    assert entry.accepts_self_referral is True
    assert entry.updated_by == hub.org_admin
    event = AuditEvent.objects.get(action="referrals.directory.updated")
    assert (event.actor, event.reason, event.student) == (hub.org_admin, "Wellbeing", None)
    assert "Directory entry saved." in html(client.get(response["Location"]))


def test_first_save_writes_an_entry_for_a_service_without_one(hub, client):
    client.force_login(hub.org_admin)

    client.post(edit_url(hub.counselling), good_form(accepts_referrals_from=["service"]))

    entry = DirectoryEntry.objects.get(service=hub.counselling)
    assert entry.accepts_self_referral is False
    assert entry.takes("service")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("phone", "call reception", "Enter a phone number using only digits",
                     id="phone-with-words"),
        pytest.param("phone", "12", "Enter a phone number using only digits", id="phone-short"),
        pytest.param("email", "wellbeing at nb", "Enter an email address like", id="email"),
        pytest.param("hours_1", "9am-5pm", "“9am” is not a time", id="hours-am-pm"),
        pytest.param("hours_2", "09:00–13:00, 12:00–17:00", "overlap", id="hours-overlap"),
        pytest.param("hours_3", "09:00", "a start and an end", id="hours-no-end"),
        pytest.param("purpose", "", "Say what the service is for.", id="no-purpose"),
        pytest.param("accepts_referrals_from", ["fax"], "Select a valid choice",
                     id="unknown-referral-source"),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_next_to_its_field_and_nothing_is_saved(
    hub, entries, client, field, value, message
):
    before = DirectoryEntry.objects.get(service=hub.wellbeing)
    client.force_login(hub.org_admin)

    response = client.post(edit_url(hub.wellbeing), good_form(**{field: value}))

    page = html(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    error_id = "referrers-error" if field == "accepts_referrals_from" else f"id_{field}_error"
    assert message in error_next_to_field(page, error_id)
    after = DirectoryEntry.objects.get(service=hub.wellbeing)
    assert (after.purpose, after.phone, after.opening_hours) == (
        before.purpose, before.phone, before.opening_hours,
    )  # fmt: skip
    assert not AuditEvent.objects.filter(action="referrals.directory.updated").exists()


def test_the_error_summary_names_the_day_with_bad_hours(hub, entries, client):
    client.force_login(hub.org_admin)

    response = client.post(edit_url(hub.wellbeing), good_form(hours_1="9am-5pm"))

    assert re.search(r'<a href="#id_hours_1">Tuesday: “9am” is not a time', html(response))


WELSH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "cy"}
IN_WELSH = "Cymorth tymor byr gyda llesiant."


def test_a_service_writes_its_entry_in_welsh_too_and_welsh_readers_see_it(hub, entries, client):
    client.force_login(hub.org_admin)
    form = good_form(welsh_purpose=f"  {IN_WELSH}  ", welsh_self_help="")
    assert client.post(edit_url(hub.wellbeing), form).status_code == 302
    entry = DirectoryEntry.objects.get(service=hub.wellbeing)
    assert entry.welsh == {"purpose": IN_WELSH}  # trimmed; an empty box is not kept
    assert (
        f'lang="cy" class="nhsuk-textarea" id="id_welsh_purpose">\n{IN_WELSH}</textarea>'
        in html(client.get(edit_url(hub.wellbeing)))
    )

    page = reverse("referrals:directory-entry", args=[hub.wellbeing.uuid])
    welsh = html(Client().get(page, **WELSH_BROWSER))
    assert f'<div class="nhsuk-lede-text"><p>{IN_WELSH}</p></div>' in welsh
    # Where the service wrote no Welsh, its English is shown, marked as English.
    assert f'<div lang="en-GB"><p>{entry.who_for}</p></div>' in welsh
    english = html(Client().get(page))
    assert IN_WELSH not in english
    assert 'lang="en-GB"><p>' not in english  # English pages mark nothing
    # A Welsh search finds it.
    found = html(Client().get(reverse("referrals:directory"), {"q": "llesiant"}))
    assert hub.wellbeing.name in found


def test_welsh_words_only_for_the_entrys_own_texts(hub, entries):
    entry = entries["wellbeing"]
    entry.welsh = {"phone": "0161"}
    with pytest.raises(ValidationError, match="Welsh words may be given for"):
        entry.full_clean()
