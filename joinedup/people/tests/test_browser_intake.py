"""Journeys: a practitioner registers a walk-in student (told of a possible duplicate they
may not see, and saying it is a different person), then finds them by "surname firstname"
and by date of birth; an organisation admin merges two records of one student, and the
record then shows everything from both. Every page is checked with axe, on a desktop and
on a phone."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from conftest import make_staff, make_student
from joinedup.conftest import assert_accessible, login, open_from_menu
from joinedup.consent.services import open_care_relationship
from joinedup.people.models import Role, Student
from joinedup.record.tests.factories import write_entry

pytestmark = pytest.mark.browser


def fill_registration(page, hub, *, nhs_number="943 476 5919") -> None:
    page.get_by_label("Registering for").select_option(label=f"Wellbeing — {hub.university.name}")
    page.get_by_label("Legal first name").fill("Joanna")
    page.get_by_label("Legal last name").fill("Morgan")
    page.get_by_label("Preferred name (optional)").fill("Jo")
    page.get_by_label("Pronouns (optional)").fill("they/them")
    page.get_by_label("Date of birth").fill("14/03/2004")
    page.get_by_label("Student number").fill("NB3000001")
    page.get_by_label("NHS number (optional)").fill(nhs_number)
    page.get_by_label("Email (optional)").fill("jo@student.nb.ac.uk")
    page.get_by_label("Phone (optional)").fill("07700 900123")
    page.get_by_label("Why the student came to you").fill("Walked in after a panic attack.")


def search(page, query: str):
    page.get_by_label("Name, student number, NHS number or date of birth").fill(query)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/students/find/\?q="))
    return page.locator("[data-results]")


def test_a_practitioner_registers_a_walk_in_and_finds_them_again(hub, page):
    # Someone at Southgate shares the name and birthday: Wellbeing may not know who.
    make_student(hub.other_university, "SG7777777", legal_given_name="Joanna",
                 legal_family_name="Morgan", preferred_name="Jojo",
                 date_of_birth=dt.date(2004, 3, 14))  # fmt: skip
    login(page, hub.practitioner)
    page.get_by_role("link", name="Find a student").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a student")
    search(page, "Morgan Joanna")
    expect(page.locator("[data-nothing-found]")).to_contain_text(
        "No student you may see matches “Morgan Joanna”."
    )
    assert_accessible(page)
    page.get_by_role("link", name="Register a student").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a student")
    assert_accessible(page)

    fill_registration(page, hub)
    page.get_by_role("button", name="Register student").click()

    warning = page.locator("[data-duplicates]")
    expect(warning).to_contain_text(
        "A record with this legal name and date of birth already exists."
    )
    expect(warning).to_contain_text("You cannot see whose record this is.")
    expect(warning).not_to_contain_text("Jojo")
    expect(warning).not_to_contain_text("SG7777777")
    expect(page.get_by_label("Legal first name")).to_have_value("Joanna")  # nothing lost
    assert_accessible(page)
    page.get_by_role("button", name="This is a different person: register them").click()

    student = Student.objects.get(student_number="NB3000001")
    expect(page).to_have_url(re.compile(rf"/students/{student.uuid}/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Jo Morgan is registered, and their self-referral is with Wellbeing."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jo Morgan")
    assert_accessible(page)

    page.get_by_role("link", name="Find a student").click()
    results = search(page, "morgan joanna")
    expect(results).to_contain_text("1 student found")
    expect(results).to_contain_text("NB3000001")
    expect(results).not_to_contain_text("SG7777777")
    assert_accessible(page)
    results = search(page, "14 March 2004")
    expect(results).to_contain_text("NB3000001")
    expect(results).to_contain_text("14 Mar 2004")
    results.get_by_role("link", name="Jo Morgan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jo Morgan")


def test_registration_refuses_bad_input_beside_each_field_on_a_phone(hub, phone_page):
    page = phone_page
    login(page, hub.practitioner)
    page.goto("/students/new/")
    fill_registration(page, hub, nhs_number="943 476 5918")
    page.get_by_label("Date of birth").fill("14/03/2099")
    page.get_by_role("button", name="Register student").click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#id_nhs_number_error")).to_contain_text("its check digit does not match")
    expect(page.locator("#id_date_of_birth_error")).to_contain_text("cannot be in the future")
    expect(page.get_by_label("Why the student came to you")).to_have_value(
        "Walked in after a panic attack."
    )
    assert_accessible(page)
    assert not Student.objects.filter(student_number="NB3000001").exists()

    page.goto("/students/find/?q=123")
    expect(page.locator("#id_q_error")).to_contain_text("at least 4 digits")
    assert_accessible(page)


@pytest.fixture
def twice(hub):
    """Jo registered twice at Northbridge, once by Wellbeing's triage desk with a mistyped
    number, each record with a note of its own."""
    first = make_student(hub.university, "NB2000001", legal_given_name="Joanna",
                         legal_family_name="Morgan", preferred_name="Jo", pronouns="",
                         nhs_number="9434765919")  # fmt: skip
    second = make_student(hub.university, "NB2000010", legal_given_name="Joanna",
                          legal_family_name="Morgan", preferred_name="",
                          pronouns="they/them")  # fmt: skip
    for student, title in ((first, "First visit"), (second, "Second visit")):
        open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
        write_entry(student, "assessment", hub.wellbeing, hub.practitioner, title=title,
                    body=f"{title}: exam stress and poor sleep.")  # fmt: skip
    return first, second


def test_an_admin_merges_two_records_and_the_record_shows_both(hub, twice, page, phone_page):
    _first, second = twice
    login(page, hub.org_admin)
    open_from_menu(page, "Merge records")
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge records")
    assert_accessible(page)

    page.get_by_label("Student number of the record to keep").fill("NB2000001")
    page.get_by_label("Student number of the record to merge into it").fill("NB2000001")
    page.get_by_role("button", name="Compare records").click()
    expect(page.locator("#id_merged_error")).to_contain_text("cannot be merged with itself")
    assert_accessible(page)

    page.get_by_label("Student number of the record to merge into it").fill("nb2000010")
    page.get_by_role("button", name="Compare records").click()
    compare = page.locator("[data-compare]")
    expect(compare).to_contain_text("NB2000010")
    expect(compare).to_contain_text("943 476 5919".replace(" ", ""))
    moves = page.locator("[data-moves]")
    expect(moves.get_by_role("row", name=re.compile("^Record entries"))).to_contain_text(
        "1 moves to the record kept"
    )
    expect(moves).not_to_contain_text("Second visit")  # counts, never content
    assert_accessible(page)
    page.get_by_role("button", name="Merge these records").click()

    expect(page.get_by_role("status")).to_contain_text("Record NB2000010 is now part of NB2000001.")
    assert_accessible(page)

    # The merge page fits a phone too (another admin: one person signs in at one computer).
    login(phone_page, make_staff("odile@nb.ac.uk", Role.ORG_ADMIN, hub.university))
    phone_page.goto("/students/merge/")
    phone_page.get_by_label("Student number of the record to keep").fill("NB2000001")
    phone_page.get_by_label("Student number of the record to merge into it").fill("NB2000010")
    phone_page.get_by_role("button", name="Compare records").click()
    expect(phone_page.locator("#id_merged_error")).to_contain_text("No record has the student")
    assert_accessible(phone_page)

    # Wellbeing's practitioner opens the one record left: both visits are there.
    page.context.clear_cookies()
    login(page, hub.practitioner)
    page.goto("/students/find/")
    results = search(page, "Morgan")
    expect(results).to_contain_text("1 student found")
    results.get_by_role("link", name="Jo Morgan").click()
    assessment = page.get_by_role("region", name="Assessment")
    expect(assessment).to_contain_text("First visit")
    expect(assessment).to_contain_text("Second visit")
    expect(page.get_by_role("heading", level=1)).to_contain_text("(they/them)")
    # The old record's address opens the record kept.
    page.goto(f"/students/{second.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jo Morgan")
    expect(page.get_by_role("region", name="Assessment")).to_contain_text("First visit")
