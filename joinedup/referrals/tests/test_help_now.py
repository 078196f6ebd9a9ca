"""Help now: a page every page links to, with numbers to tap; shown at once after a crisis
search in the directory and after a risk answer in a questionnaire."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from joinedup.measures.services import send_completion_link
from joinedup.measures.tests.factories import PHQ9_ITEM9, PHQ9_MODERATE, start_episode
from joinedup.referrals.directory.help_now import help_now_for, university_of
from joinedup.referrals.directory.rules import reads_like_crisis
from joinedup.referrals.models.directory import Said
from joinedup.referrals.templatetags.help_now import tel_links
from joinedup.referrals.tests.test_directory_views import write_directory
from joinedup.risk.models import Flag

HELP = reverse("referrals:help-now")
NATIONAL = [
    'href="tel:999"',
    'href="tel:111"',
    'href="tel:116123"',
    'href="sms:85258?&amp;body=SHOUT"',
]


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "words",
    ["I feel suicidal", "want to die", "self-harm", "I keep hurting myself", "overdose",
     "I can't cope", "ending it all", "Suicide", "I've taken a lot of pills",
     "I took all of my tablets", "they'd be better off without me", "I'm not safe tonight",
     "no point living", "whats the point anymore", "i feel like giving up",
     "giving up on everything",
     # In Welsh
     "Dw i'n teimlo'n hunanladdol", "dw i eisiau marw", "isio marw", "hunan-niweidio",
     "dw i wedi bod yn niweidio fy hun", "lladd fy hun", "gorddos", "dw i ddim yn ddiogel heno",
     "methu ymdopi", "dim pwynt byw", "rhoi diwedd ar fy mywyd", "argyfwng"],
)  # fmt: skip
def test_words_of_someone_in_crisis_are_recognised(words):
    assert reads_like_crisis(words)


@pytest.mark.parametrize(
    "words",
    [
        "exam stress",
        "anxiety",
        "eating difficulties",
        "send it",
        "attending",
        "",
        "I have taken my tablets as prescribed",
        "I feel safe now",
        "what's the point of the exam board",
        "straen arholiadau",
        "dw i'n ddiogel nawr",
        "gorbryder",
    ],
)
def test_everyday_searches_are_not_taken_for_a_crisis(words):
    assert not reads_like_crisis(words)


def test_each_phone_number_in_a_services_words_becomes_a_number_to_tap():
    linked = tel_links("Call Nightline on 0161 496 0999, 20:00 to 08:00, or Samaritans on 116 123.")
    assert linked == (
        'Call Nightline on <a href="tel:01614960999">0161 496 0999</a>, 20:00 to 08:00, or '
        'Samaritans on <a href="tel:116123">116 123</a>.'
    )


def test_emergency_numbers_and_helplines_are_numbers_to_tap_but_shortcodes_and_figures_not():
    assert tel_links(
        "Emergency: 999. NHS 111, option 2. Childline 0800 1111. Shout: text SHOUT to 85258. "
        "Room 1110, 9999 steps."
    ) == (
        'Emergency: <a href="tel:999">999</a>. NHS <a href="tel:111">111</a>, option 2. '
        'Childline <a href="tel:08001111">0800 1111</a>. Shout: text SHOUT to 85258. '
        "Room 1110, 9999 steps."
    )


def test_the_words_around_the_numbers_are_escaped():
    assert tel_links("<b>Ring</b> 0161 496 0999") == (
        '&lt;b&gt;Ring&lt;/b&gt; <a href="tel:01614960999">0161 496 0999</a>'
    )


def test_the_local_lines_come_from_the_directory(hub):
    write_directory(hub)
    found = help_now_for(hub.university)
    assert [e.service for e in found.crisis_lines] == [hub.crisis]  # crisis topic, a phone
    assert [(o.services, o.words) for o in found.out_of_hours] == [
        (
            [hub.counselling.name],
            Said("Call Northbridge Nightline on 0161 496 0999, 20:00 to 08:00."),
        )
    ]
    assert help_now_for(hub.other_university).out_of_hours == []  # not Northbridge's words


def test_services_saying_the_same_are_named_together(hub):
    entries = write_directory(hub)
    entries["wellbeing"].out_of_hours = entries["counselling"].out_of_hours
    entries["wellbeing"].save()
    said = help_now_for(hub.university).out_of_hours
    assert [sorted(o.services) for o in said] == [
        sorted([hub.counselling.name, hub.wellbeing.name])
    ]


def test_whose_university_a_signed_in_person_sees(hub):
    assert university_of(hub.student_user) == hub.university
    assert university_of(hub.practitioner) == hub.university
    assert university_of(hub.crisis_practitioner) is None  # an NHS service chooses


def test_anyone_may_open_help_now_and_tap_each_national_number(hub, client):
    write_directory(hub)
    html = page(client, HELP)
    for link in [*NATIONAL, 'href="tel:08005550111"']:
        assert link in html
    assert "data-out-of-hours" not in html  # no university chosen yet
    chosen = page(client, HELP, university=hub.university.uuid)
    assert 'href="tel:01614960999"' in chosen
    assert "University of Northbridge: when services are closed" in chosen


def test_a_university_that_is_not_one_is_ignored(hub, client):
    html = page(client, HELP, university="not-a-uuid")
    assert 'href="tel:999"' in html


def test_every_page_links_to_help_now(hub, client):
    client.force_login(hub.student_user)
    html = page(client, reverse("portal:home"))
    assert re.search(rf'<a class="jup-help-now" href="{HELP}"[^>]*>Get help now</a>', html)


def test_a_directory_search_in_words_of_crisis_shows_help_first(hub, client):
    write_directory(hub)
    html = page(client, reverse("referrals:directory"), q="I feel suicidal")
    assert html.index("data-help-now") < html.index("Search services")
    for link in NATIONAL:
        assert link in html
    assert "data-help-now" not in page(client, reverse("referrals:directory"), q="anxiety")


def test_words_of_crisis_that_name_no_service_list_the_crisis_services(hub, client):
    write_directory(hub)
    html = page(client, reverse("referrals:directory"), q="I feel suicidal")
    assert "These services can help you in a crisis:" in html
    assert "1 service of 6" in html
    assert ">Crisis Team</a>" in html
    named = page(client, reverse("referrals:directory"), q="self-harm")  # a topic of its own
    assert "data-crisis-services" not in named


def answer(hub):
    episode = start_episode(hub)
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["PHQ-9"]
    )
    return token, episode


def post_answers(client, token, answers, **extra) -> str:
    data = {f"PHQ-9-item_{n}": a for n, a in enumerate(answers, 1) if a is not None} | extra
    response = client.post(reverse("portal:questionnaire-complete", args=[token]), data)
    assert response.status_code == 200
    return response.content.decode()


def test_a_risk_answer_shows_help_and_when_the_service_will_be_in_touch(hub, client):
    token, _ = answer(hub)
    html = post_answers(client, token, PHQ9_ITEM9)
    flag = Flag.objects.get()
    due = timezone.localtime(flag.due_at)
    assert (
        f"{hub.wellbeing.name} has been told, and someone will contact you by "
        f"{due:%A} {due.day} {due:%B} at {due:%H:%M}"
    ) in html
    for link in NATIONAL:
        assert link in html


def test_an_unanswered_risk_question_shows_help_without_promising_a_call(hub, client):
    token, _ = answer(hub)
    html = post_answers(client, token, [*PHQ9_MODERATE[:8], None], **{"PHQ-9-save_unscored": "on"})
    assert "You did not answer the question about thoughts of harming yourself" in html
    assert "will contact you" not in html
    assert 'href="tel:116123"' in html
    assert not Flag.objects.exists()


def test_no_risk_no_panel(hub, client):
    token, _ = answer(hub)
    assert "data-help-now" not in post_answers(client, token, PHQ9_MODERATE)


def test_every_page_links_to_the_accessibility_statement_which_says_what_is_not_yet_accessible(
    hub, client
):
    html = page(client, HELP)
    assert f'href="{reverse("accessibility")}"' in html
    statement = page(client, reverse("accessibility"))
    assert (
        "partially meets the Web Content Accessibility Guidelines (WCAG) version 2.2 AA"
        in statement
    )
    assert "Questionnaires are in English only, in Welsh pages too" in statement
