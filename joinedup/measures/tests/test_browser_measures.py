"""Questionnaires in the browser: PHQ-9 and GAD-7 recorded in sessions and charted, completed
by the student from a one-time link on a phone, and a positive risk item reaching the service.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, expect_fits_the_screen, login, open_from_menu
from joinedup.measures import instruments
from joinedup.measures.models import Administration, CompletionLink
from joinedup.measures.services import send_completion_link
from joinedup.measures.tests.factories import start_episode
from joinedup.risk.models import Flag

pytestmark = pytest.mark.browser

# Three sessions of answers, item by item, with scores that fall: (PHQ-9, GAD-7).
SESSIONS = [
    ([2, 3, 2, 2, 2, 2, 2, 3, 0], [2, 3, 2, 2, 2, 2, 2]),  # PHQ-9 18, GAD-7 15
    ([2, 2, 1, 2, 1, 1, 2, 1, 0], [1, 2, 1, 2, 1, 1, 1]),  # PHQ-9 12, GAD-7 9
    ([1, 1, 1, 1, 0, 1, 1, 0, 0], [1, 1, 0, 1, 0, 1, 0]),  # PHQ-9 6, GAD-7 4
]
PHQ9_TOTALS = [18, 12, 6]
GAD7_TOTALS = [15, 9, 4]
PHQ9_BANDS = ["moderately severe", "moderate", "mild"]
GAD7_BANDS = ["severe", "mild", "minimal"]
PHQ9_NO_RISK = [1, 1, 2, 1, 0, 1, 1, 0, 0]  # 7
GAD7_SOME = [1, 1, 1, 0, 0, 1, 1]  # 5
PHQ9_ITEM_9 = [1, 1, 1, 1, 0, 0, 1, 0, 2]  # 7, item 9 "More than half the days"
SUPPORT_NUMBERS = ["999", "NHS 111", "116 123", "85258"]


def item_group(scope, code: str, number: int):
    """An item's radio group, found by its legend (the item's text)."""
    item = instruments.get(code).items[number - 1]
    return scope.get_by_role("group", name=item.text, exact=True)


def option_label(code: str, value: int) -> str:
    return next(o.label for o in instruments.get(code).options if o.value == value)


def answer_by_clicking(scope, code: str, answers: list[int | None]) -> None:
    for number, value in enumerate(answers, start=1):
        if value is not None:
            item_group(scope, code, number).get_by_label(
                option_label(code, value), exact=True
            ).check()


def answer_with_keyboard(page, code: str, answers: list[int]) -> None:
    """From the first item, Tab from radio group to radio group, tick the first option with
    Space and move to the answer with the arrow keys, as a keyboard user would."""
    for number, value in enumerate(answers, start=1):
        group = item_group(page, code, number)
        if number == 1:
            group.get_by_role("radio").first.focus()
        else:
            page.keyboard.press("Tab")
        expect(group.get_by_role("radio").first).to_be_focused()
        page.keyboard.press("Space")
        for _ in range(value):
            page.keyboard.press("ArrowRight")
        expect(group.get_by_label(option_label(code, value), exact=True)).to_be_checked()


def expect_answers_shown(page, code: str, answers: list[int | None]) -> None:
    for number, value in enumerate(answers, start=1):
        group = item_group(page, code, number)
        if value is None:
            for radio in group.get_by_role("radio").all():
                expect(radio).not_to_be_checked()
        else:
            expect(group.get_by_label(option_label(code, value), exact=True)).to_be_checked()


def due_card(page):
    return page.locator(".nhsuk-card[data-episode]")


def open_questionnaires_from_the_record(page, student) -> None:
    page.goto(f"/students/{student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(student.display_name)
    assert_accessible(page)
    page.get_by_role("link", name="Questionnaires", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/students/{student.uuid}/measures/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaires")
    assert_accessible(page)


def record_in_session(page, code: str, answers: list[int], session: int, *, keyboard=False):
    page.get_by_role("link", name=f"Record {code}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record {code}")
    # The due session is filled in: nobody has to work out which session this is.
    expect(page.get_by_label("Session number")).to_have_value(str(session))
    assert_accessible(page)
    expect(page.get_by_label("Date completed")).to_have_value(timezone.localdate().isoformat())
    if keyboard:
        answer_with_keyboard(page, code, answers)
    else:
        answer_by_clicking(page, code, answers)
    page.get_by_role("button", name="Save answers").click()
    expect(page).to_have_url(re.compile(r"/measures/$"))
    expect(page.get_by_role("status")).to_contain_text(f"{code} saved.")
    assert_accessible(page)


def chart_of(page, code: str) -> dict:
    """What Chart.js drew into the measure's canvas, and whether any pixel was painted."""
    selector = f'canvas[data-trajectory="chart-{code}"]'
    page.wait_for_function(
        "s => window.Chart && Chart.getChart(document.querySelector(s))", arg=selector
    )
    return page.evaluate(
        """s => {
            const canvas = document.querySelector(s);
            const chart = Chart.getChart(canvas);
            const pixels = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = false;
            for (let i = 3; i < pixels.length; i += 4) {
                if (pixels[i] !== 0) { painted = true; break; }
            }
            return {
                points: chart.data.datasets[0].data,
                labels: chart.data.labels,
                width: canvas.width,
                height: canvas.height,
                painted: painted,
            };
        }""",
        selector,
    )


