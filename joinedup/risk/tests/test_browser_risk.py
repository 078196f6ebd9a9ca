"""Risk in the browser: a tutor's urgent concern and the guidance after it, triage picking a
concern up and talking with the tutor (who learns nothing clinical), a student's anonymous
concern read back with a private link, a questionnaire flag that escalates before it is
acknowledged, and a structured risk assessment reaching the caseload.
"""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

from conftest import PASSWORD, make_staff, make_student
from joinedup.conftest import (
    _page_in_new_context,
    assert_accessible,
    expect_fits_the_screen,
    login,
    open_from_menu,
    shown,
)
from joinedup.measures import instruments
from joinedup.measures.services import send_completion_link
from joinedup.measures.tests.factories import start_episode
from joinedup.people.models import User
from joinedup.record.models import RecordEntry
from joinedup.risk import concerns
from joinedup.risk.levels import ensure_default_levels
from joinedup.risk.models import (
    Concern,
    Escalation,
    Flag,
    RiskAssessment,
    RiskLevel,
)

pytestmark = pytest.mark.browser

SECRET = "CLINICAL-SECRET"
OBSERVED = "Tearful in the seminar and said they cannot cope with anything at the moment."
PHQ9_ITEM_9_SEVERAL_DAYS = [1, 1, 1, 1, 0, 0, 1, 0, 1]  # 6, item 9 "Several days"


@pytest.fixture
def fresh_page(browser, live_server, _fresh_browser_cache):
    """A third browser, with cookies of its own and the same problem watcher."""
    yield from _page_in_new_context(browser, live_server)


@pytest.fixture
def duty(hub) -> User:
    """Wellbeing's duty worker, who triages concerns."""
    return make_staff("duty@nb.ac.uk", "triage", hub.university, service=hub.wellbeing)


def field_group(page, label: str):
    """The NHS.UK form group around a field, where its error message is shown."""
    return page.locator(".nhsuk-form-group").filter(has=page.get_by_label(label, exact=True))


