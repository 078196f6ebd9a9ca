"""Journey (c): a tutor's concern goes to Wellbeing, whose practitioner reads the student's
record because of it, closes it with "No further action", and loses the access with it; the
student sees when and why it ended, and the tutor that it was dealt with, nothing clinical."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_student
from joinedup.conftest import assert_accessible, login, open_from_menu
from joinedup.people.models import User

pytestmark = pytest.mark.browser

OBSERVED = "Missed three seminars and seemed very withdrawn when we spoke after class."


@pytest.fixture
def history_student(hub):
    """A History student no service is working with yet (unlike `hub.student`)."""
    user = User.objects.create_user("jordan@student.nb.ac.uk", PASSWORD)
    return make_student(
        hub.university, "NB1000077", department=hub.history, user=user,
        legal_given_name="Jordan", legal_family_name="Okafor", preferred_name="Jordan",
        pronouns="they/them",
    )  # fmt: skip


def test_a_tutors_concern_is_closed_and_the_practitioners_access_ends_with_it(
    hub, history_student, page, other_page, phone_page
):
    student = history_student
    # The History tutor raises a concern about a student of their department.
    login(page, hub.academic)
    open_from_menu(page, "Concerns", exact=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Concerns")
    page.get_by_role("link", name="Raise a concern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern about a student")
    assert_accessible(page)
    page.get_by_label("The student's number").fill(student.student_number)
    page.get_by_label("What have you noticed?").fill(OBSERVED)
    page.get_by_label("How urgent does it feel?").select_option(label="Soon: within a day")
    page.get_by_label("Does the student know you are raising this?").select_option(label="Yes")
    page.get_by_label("The student agreed to me passing this on").check()
    page.get_by_role("button", name="Raise concern").click()
    expect(page.get_by_role("status")).to_have_text(
        "Thank you. Your concern about Jordan Okafor (NB1000077) has gone to Wellbeing."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("What to do now")
    assert_accessible(page)

    # Wellbeing's practitioner, with no other reason to know the student, finds it queued.
    login(other_page, hub.practitioner)
    open_from_menu(other_page, "Concerns", exact=True)
    queued = other_page.locator("[data-concern]").filter(has_text=student.display_name)
    expect(queued).to_contain_text("Soon: within a day")
    assert_accessible(other_page)
    queued.get_by_role("link", name=student.display_name).click()
    expect(other_page.get_by_role("heading", level=1)).to_have_text(
        f"Concern about {student.display_name}"
    )
    expect(other_page.get_by_role("main")).to_contain_text(OBSERVED)
    assert_accessible(other_page)
    concern_url = other_page.url

    # The concern is why they may open the record.
    other_page.get_by_role("link", name=student.display_name).click()
    expect(other_page.get_by_role("heading", level=1)).to_contain_text(student.display_name)
    identity = other_page.get_by_role("region", name="Identity", exact=True)
    expect(identity).to_contain_text("Shown because: Wellbeing is involved in the student's care.")
    expect(identity).to_contain_text("17 May 2004")  # the whole identity, not names only
    expect(other_page.get_by_role("region", name="Engagement")).to_contain_text(
        "Wellbeing (University of Northbridge) — Concern"
    )
    assert_accessible(other_page)
    record_url = other_page.url

    other_page.go_back()
    expect(other_page.get_by_role("heading", level=1)).to_have_text(
        f"Concern about {student.display_name}"
    )
    other_page.get_by_label("Outcome").select_option(label="No further action")
    other_page.get_by_role("button", name="Record outcome").click()
    expect(other_page.get_by_role("status")).to_have_text("Saved.")
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Concerns")
    expect(other_page.locator("[data-concern]")).to_have_count(0)
    expect(other_page.get_by_role("main")).not_to_contain_text("Jordan")
    assert_accessible(other_page)

    # With the concern closed, the record (and the concern) answer as if there were none.
    for url in (record_url, concern_url):
        response = other_page.goto(url)
        assert response.status == 404
        expect(other_page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(other_page.get_by_role("main")).not_to_contain_text("Okafor")
        expect(other_page.get_by_role("main")).not_to_contain_text("Jordan")
        assert_accessible(other_page)

    # The student sees why Wellbeing could see their record, and when and why that ended.
    login(phone_page, student.user, totp=False)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        f"Hello, {student.display_name}"
    )
    why = phone_page.get_by_role("list", name="Why services can see your record, and until when")
    expect(why.locator('[data-relationship="concern"]')).to_have_text(
        re.compile(
            r"^Wellbeing: concern, from \d{1,2} \w{3} \d{4} to \d{1,2} \w{3} \d{4}, "
            r"when the concern was closed\.$"
        )
    )
    expect(phone_page.get_by_role("main")).to_contain_text(
        "No service is working with you at the moment."
    )
    assert_accessible(phone_page)

    # The tutor learns the concern was dealt with: nothing clinical, not even the outcome.
    open_from_menu(page, "Concerns", exact=True)
    mine = page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=re.compile(r"· Wellbeing$"))
    )
    expect(mine).to_have_text(re.compile(r"· Wellbeing · picked up · closed \d{1,2} \w{3} \d{4}$"))
    assert_accessible(page)
    mine.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The concern you raised")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Picked up by Wellbeing on")
    expect(main.locator("[data-closed]")).to_contain_text(
        "What was decided is not shared with you: it is between the student and Wellbeing."
    )
    expect(main.locator("[data-closed]")).to_contain_text("Closed by Wellbeing on")
    expect(main).not_to_contain_text("No further action")
    assert_accessible(page)