def score_rows(page, code: str) -> list[list[str]]:
    table = page.get_by_role("table", name=f"{code} scores")
    expect(table).to_be_visible()
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]


def link_path(token: str) -> str:
    return reverse("portal:questionnaire-complete", args=[token])


def test_practitioner_records_phq9_and_gad7_over_three_sessions_and_sees_the_chart(hub, page):
    episode = start_episode(hub)
    login(page, hub.practitioner)
    open_questionnaires_from_the_record(page, hub.student)
    expect(page.get_by_role("main")).to_contain_text("No questionnaires recorded yet.")

    for session, (phq9, gad7) in enumerate(SESSIONS, start=1):
        card = due_card(page)
        expect(card.get_by_role("heading")).to_have_text(f"Wellbeing: session {session}")
        expect(card.get_by_role("link", name=re.compile(r"^Record "))).to_have_text(
            ["Record GAD-7", "Record PHQ-9"]
        )
        record_in_session(page, "PHQ-9", phq9, session)
        # PHQ-9 done: the same session stays due, for GAD-7 only.
        expect(card.get_by_role("heading")).to_have_text(f"Wellbeing: session {session}")
        expect(card.get_by_role("link", name=re.compile(r"^Record "))).to_have_text(
            ["Record GAD-7"]
        )
        record_in_session(page, "GAD-7", gad7, session, keyboard=session == 2)
    expect(due_card(page).get_by_role("heading")).to_have_text("Wellbeing: session 4")

    for code, totals in [("PHQ-9", PHQ9_TOTALS), ("GAD-7", GAD7_TOTALS)]:
        chart = chart_of(page, code)
        assert chart["points"] == totals
        assert [label.split(" (")[0] for label in chart["labels"]] == [
            "Session 1",
            "Session 2",
            "Session 3",
        ]
        assert chart["width"] > 0
        assert chart["height"] > 0
        assert chart["painted"]
        expect(page.get_by_role("img", name=f"Chart of {code} scores by session")).to_be_visible()

    for code, totals, bands in [
        ("PHQ-9", PHQ9_TOTALS, PHQ9_BANDS),
        ("GAD-7", GAD7_TOTALS, GAD7_BANDS),
    ]:
        rows = score_rows(page, code)
        assert [row[1:] for row in rows] == [
            [str(session), str(total), band, "Recorded in a session, Wellbeing"]
            for session, total, band in zip([1, 2, 3], totals, bands, strict=True)
        ]
    phq9_section = page.locator('section[data-measure="PHQ-9"]')
    expect(phq9_section).to_contain_text("Change from first to latest score: -12.")
    expect(phq9_section).to_contain_text("Reliable improvement")
    assert_accessible(page)

    stored = Administration.objects.filter(episode=episode).order_by("code", "session_number")
    assert [(a.code, a.session_number, a.total, a.method, a.recorded_by) for a in stored] == [
        ("GAD-7", n, total, "in_session", hub.practitioner)
        for n, total in zip([1, 2, 3], GAD7_TOTALS, strict=True)
    ] + [
        ("PHQ-9", n, total, "in_session", hub.practitioner)
        for n, total in zip([1, 2, 3], PHQ9_TOTALS, strict=True)
    ]
    keyed = stored.get(code="GAD-7", session_number=2)
    assert {a.item: a.value for a in keyed.answers.all()} == dict(
        enumerate(SESSIONS[1][1], start=1)
    )


