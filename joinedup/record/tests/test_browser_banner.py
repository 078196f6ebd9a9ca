"""A practitioner opens the record of a student at high risk, with a long record, on a phone
and on a desktop: the banner shows the risk level on the first screen without scrolling, and
the sections below fold, the ones a clinician reads first open."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, disclosure, login
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.tests.factories import write_entry
from joinedup.referrals.episodes import open_walk_in_episode
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at
from joinedup.risk.services import level_of_rank, raise_flag, record_assessment

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def high_risk(hub):
    """As in the demo: a student in Wellbeing's care at High risk after a crisis contact, with
    an allocated episode, a booked session, open flags and a long record."""
    student = hub.student
    student.nhs_number = "9434765919"
    student.save(update_fields=["nhs_number"])
    open_care_relationship(student=student, service=hub.crisis, reason="referral")
    give_consent(hub, "engagement", hub.crisis)
    give_consent(hub, "assessment", hub.crisis)
    episode = open_walk_in_episode(
        actor=hub.practitioner, student=student, service=hub.wellbeing,
        practitioner=hub.practitioner,
    )  # fmt: skip
    book(hub, episode, day_after_tomorrow_at(10))
    record_assessment(
        actor=hub.practitioner, student=student, service=hub.wellbeing,
        domain_levels={"self": 3, "academic": 2}, factors="Recent self-harm; lives alone.",
        plan="Same-day contact; safety plan agreed.", review_on=timezone.localdate(),
    )  # fmt: skip
    for rank in (2, 3):
        raise_flag(
            student=student, service=hub.wellbeing, level=level_of_rank(rank),
            source="practitioner", reason="Said they had a plan.", actor=hub.practitioner,
        )  # fmt: skip
    for category in ("engagement", "assessment", "notes", "discharge", "adjustments"):
        for number in range(4):
            write_entry(student, category, hub.wellbeing, hub.practitioner,
                        title=f"{category.title()} {number}",
                        body="Seen today; talked about sleep, exams and family. " * 8)  # fmt: skip
    return student


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_risk_level_is_on_the_first_screen_and_the_record_folds(
    hub, high_risk, page, size, tmp_path
):
    page.set_viewport_size(SIZES[size])
    login(page, hub.practitioner)

    page.goto(f"/students/{high_risk.uuid}/")

    banner = page.locator("[data-banner]")
    expect(banner.get_by_role("heading", level=1)).to_have_text("Alex StudentNB1000001 (she/her)")
    expect(banner).to_contain_text("943 476 5919")
    expect(banner.locator("[data-banner-flags]")).to_have_text("2 open · highest High")
    expect(banner.locator("[data-banner-worker]")).to_have_text("Priya (Wellbeing)")
    expect(banner.locator("[data-banner-appointment]")).to_contain_text("Wellbeing (Priya)")
    risk = banner.locator("[data-banner-risk]")
    expect(risk).to_have_text("High")
    box = risk.bounding_box()
    assert box is not None
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] + box["height"] <= SIZES[size]["height"], box
    page.screenshot(path=tmp_path / f"record-{size}.png")
    page.screenshot(path=tmp_path / f"record-{size}-whole.png", full_page=True)
    assert_accessible(page)

    # Risk, care, notes and measures are open; the rest fold until asked for.
    for name in ("Risk", "Engagement", "Notes"):
        expect(page.get_by_role("region", name=name).locator("details")).to_have_attribute(
            "open", ""
        )
    assessment = disclosure(page, "Assessment")
    expect(assessment).not_to_have_attribute("open", "")
    expect(assessment.get_by_text("Assessment 0", exact=True)).to_be_hidden()
    assessment.locator("summary").click()
    expect(assessment.get_by_text("Assessment 0", exact=True)).to_be_visible()
    assert_accessible(page)


def test_the_contact_log_letters_and_documents_carry_the_same_banner(
    hub, high_risk, page, tmp_path
):
    login(page, hub.practitioner)
    page.goto(f"/students/{high_risk.uuid}/contacts/")

    for name in ("Contact log", "Letters", "Documents"):
        page.get_by_role("navigation", name="This record").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        banner = page.locator("[data-banner]")
        expect(banner.locator("#banner-name")).to_have_text("Alex StudentNB1000001 (she/her)")
        expect(banner.locator("[data-banner-risk]")).to_have_text("High")
        expect(banner.locator("[data-banner-flags]")).to_have_text("2 open · highest High")
        page.screenshot(path=tmp_path / f"{name}.png")
        assert_accessible(page)
