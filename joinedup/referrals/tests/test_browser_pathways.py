"""The pathway map draws the hub's flows and passes the accessibility check."""

import pytest
from playwright.sync_api import expect

from conftest import make_student
from joinedup.conftest import assert_accessible, login
from joinedup.referrals.services import create_referral

pytestmark = pytest.mark.browser


def test_a_service_manager_sees_the_flows_as_a_diagram_and_a_table(hub, page):
    for n in range(9):
        student = make_student(hub.university, f"NB30000{n:02d}")
        create_referral(
            actor=hub.practitioner,
            student=student,
            from_service=hub.wellbeing,
            to_service=hub.talking,
            source="service",
            reason="Low mood.",
        )
    login(page, hub.service_manager)
    page.goto("/referrals/pathways/")
    expect(page.get_by_role("table")).to_contain_text("Talking Therapies")
    drawn = page.evaluate(
        "() => { const c = Chart.getChart(document.querySelector('canvas[data-pathways]'));"
        " return c.data.datasets[0].data.map(f => [f.from, f.to, f.flow]); }"
    )
    assert drawn == [["Wellbeing", "Talking Therapies", 10]]
    assert_accessible(page)