def open_concern_from_the_list(page, link_name) -> None:
    open_from_menu(page, "Concerns", exact=True)
    expect(page).to_have_url(re.compile(r"/concerns/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Concerns")
    assert_accessible(page)
    page.get_by_role("link", name=link_name).click()
    expect(page).to_have_url(re.compile(r"/concerns/[0-9a-f-]{36}/$"))
    assert_accessible(page)


def sign_out(page) -> None:
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_tutor_raises_an_urgent_concern_and_sees_guidance(hub, page):
    login(page, hub.academic)
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
    assert_accessible(page)
    page.get_by_role("link", name="Raise a concern").click()

    expect(page).to_have_url(re.compile(rf"/concerns/new/\?student={hub.student.uuid}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern about a student")
    expect(page.get_by_role("main")).to_contain_text("Call 999 now")
    # The tutor came from the record: nobody has to look the student's number up.
    expect(page.get_by_label("The student's number")).to_have_value("NB1000001")
    assert_accessible(page)
    page.get_by_label("How urgent does it feel?").select_option(label="Urgent: today")
    page.get_by_label("Does the student know you are raising this?").select_option(label="Yes")
    page.get_by_label("The student agreed to me passing this on").check()
    page.get_by_role("button", name="Raise concern").click()

    # Refused, next to the empty box; what was chosen is kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern about a student")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    observed = page.get_by_label("What have you noticed?")
    expect(field_group(page, "What have you noticed?")).to_contain_text(
        "Error: Say what you have noticed."
    )
    expect(field_group(page, "What have you noticed?")).to_have_class(
        re.compile(r"nhsuk-form-group--error")
    )
    expect(observed).to_have_attribute("aria-invalid", "true")
    expect(observed).to_have_accessible_description(re.compile("Say what you have noticed."))
    expect(
        page.get_by_role("alert").get_by_role("link", name="Say what you have noticed.")
    ).to_have_attribute("href", "#id_observed")
    expect(page.locator(".nhsuk-error-message")).to_have_count(1)
    expect(page.get_by_label("How urgent does it feel?")).to_have_value("urgent")
    expect(page.get_by_label("The student's number")).to_have_value("NB1000001")
    assert_accessible(page)
    assert not Concern.objects.exists()

    observed.fill(OBSERVED)
    page.get_by_role("button", name="Raise concern").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("What to do now")
    # The tutor may read the names of their department's students: they see which one it is.
    expect(page.get_by_role("status")).to_contain_text(
        f"Thank you. Your concern about {hub.student.display_name} (NB1000001) has gone to "
        "Wellbeing."
    )
    main = page.get_by_role("main")
    expect(main).to_contain_text("If the student is in danger now, call 999.")
    expect(main).to_contain_text("Samaritans on 116 123")
    expect(main).to_contain_text("Wellbeing will respond today, within 4 hours.")
    expect(page.locator("[data-private-code]")).to_have_count(0)
    expect(page.get_by_role("heading", level=2, name="Where to signpost")).to_be_visible()
    expect(main.get_by_role("link", name="Wellbeing", exact=True)).to_have_attribute(
        "href", reverse("referrals:directory-entry", args=[hub.wellbeing.uuid])
    )
    expect(main.get_by_role("link", name="Counselling", exact=True)).to_have_attribute(
        "href", reverse("referrals:directory-entry", args=[hub.counselling.uuid])
    )
    expect(main.get_by_role("link", name="All services in the directory")).to_have_attribute(
        "href", reverse("referrals:directory")
    )
    assert_accessible(page)

    concern = Concern.objects.get()
    assert (
        concern.student,
        concern.service,
        concern.reporter,
        concern.is_from_student,
        concern.code_digest,
        concern.observed,
        concern.urgency,
        concern.student_knows,
        concern.student_agreed,
        concern.acknowledged_at,
    ) == (
        hub.student,
        hub.wellbeing,
        hub.academic,
        False,
        "",
        OBSERVED,
        "urgent",
        "yes",
        True,
        None,
    )
    assert concern.due_at - concern.raised_at == dt.timedelta(hours=4)

    # A signpost leads to the service's entry in the directory.
    main.get_by_role("link", name="Wellbeing", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/services/{hub.wellbeing.uuid}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wellbeing")
    assert_accessible(page)


def test_triage_picks_up_the_concern_and_the_tutor_sees_only_that(
    hub, duty, page, fresh_page, mailoutbox
):
    RecordEntry.objects.create(
        student=hub.student, category="risk", service=hub.wellbeing, author=hub.practitioner,
        title="Risk summary", body=SECRET,
    )  # fmt: skip
    concern, code = concerns.raise_concern(
        reporter=hub.academic, student=hub.student, observed=OBSERVED, urgency="soon",
        student_knows="no", student_agreed=False,
    )  # fmt: skip
    assert code == ""
    question = "Thank you. Have they been to the last two seminars?"
    answer = "No, they missed both; I have not heard from them since."

    # The duty worker at their own computer (each person signs in once).
    duty_page = fresh_page
    login(duty_page, duty)
    open_concern_from_the_list(duty_page, hub.student.display_name)
    expect(duty_page.get_by_role("heading", level=1)).to_have_text(
        f"Concern about {hub.student.display_name}"
    )
    main = duty_page.get_by_role("main")
    expect(main).to_contain_text(OBSERVED)
    expect(main).to_contain_text("Soon: within a day")
    expect(main).to_contain_text(hub.academic.get_full_name() or hub.academic.email)
    expect(duty_page.locator("[data-acknowledged]")).to_have_text(
        f"Not yet; due by {shown(concern.due_at)}"
    )
    duty_page.get_by_role("button", name="Pick up this concern").click()

    expect(duty_page.get_by_role("status")).to_contain_text("Saved.")
    concern.refresh_from_db()
    assert concern.acknowledged_by == duty
    assert concern.acknowledged_at is not None
    expect(duty_page.locator("[data-acknowledged]")).to_have_text(
        f"Picked up by Wellbeing on {shown(concern.acknowledged_at)}"
    )
    expect(duty_page.get_by_role("button", name="Pick up this concern")).to_have_count(0)
    assert_accessible(duty_page)
    duty_page.get_by_label("Message").fill(question)
    duty_page.get_by_role("button", name="Ask the person who raised it").click()

    expect(duty_page.get_by_role("status")).to_contain_text("Saved.")
    expect(duty_page.locator("[data-message]")).to_have_count(1)
    expect(duty_page.locator("[data-message]")).to_contain_text(question)
    expect(duty_page.locator("[data-message]")).to_contain_text("Wellbeing")
    assert list(concern.messages.values_list("from_reporter", "author", "text")) == [
        (False, duty.pk, question)
    ]

    # The tutor, in the same browser, sees that it was picked up and the question; nothing
    # clinical, not even the outcome triage recorded.
    academic_pages = []

    def nothing_clinical():
        academic_pages.append(page.url)
        html = page.content()
        assert SECRET not in html, page.url
        assert "The service contacted the student" not in html, page.url
        assert "Risk summary" not in html, page.url

    login(page, hub.academic)
    nothing_clinical()
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
    assert_accessible(page)
    nothing_clinical()
    open_from_menu(page, "Concerns", exact=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Concerns")
    expect(page.get_by_role("heading", name="Waiting for triage")).to_have_count(0)
    mine = page.get_by_role("main").get_by_role("listitem").filter(has_text="Wellbeing")
    expect(mine).to_contain_text("picked up")
    expect(mine).not_to_contain_text("not picked up yet")
    assert_accessible(page)
    nothing_clinical()
    mine.get_by_role("link").click()

    expect(page).to_have_url(re.compile(rf"/concerns/{concern.uuid}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The concern you raised")
    expect(page.locator("[data-acknowledged]")).to_have_text(
        f"Picked up by Wellbeing on {shown(concern.acknowledged_at)}"
    )
    expect(page.locator("[data-message]")).to_contain_text(question)
    expect(page.get_by_role("button", name="Pick up this concern")).to_have_count(0)
    expect(page.get_by_role("button", name="Record outcome")).to_have_count(0)
    expect(page.locator("[data-shared]")).to_have_count(0)
    assert_accessible(page)
    nothing_clinical()
    page.get_by_label("Message").fill(answer)
    page.get_by_role("button", name="Add what you have noticed").click()

    expect(page).to_have_url(re.compile(rf"/concerns/{concern.uuid}/$"))
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator("[data-message]")).to_have_count(2)
    expect(page.locator("[data-message]").nth(1)).to_contain_text("Person who raised it")
    expect(page.locator("[data-message]").nth(1)).to_contain_text(answer)
    assert_accessible(page)
    nothing_clinical()
    assert list(concern.messages.values_list("from_reporter", "author", "text")) == [
        (False, duty.pk, question),
        (True, hub.academic.pk, answer),
    ]
    # Triage, with the answer, closes the concern: it leaves the queue.
    duty_page.reload()
    expect(duty_page.locator("[data-message]").nth(1)).to_contain_text(answer)
    duty_page.get_by_label("Outcome").select_option(label="The service contacted the student")
    duty_page.get_by_role("button", name="Record outcome").click()
    expect(duty_page).to_have_url(re.compile(r"/concerns/$"))
    expect(duty_page.get_by_role("status")).to_contain_text("Saved.")
    expect(duty_page.get_by_role("heading", name="Waiting for triage")).to_have_count(0)
    assert_accessible(duty_page)
    concern.refresh_from_db()
    assert concern.outcome == "contacted"
    # The tutor is told it is closed, never what was decided, and can add nothing more.
    page.reload()
    expect(page.locator("[data-closed]")).to_contain_text("Closed by Wellbeing on")
    expect(page.locator("[data-closed-thread]")).to_contain_text("raise a new concern")
    expect(page.get_by_role("button", name="Add what you have noticed")).to_have_count(0)
    assert_accessible(page)
    nothing_clinical()
    assert len(academic_pages) == 6

    # The emails say what happened and where to look: no observation, nothing clinical.
    to_academic = [m for m in mailoutbox if m.to == [hub.academic.email]]
    assert sorted(m.subject for m in to_academic) == [
        "A reply about the concern you raised",
        "The concern you raised has been closed",
        "Your concern has been picked up",
    ]
    for message in mailoutbox:
        for text in (OBSERVED, SECRET, question, hub.student.display_name):
            assert text not in message.subject + message.body


@pytest.fixture
def friend(hub) -> User:
    """Another student of Northbridge, who is worried about Alex."""
    user = User.objects.create_user("samira@student.nb.ac.uk", PASSWORD)
    make_student(
        hub.university, "NB1000002", user=user, preferred_name="Samira",
        legal_given_name="Samira", legal_family_name="Okafor",
    )  # fmt: skip
    return user


def raise_anonymously(page) -> None:
    """On the concern form, as a student: about NB1000001, keeping their own name private."""
    page.get_by_label("The student's number").fill("NB1000001")
    page.get_by_label("What have you noticed?").fill(OBSERVED)
    page.get_by_label("How urgent does it feel?").select_option(label="Soon: within a day")
    page.get_by_label("Does the student know you are raising this?").select_option(label="No")
    page.get_by_label(re.compile(r"^Keep my name private")).check()
    page.get_by_role("button", name="Raise concern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What to do now")


def test_an_anonymous_student_reads_replies_with_a_private_code(
    hub, duty, friend, page, phone_page, fresh_page
):
    reply = "Thank you for telling us. When did you last see them?"
    answer = "This morning in the library; they looked exhausted."

    login(phone_page, friend, totp=False)
    expect(phone_page).to_have_url(re.compile(r"/me/$"))
    open_from_menu(phone_page, "Concerns", exact=True)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Concerns")
    assert_accessible(phone_page)
    phone_page.get_by_role("link", name="Raise a concern").click()

    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Raise a concern about a student"
    )
    expect(phone_page.get_by_label("The student's number")).to_have_value("")
    expect_fits_the_screen(phone_page)
    assert_accessible(phone_page)
    raise_anonymously(phone_page)

    callout = phone_page.locator(".nhsuk-warning-callout")
    expect(callout).to_contain_text("Your private code")
    expect(callout).to_contain_text("It is shown only once")
    private = phone_page.locator("[data-private-code] a")
    href = private.get_attribute("href")
    match = re.fullmatch(r"/concerns/private/([^/]+)/", href)
    assert match, href
    code = match.group(1)
    expect(private).to_have_text(re.compile(rf"^https?://[^/]+{re.escape(href)}$"))
    private_url = private.inner_text()
    assert_accessible(phone_page)

    concern = Concern.objects.get()
    assert (concern.student, concern.service, concern.reporter, concern.is_from_student) == (
        hub.student,
        hub.wellbeing,
        None,
        True,
    )
    assert concern.code_digest == concerns.digest(code)
    assert code not in concern.code_digest

    # Triage sees the concern without the student who raised it.
    login(page, duty)
    open_concern_from_the_list(page, hub.student.display_name)
    main = page.get_by_role("main")
    expect(main).to_contain_text(OBSERVED)
    expect(main).to_contain_text("A student, anonymously")
    for revealing in ("Samira", "Okafor", "NB1000002", friend.email):
        expect(main).not_to_contain_text(revealing)
    page.get_by_role("button", name="Pick up this concern").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    page.get_by_label("Message").fill(reply)
    page.get_by_role("button", name="Ask the person who raised it").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator("[data-message]")).to_contain_text(reply)
    assert_accessible(page)

    # Later, from another browser and without signing in, the private link.
    fresh_page.goto(private_url)
    expect(fresh_page.get_by_role("heading", level=1)).to_have_text("The concern you raised")
    expect(fresh_page.get_by_role("button", name="Sign out")).to_have_count(0)
    concern.refresh_from_db()
    expect(fresh_page.locator("[data-acknowledged]")).to_have_text(
        f"Picked up by Wellbeing on {shown(concern.acknowledged_at)}."
    )
    expect(fresh_page.locator("[data-message]")).to_have_count(1)
    expect(fresh_page.locator("[data-message]")).to_contain_text("Wellbeing")
    expect(fresh_page.locator("[data-message]")).to_contain_text(reply)
    assert_accessible(fresh_page)
    fresh_page.get_by_label("Message").fill(answer)
    fresh_page.get_by_role("button", name="Send").click()

    expect(fresh_page).to_have_url(private_url)
    expect(fresh_page.locator("[data-message]")).to_have_count(2)
    expect(fresh_page.locator("[data-message]").nth(1)).to_contain_text("Person who raised it")
    expect(fresh_page.locator("[data-message]").nth(1)).to_contain_text(answer)
    assert_accessible(fresh_page)
    assert list(concern.messages.values_list("from_reporter", "author", "text")) == [
        (False, duty.pk, reply),
        (True, None, answer),
    ]

    # A wrong code finds nothing.
    response = fresh_page.goto(reverse("risk:concern-private", args=[code + "x"]))
    assert response.status == 404


def test_the_private_link_fits_a_phone_screen(hub, friend, phone_page):
    login(phone_page, friend, totp=False)
    phone_page.goto(reverse("risk:concern-create"))
    raise_anonymously(phone_page)
    expect(phone_page.locator("[data-private-code] a")).to_be_visible()
    assert_accessible(phone_page)
    expect_fits_the_screen(phone_page)


def test_reloading_the_guidance_does_not_raise_the_concern_twice(hub, friend, page):
    login(page, friend, totp=False)
    page.goto(reverse("risk:concern-create"))
    raise_anonymously(page)
    assert Concern.objects.count() == 1
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("What to do now")
    assert_accessible(page)
    assert Concern.objects.count() == 1


def answer_phq9(page, answers: list[int]) -> None:
    instrument = instruments.get("PHQ-9")
    for item, value in zip(instrument.items, answers, strict=True):
        label = next(o.label for o in instrument.options if o.value == value)
        page.get_by_role("group", name=item.text, exact=True).get_by_label(
            label, exact=True
        ).check()


def test_an_unacknowledged_questionnaire_flag_escalates_and_is_acknowledged(
    hub, duty, page, phone_page, mailoutbox
):
    episode = start_episode(hub)
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["PHQ-9"]
    )

    phone_page.goto(reverse("portal:questionnaire-complete", args=[token]))
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Before your next session")
    assert_accessible(phone_page)
    answer_phq9(phone_page, PHQ9_ITEM_9_SEVERAL_DAYS)
    item_9 = instruments.get("PHQ-9").items[8]
    expect(
        phone_page.get_by_role("group", name=item_9.text, exact=True).get_by_label(
            "Several days", exact=True
        )
    ).to_be_checked()
    phone_page.get_by_role("button", name="Send my answers").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )
    expect(phone_page.locator("[data-support]")).to_contain_text("116 123")
    assert_accessible(phone_page)

    flag = Flag.objects.get()
    assert (flag.student, flag.service, flag.source, flag.level.name, flag.escalation_stage) == (
        hub.student,
        hub.wellbeing,
        "questionnaire",
        "High",
        0,
    )
    assert flag.due_at - flag.raised_at == dt.timedelta(hours=24)
    assert flag.administration.answers.get(item=9).value == 1

    # Nobody acknowledges it for 25 hours: the escalation job (run every few minutes)
    # sends it to the duty worker, once.
    later = timezone.now() + dt.timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        call_command("escalate_flags", stdout=io.StringIO())
        call_command("escalate_flags", stdout=io.StringIO())
    escalation = Escalation.objects.get()
    assert (escalation.flag, escalation.stage, escalation.sent_to) == (flag, 1, [duty.email])
    flag.refresh_from_db()
    assert flag.escalation_stage == 1
    assert flag.acknowledged_at is None
    escalated = [m for m in mailoutbox if m.subject.startswith("Escalation:")]
    assert len(escalated) == 1
    email = escalated[0]
    assert email.to == [duty.email]
    assert email.subject == "Escalation: a high risk flag is not acknowledged"
    assert "/risk/flags/" in email.body
    student = hub.student
    for revealing in (
        student.display_name,
        student.legal_given_name,
        student.legal_family_name,
        student.student_number,
        flag.reason,
        "PHQ-9",
        "item 9",
        "self-harm",
        "suicid",
    ):
        assert revealing.lower() not in (email.subject + email.body).lower(), revealing

    login(page, hub.practitioner)
    open_from_menu(page, "Worklist", exact=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire worklist")
    assert_accessible(page)
    page.get_by_role("link", name="Risk flags to acknowledge").click()
    expect(page).to_have_url(re.compile(r"/risk/flags/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk flags to acknowledge")
    card = page.locator(f'[data-flag="{flag.uuid}"]')
    expect(card.get_by_role("heading")).to_contain_text(f"{student.display_name} · High")
    expect(card).to_contain_text("PHQ-9 risk item 9 answered above zero")
    expect(card).to_contain_text(f"Acknowledge by {shown(flag.due_at)} · escalated")
    expect(card.locator("strong", has_text="escalated")).to_be_visible()
    assert_accessible(page)
    card.get_by_role("button", name=f"Acknowledge {student.display_name}").click()

    expect(page).to_have_url(re.compile(r"/risk/flags/$"))
    expect(page.get_by_role("status")).to_contain_text("Flag acknowledged.")
    expect(page.locator("[data-flag]")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("No flags are waiting.")
    assert_accessible(page)
    flag.refresh_from_db()
    assert flag.acknowledged_by == hub.practitioner
    assert flag.acknowledged_at is not None
    # Acknowledged, it goes no further along the route.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=60), tick=False):
        call_command("escalate_flags", stdout=io.StringIO())
    assert Escalation.objects.count() == 1


def test_a_practitioner_records_a_risk_assessment_with_a_clear_error_first(hub, page):
    ensure_default_levels()
    levels = {level.name: level.rank for level in RiskLevel.objects.all()}
    review_on = timezone.localdate() + dt.timedelta(days=14)
    factors = "Recent break-up; exams in three weeks; drinking more."
    protective = "Close to their sister; engaged with Wellbeing."
    plan = "Weekly sessions; safety plan shared; crisis numbers given."

    login(page, hub.practitioner)
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
    risk_section = page.locator('section[data-category="risk"]')
    expect(risk_section.locator("[data-current-level]")).to_contain_text(
        "Current risk level: Not assessed"
    )
    assert_accessible(page)
    risk_section.get_by_role("link", name="Risk assessments and flags").click()

    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/risk/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk")
    expect(page.locator("[data-current-level]")).to_have_text("Current level: Not assessed")
    assert_accessible(page)
    page.get_by_label("Risk factors", exact=True).fill(factors)
    page.get_by_label("Protective factors", exact=True).fill(protective)
    page.get_by_label("Plan", exact=True).fill(plan)
    page.get_by_label("Review date", exact=True).fill(review_on.isoformat())
    page.get_by_role("button", name="Record assessment").click()

    # No domain rated: refused, saying so, with what was written kept.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("Rate at least one domain.")
    expect(page.get_by_label("Risk factors", exact=True)).to_have_value(factors)
    expect(page.get_by_label("Plan", exact=True)).to_have_value(plan)
    expect(page.get_by_label("Review date", exact=True)).to_have_value(review_on.isoformat())
    expect(page.locator("[data-current-level]")).to_have_text("Current level: Not assessed")
    assert_accessible(page)
    assert not RiskAssessment.objects.exists()

    page.get_by_label("To self (self-harm, suicide)", exact=True).select_option(
        str(levels["Moderate"])
    )
    page.get_by_label("Academic (interrupting or leaving)", exact=True).select_option(
        str(levels["High"])
    )
    page.get_by_role("button", name="Record assessment").click()

    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/risk/$"))
    expect(page.get_by_role("status")).to_contain_text("Risk assessment recorded.")
    expect(page.locator("[data-current-level]")).to_have_text("Current level: High")
    card = page.locator("[data-assessment]")
    expect(card).to_have_count(1)
    expect(card.get_by_role("heading")).to_contain_text("High · Wellbeing")
    expect(card).to_contain_text(factors)
    expect(card).to_contain_text(protective)
    expect(card).to_contain_text(plan)
    expect(card).to_contain_text(f"review {date_format(review_on, 'j M Y')}")
    # The form is empty again, ready for the next assessment.
    expect(page.get_by_label("Risk factors", exact=True)).to_have_value("")
    assert_accessible(page)
    assessment = RiskAssessment.objects.get()
    assert (
        assessment.student,
        assessment.service,
        assessment.author,
        assessment.domain_levels,
        assessment.level.name,
        assessment.factors,
        assessment.protective_factors,
        assessment.plan,
        assessment.review_on,
    ) == (
        hub.student,
        hub.wellbeing,
        hub.practitioner,
        {"self": levels["Moderate"], "academic": levels["High"]},
        "High",
        factors,
        protective,
        plan,
        review_on,
    )

    open_from_menu(page, "Caseload", exact=True)
    expect(page).to_have_url(re.compile(r"/students/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Caseload")
    row = page.get_by_role("row").filter(has_text="NB1000001")
    expect(row.locator("[data-risk]")).to_have_text("High")
    assert_accessible(page)