def test_too_many_unanswered_phq9_items_are_refused_keeping_the_answers_given(hub, page):
    episode = start_episode(hub)
    login(page, hub.practitioner)
    page.goto(f"/episodes/{episode.uuid}/measures/PHQ-9/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record PHQ-9")
    assert_accessible(page)
    partial = [2, 1, 3, 0, 2, 1, None, None, None]
    page.get_by_label("Date completed").fill(timezone.localdate().isoformat())
    answer_by_clicking(page, "PHQ-9", partial)
    page.get_by_role("button", name="Save answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Record PHQ-9")
    expect(page.get_by_role("main")).to_contain_text(
        "3 questions are unanswered, so PHQ-9 cannot be scored. Answer them, or tick "
        "“Save without a score”."
    )
    expect(page.get_by_label("Save without a score (some items were not answered)")).to_be_visible()
    expect(
        page.get_by_label("Save without a score (some items were not answered)")
    ).not_to_be_checked()
    expect_answers_shown(page, "PHQ-9", partial)
    expect(page.get_by_label("Session number")).to_have_value("1")
    expect(page.get_by_label("Date completed")).to_have_value(timezone.localdate().isoformat())
    expect(page.get_by_label("Date completed")).not_to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    assert not Administration.objects.filter(student=hub.student).exists()


def test_the_date_completed_starts_as_today(hub, page):
    episode = start_episode(hub)
    login(page, hub.practitioner)
    page.goto(f"/episodes/{episode.uuid}/measures/GAD-7/")
    assert_accessible(page)

    expect(page.get_by_label("Date completed")).to_have_value(
        timezone.localdate().isoformat(), timeout=1_000
    )


def test_student_completes_questionnaires_from_a_link_on_a_phone(hub, page, phone_page):
    episode = start_episode(hub)
    login(page, hub.practitioner)
    page.goto(f"/students/{hub.student.uuid}/measures/")
    assert_accessible(page)
    page.get_by_role("button", name="Send the student a link to complete them").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("A link has been emailed to the student. It works once.")
    assert_accessible(page)
    url = re.search(r"https?://\S+/me/questionnaires/[^/\s]+/", status.inner_text()).group(0)
    link = CompletionLink.objects.get(episode=episode)
    assert (link.session_number, link.codes, link.used_at) == (1, ["GAD-7", "PHQ-9"], None)

    # The student opens it on their phone, without signing in.
    phone_page.goto(url)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Before your next session")
    expect(phone_page.get_by_role("main")).to_contain_text("Wellbeing")
    expect(phone_page.get_by_role("main")).not_to_contain_text(hub.student.legal_family_name)
    expect(phone_page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(phone_page.get_by_role("heading", level=2)).to_contain_text(
        [
            "Generalised Anxiety Disorder Assessment (GAD-7)",
            "Patient Health Questionnaire-9 (PHQ-9)",
        ]
    )
    expect_fits_the_screen(phone_page)
    assert_accessible(phone_page)
    answer_by_clicking(phone_page, "PHQ-9", PHQ9_NO_RISK)
    answer_by_clicking(phone_page, "GAD-7", GAD7_SOME)
    phone_page.get_by_role("button", name="Send my answers").click()

    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )
    expect(phone_page.locator("[data-support]")).to_have_count(0)
    expect_fits_the_screen(phone_page)
    assert_accessible(phone_page)
    stored = {a.code: a for a in Administration.objects.filter(episode=episode)}
    assert {code: (a.method, a.session_number, a.total) for code, a in stored.items()} == {
        "PHQ-9": ("link", 1, 7),
        "GAD-7": ("link", 1, 5),
    }
    assert stored["PHQ-9"].recorded_by == hub.student_user
    assert {a.item: a.value for a in stored["PHQ-9"].answers.all()} == dict(
        enumerate(PHQ9_NO_RISK, start=1)
    )
    link.refresh_from_db()
    assert link.used_at is not None

    # A link works once: opening it again (410 Gone) asks for a new one.
    response = phone_page.goto(url)
    assert response.status == 410
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(phone_page.get_by_role("button", name="Send my answers")).to_have_count(0)
    assert_accessible(phone_page)
    assert Administration.objects.filter(episode=episode).count() == 2


