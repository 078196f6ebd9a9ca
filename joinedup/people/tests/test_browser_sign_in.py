"""Signing in with a real browser: every step is accessible, staff must enrol a second factor."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_staff
from joinedup.conftest import assert_accessible, login
from joinedup.people.models import Role

pytestmark = pytest.mark.browser


def test_staff_sign_in_with_password_and_totp_reaches_my_day(hub, page):
    login(page, hub.crisis_practitioner)  # checks each page on the way with axe

    expect(page).to_have_url(re.compile(r"/students/my-day/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My day")


def test_staff_without_totp_is_sent_to_enrol_an_authenticator(hub, page):
    newcomer = make_staff("nina@nb.ac.uk", Role.PRACTITIONER, hub.university,
                          service=hub.wellbeing, totp=False)  # fmt: skip

    login(page, newcomer, totp=False)

    # allauth asks for the password again before a second factor is added.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=.*totp.*activate"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate Authenticator App")
    assert_accessible(page)

    page.goto("/students/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_text(hub.student.student_number)).to_have_count(0)
    assert_accessible(page)


def test_wrong_totp_code_is_refused_accessibly(hub, page):
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Email").fill(hub.practitioner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert_accessible(page)

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()

    # Said at the top, linking to the field, and beside the field (NHS.UK error pattern).
    expect(page.get_by_role("link", name="Incorrect code.")).to_have_attribute("href", "#id_code")
    expect(page.locator("#id_code_error")).to_have_text("Error: Incorrect code.")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    assert_accessible(page)


def test_break_glass_without_a_reason_shows_the_error(hub, page):
    login(page, hub.crisis_practitioner)
    page.goto("/break-glass/")
    assert_accessible(page)

    page.get_by_label("University").select_option(label=hub.university.name)
    page.get_by_label("Student number").fill(hub.student.student_number)
    page.get_by_role("button", name="Open emergency access").click()

    reason = page.locator(".nhsuk-form-group", has=page.locator("#id_reason"))
    expect(reason).to_have_class(re.compile(r"nhsuk-form-group--error"))
    expect(reason.locator(".nhsuk-error-message")).to_contain_text(
        "Write the reason: what risk to life makes this access necessary."
    )
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(
        summary.get_by_role(
            "link", name="Write the reason: what risk to life makes this access necessary."
        )
    ).to_have_attribute("href", "#id_reason")
    expect(page.locator("#id_reason")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_the_admin_sign_in_goes_through_the_second_factor(hub, page):
    from joinedup.conftest import _wait_for_fresh_totp_period, totp_code

    hub.org_admin.is_staff = hub.org_admin.is_superuser = True
    hub.org_admin.save(update_fields=["is_staff", "is_superuser"])

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/admin/"))
    assert_accessible(page)
    page.get_by_label("Email").fill(hub.org_admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    expect(page.get_by_role("link", name="Log out")).to_have_count(0)
    assert_accessible(page)
    _wait_for_fresh_totp_period()
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_tutor_sees_a_students_names_and_number_and_nothing_more(hub, page, phone_page, size):
    page = phone_page if size == "phone" else page
    student = hub.student
    student.nhs_number, student.phone = "9434765919", "07700 900123"
    student.save(update_fields=["nhs_number", "phone"])
    login(page, hub.academic)

    page.goto(f"/students/{student.uuid}/")

    identity = page.locator('[data-category="identity"]')
    expect(identity.locator("[data-names-only]")).to_contain_text(student.student_number)
    expect(identity).to_contain_text(student.display_name)
    for private in ("943 476 5919", "9434765919", "07700 900123", "17 May 2004"):
        expect(page.get_by_text(private)).to_have_count(0)
    assert_accessible(page)
