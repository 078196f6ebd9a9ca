"""A Welsh-speaking student on a phone: they choose Cymraeg before signing in, and their record,
consent and questionnaire pages are in Welsh with no English left, but for the questionnaires'
own validated wording, which is marked as English for screen readers."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from conftest import PASSWORD
from joinedup.conftest import accessible_at_both_sizes, expect_fits_the_screen, login
from joinedup.consent.services import record_consent
from joinedup.measures.services import send_completion_link
from joinedup.measures.tests.factories import start_episode
from joinedup.people.models import Organisation, Service
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at, walked_in
from joinedup.referrals.tests.test_directory_views import write_directory

pytestmark = pytest.mark.browser

# Words of English that are not also Welsh words: any of them on a Welsh page is English left.
ENGLISH_ONLY = frozenset({
    "the", "and", "you", "your", "with", "for", "this", "that", "what", "who", "has", "have",
    "are", "not", "can", "will", "from", "when", "there", "been", "if", "they", "their",
    "about", "how", "see", "yes", "it", "my", "by", "of", "in", "or", "our", "us", "them",
    "here", "were",
})  # fmt: skip


def _labels() -> frozenset[str]:
    """The English of the app's own labels a student sees (kinds of information, of
    appointment, their statuses, who refers): single words the list above cannot catch."""
    from joinedup.consent.models import Category
    from joinedup.referrals.models import Appointment, DirectoryEntry

    with translation.override("en-gb"):
        return frozenset(
            str(label)
            for choices in (Category, Appointment.Kind, Appointment.Status, DirectoryEntry.Source)
            for label in choices.labels
        )


def cy(english: str) -> str:
    with translation.override("cy"):
        return gettext(english)


def english_left(page, *data: str) -> list[str]:
    """The English words on the page, each with what is around it, leaving out what is marked
    as English (a questionnaire's wording, the switch back to English) and the data the page
    shows (names of people, services and organisations, which are not translated)."""
    text = page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll('[lang^="en"], script, style').forEach(e => e.remove());
            return body.textContent + ' ' + document.title;
        }"""
    )
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = " ".join(text.split())
    words = [
        found for found in re.finditer(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*", text)
        if found.group().lower() in ENGLISH_ONLY
    ]  # fmt: skip
    words += [
        found for label in _labels() for found in re.finditer(rf"\b{re.escape(label)}\b", text)
    ]
    return sorted(text[max(found.start() - 30, 0) : found.end() + 30] for found in words)


def test_a_welsh_student_reads_their_record_consents_and_questionnaires_in_welsh(hub, phone_page):
    episode = start_episode(hub)
    record_consent(
        actor=hub.practitioner,
        student=hub.student,
        category="risk",
        purpose="direct_care",
        how_given="in_person",
        recipient_service=hub.crisis,
    )
    token = send_completion_link(
        actor=hub.practitioner,
        episode=episode,
        session_number=1,
        codes=["PHQ-9"],
    )
    data = [
        hub.student.display_name,
        hub.student_user.email,
        *(service.name for service in (hub.wellbeing, hub.crisis, hub.counselling)),
        hub.wellbeing.organisation.name,
        hub.crisis.organisation.name,
        "JoinedUp",
    ]
    page = phone_page

    # Signing in, they choose Cymraeg from the header.
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    page.get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    assert english_left(page, *data) == []
    accessible_at_both_sizes(page)
    page.get_by_label(cy("Email")).fill(hub.student_user.email)
    page.get_by_label(cy("Password")).fill(PASSWORD)
    page.get_by_role("button", name=cy("Sign in")).click()

    # Their record.
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("link", name=cy("Get help now")).first).to_be_visible()
    assert english_left(page, *data) == []
    expect_fits_the_screen(page)
    accessible_at_both_sizes(page)

    # Their consents.
    page.goto("/me/consents/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("")
    assert english_left(page, *data) == []
    expect_fits_the_screen(page)
    accessible_at_both_sizes(page)

    # A questionnaire sent to them: the page is Welsh, the questions their tested English.
    page.goto(f"/me/questionnaires/{token}/")
    expect(page.locator("[data-english-only]")).to_be_visible()
    expect(page.get_by_role("heading", level=2)).to_have_attribute("lang", "en-GB")
    assert english_left(page, *data) == []
    expect_fits_the_screen(page)
    accessible_at_both_sizes(page)

    # Their choice is kept with their record, so what is sent to them is in Welsh too.
    page.goto("/me/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    hub.student.refresh_from_db()
    assert hub.student.language == "en-gb"
    page.get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    hub.student.refresh_from_db()
    assert hub.student.language == "cy"


STUDENT_PAGES = (
    "/me/",
    "/me/messages/",
    "/me/appointments/",
    "/me/scores/",
    "/me/choices/",
    "/me/reminders/",
    "/me/safety-plan/",
    "/me/return-to-study/",
    "/me/name/",
    "/me/trusted-contact/",
    "/me/consents/",
    "/me/consents/withdraw-all/",
    "/services/",
    "/help/",
    "/privacy/",
    "/accessibility/",
    "/concerns/",
    "/concerns/new/",
    "/you-said-we-did/",
)


def test_every_page_a_welsh_student_opens_is_in_welsh(hub, phone_page):
    hub.student.language = "cy"
    hub.student.save()
    write_directory(hub)
    appointment = book(
        hub, walked_in(hub, student=hub.student), day_after_tomorrow_at(10), kind="treatment"
    )
    record_consent(
        actor=hub.practitioner, student=hub.student, category="assessment",
        purpose="direct_care", how_given="in_person", recipient_service=hub.crisis,
    )  # fmt: skip
    login(phone_page, hub.student_user, totp=False)
    data = [
        hub.student.display_name,
        hub.student_user.email,
        "JoinedUp",
        *Organisation.objects.values_list("name", flat=True),
        *Service.objects.values_list("name", flat=True),
    ]
    left = {}
    for path in (*STUDENT_PAGES, f"/me/appointments/{appointment.uuid}/ask/"):
        phone_page.goto(path)
        expect(phone_page.locator("html")).to_have_attribute("lang", "cy")
        if found := english_left(phone_page, *data):
            left[path] = found
    assert not left, "\n".join(f"{path}: {words}" for path, words in left.items())
