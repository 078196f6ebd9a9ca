"""My day in the browser: a practitioner signs in and lands on it, sees one of each kind of
item, follows every link to a page they may use, acknowledges a flag and signs a draft and
sees the page change; a task set from a student's record reaches a colleague, who marks it
done; an overdue task reaches the team's manager by email, and its link opens their page.
My day is checked with axe at desktop and phone size."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import (
    PHONE,
    accessible_at_both_sizes,
    assert_accessible,
    login,
    open_from_menu,
)
from joinedup.consent.services import open_care_relationship
from joinedup.record.tests.my_day_factories import (
    allocated_student,
    day_under_way,
    plant_day,
    start_of_today,
)
from joinedup.referrals.appointments import book_appointment
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.services import escalate_overdue_follow_ups
from joinedup.referrals.tests.factories import second_clinician
from joinedup.referrals.work.services import set_task
from joinedup.risk import services as risk

pytestmark = pytest.mark.browser


def section(page, name: str):
    return page.locator(f'[data-my-day="{name}"]')


def a_day_with_one_of_each(hub):
    """Jordan's day (`plant_day`), a next appointment in two days, and Robin, also
    allocated to Priya, whose latest risk assessment the Crisis Team holds."""
    day = plant_day(hub)
    book_appointment(
        actor=hub.practitioner, episode=day.episode, kind="treatment", clinician=hub.practitioner,
        starts_at=start_of_today() + dt.timedelta(days=2, hours=10), place="Student Centre 2.14",
    )  # fmt: skip
    robin, _episode = allocated_student(
        hub, "NB3000002", legal_given_name="Robin", legal_family_name="Hale", preferred_name=""
    )
    open_care_relationship(student=robin, service=hub.crisis, reason="referral")
    risk.record_assessment(
        actor=hub.crisis_practitioner, student=robin, service=hub.crisis,
        domain_levels={"self": 4}, factors="Overdose last night.", plan="Home treatment.",
        review_on=timezone.localdate() + dt.timedelta(days=3),
    )  # fmt: skip
    return day, robin


@pytest.fixture
def under_way():
    with day_under_way():
        yield


def test_a_practitioner_works_through_my_day(under_way, hub, page):
    day, robin = a_day_with_one_of_each(hub)
    jordan = day.student.display_name
    login(page, hub.practitioner)

    expect(page).to_have_url(re.compile(r"/students/my-day/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My day")
    accessible_at_both_sizes(page)
    expect(section(page, "appointments")).to_contain_text(f"{jordan} · Treatment · Wellbeing")
    expect(section(page, "drafts")).to_contain_text(f"Draft clinical note about {jordan}")
    expect(section(page, "questionnaires")).to_contain_text(f"{jordan} · session 1: PHQ-9")
    expect(section(page, "flags")).to_contain_text("Said they had stopped eating.")
    expect(section(page, "reviews")).to_contain_text(f"{jordan} · risk assessment by Wellbeing")
    expect(section(page, "tasks")).to_contain_text(f"Write to the exams office · {jordan}")
    jordan_case = page.locator(f'[data-case="{day.episode.uuid}"]')
    next_on = timezone.localtime(start_of_today() + dt.timedelta(days=2, hours=10))
    expect(jordan_case).to_contain_text(next_on.strftime("%a %-d %b 10:00"))
    expect(jordan_case).to_contain_text(timezone.localdate().strftime("%-d %b %Y"))
    expect(jordan_case).to_contain_text("Moderate")
    robin_case = page.locator("[data-case]", has_text=robin.display_name)
    expect(robin_case).to_contain_text("Assessed by Crisis Team — not shared with you")
    expect(robin_case).not_to_contain_text("Not assessed")

    # Every link in the day opens a page Priya may use.
    links = page.get_by_role("main").locator("a[href^='/']")
    hrefs = sorted(set(links.evaluate_all("links => links.map(a => a.getAttribute('href'))")))
    assert len(hrefs) >= 9, hrefs
    for href in hrefs:
        response = page.goto(href)
        assert response is not None, href
        assert response.status == 200, href
        expect(page.get_by_role("heading", level=1)).to_be_visible()

    open_from_menu(page, "My day")
    flag = section(page, "flags").locator(f'[data-flag="{day.flag.uuid}"]')
    flag.get_by_role("button", name=f"Acknowledge the flag about {jordan}").click()
    expect(page).to_have_url(re.compile(r"/students/my-day/$"))
    expect(page.get_by_role("status")).to_have_text("Flag acknowledged.")
    expect(section(page, "flags")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("No flags are waiting.")
    accessible_at_both_sizes(page)

    section(page, "drafts").get_by_role("link", name=f"Draft clinical note about {jordan}").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_role("status")).to_have_text("Signed. It can no longer be changed.")
    open_from_menu(page, "My day")
    expect(section(page, "drafts")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("No drafts waiting to be signed.")
    expect(section(page, "appointments")).to_contain_text(jordan)  # the rest of the day stays

    # On a phone the menu folds into "More": the day starts on the first screen.
    page.set_viewport_size(PHONE)
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert heading is not None
    assert heading["y"] + heading["height"] < PHONE["height"] / 3, heading
    open_from_menu(page, "Tasks")
    expect(page).to_have_url(re.compile(r"/tasks/$"))


def test_a_task_set_from_a_record_reaches_a_colleague_who_marks_it_done(hub, page, other_page):
    student, _episode = allocated_student(
        hub, "NB3000003", legal_given_name="Jordan", legal_family_name="Reyes", preferred_name=""
    )
    wes = second_clinician(hub)
    login(page, hub.practitioner)
    page.goto(f"/students/{student.uuid}/")
    page.get_by_role("link", name="Set a task").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a task")
    assert_accessible(page)
    page.get_by_role("button", name="Set the task").click()
    expect(page.get_by_role("alert")).to_contain_text("Say what needs doing.")
    assert not FollowUpTask.objects.exists()
    page.get_by_label("What needs doing").fill("Ask the exams office about the resit date")
    page.get_by_label("Due by").fill(timezone.localdate().isoformat())
    page.get_by_label("For").select_option(label="Wes (Wellbeing)")
    page.get_by_role("button", name="Set the task").click()
    expect(page.get_by_role("status")).to_have_text("Task set.")
    expect(page).to_have_url(re.compile(rf"/students/{student.uuid}/$"))
    task = FollowUpTask.objects.get()
    assert (task.assignee, task.student, task.created_by) == (wes, student, hub.practitioner)

    login(other_page, wes)
    expect(other_page).to_have_url(re.compile(r"/students/my-day/$"))
    due = section(other_page, "tasks").locator(f'[data-task="{task.uuid}"]')
    expect(due).to_contain_text(f"Ask the exams office about the resit date · {student}")
    assert_accessible(other_page)
    due.get_by_role("link").click()
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Tasks")
    card = other_page.locator(f'[data-task="{task.uuid}"]')
    expect(card).to_contain_text("Priya")
    assert_accessible(other_page)
    card.get_by_role("button", name="Mark done").click()
    expect(other_page.get_by_role("status")).to_have_text("Marked done.")
    expect(other_page.locator(f'[data-task="{task.uuid}"]')).to_have_count(0)
    open_from_menu(other_page, "My day")
    expect(other_page.get_by_role("main")).to_contain_text("No tasks are due.")
    task.refresh_from_db()
    assert task.completed_by == wes


def test_an_overdue_task_reaches_the_manager_whose_link_opens_their_tasks(
    hub, page, mailoutbox, live_server, settings
):
    settings.SITE_URL = live_server.url
    wes = second_clinician(hub)
    student, _episode = allocated_student(hub, "NB3000004", practitioner=wes)
    task = set_task(
        actor=hub.practitioner, service=hub.wellbeing, assignee=wes, student=student,
        title="Ring the student's GP", due_on=timezone.localdate(),
    )  # fmt: skip

    with time_machine.travel(task.due_at + dt.timedelta(hours=1)):
        assert escalate_overdue_follow_ups() == 1
        (mail,) = [m for m in mailoutbox if m.to == [hub.service_manager.email]]
        assert mail.subject == "Overdue task in Wellbeing"
        link = re.search(r"https?://\S+", mail.body).group()
        login(page, hub.service_manager)
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
        card = page.locator(f'[data-task="{task.uuid}"]')
        expect(card).to_contain_text("A task about a student: held by Wellbeing")
        expect(card).to_contain_text(f"{wes} (Wellbeing)")
        expect(card.locator("strong", has_text="Overdue")).to_be_visible()
        expect(card).not_to_contain_text(student.display_name)
        assert_accessible(page)