def test_a_positive_phq9_item_9_raises_a_flag_the_service_acknowledges(hub, page, phone_page):
    episode = start_episode(hub)
    token = send_completion_link(
        actor=hub.practitioner, episode=episode, session_number=1, codes=["PHQ-9"]
    )

    phone_page.goto(link_path(token))
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Before your next session")
    assert_accessible(phone_page)
    answer_by_clicking(phone_page, "PHQ-9", PHQ9_ITEM_9)
    phone_page.get_by_role("button", name="Send my answers").click()

    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )
    support = phone_page.locator("[data-support]")
    expect(support.get_by_role("heading", level=2)).to_have_text(
        "Urgent advice: If you need help now"
    )
    for number in SUPPORT_NUMBERS:
        expect(support).to_contain_text(number)
    for dial in ("tel:999", "tel:111", "tel:116123", "sms:85258?&body=SHOUT"):
        expect(support.locator(f'a[href="{dial}"]')).to_have_count(1)
    flag = Flag.objects.get()
    due = timezone.localtime(flag.due_at)
    expect(support).to_contain_text(
        f"{hub.wellbeing.name} has been told, and someone will contact you by "
        f"{due:%A} {due.day} {due:%B} at {due:%H:%M}"
    )
    assert_accessible(phone_page)
    assert (flag.student, flag.service, flag.acknowledged_at, flag.level.name) == (
        hub.student,
        hub.wellbeing,
        None,
        "High",
    )
    assert flag.administration.has_risk
    assert flag.administration.method == "link"

    login(page, hub.practitioner)
    open_from_menu(page, "Worklist")
    expect(page.get_by_role("heading", level=1)).to_have_text("Questionnaire worklist")
    assert_accessible(page)
    page.get_by_role("link", name="Risk flags to acknowledge").click()
    expect(page).to_have_url(re.compile(r"/risk/flags/$"))
    card = page.locator(f'[data-flag="{flag.uuid}"]')
    expect(card.get_by_role("link", name=hub.student.display_name)).to_have_attribute(
        "href", f"/students/{hub.student.uuid}/risk/"
    )
    expect(card).to_contain_text("PHQ-9 risk item 9 answered above zero")
    expect(card).to_contain_text("High")
    assert_accessible(page)
    card.get_by_role("button", name=f"Acknowledge {hub.student.display_name}").click()

    expect(page).to_have_url(re.compile(r"/risk/flags/$"))
    expect(page.get_by_role("status")).to_contain_text("Flag acknowledged.")
    expect(page.locator("[data-flag]")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("No flags are waiting.")
    assert_accessible(page)
    flag.refresh_from_db()
    assert flag.acknowledged_by == hub.practitioner
    assert flag.acknowledged_at is not None
