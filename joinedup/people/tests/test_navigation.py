"""The header shows each person only the pages their roles may use, and who is signed in."""

import re

import pytest
from django.urls import reverse

from joinedup.consent.tests.factories import STAFF_CAST


def nav_paths(html: str) -> list[str]:
    menu = html[html.index('aria-label="Menu"') : html.index("</nav>")]
    return re.findall(r'class="nhsuk-header__navigation-link" href="([^"]+)"', menu)


@pytest.mark.parametrize("who", [*STAFF_CAST, "student_user"])
def test_every_link_in_the_menu_opens_for_whoever_is_shown_it(hub, client, who):
    client.force_login(getattr(hub, who))

    paths = nav_paths(client.get(reverse("referrals:directory")).content.decode())

    assert paths
    for path in paths:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("who", "shown", "not_shown"),
    [
        ("practitioner", "Caseload", "Reports"),
        ("service_manager", "Reports", "Caseload"),
        ("academic", "Concerns", "Caseload"),
        ("researcher", "Reports", "Emergency access"),
        ("org_admin", "Services", "Feedback"),
        ("student_user", "My record", "Caseload"),
    ],
)
def test_the_menu_follows_the_role(hub, client, who, shown, not_shown):
    client.force_login(getattr(hub, who))
    html = client.get(reverse("referrals:directory")).content.decode()
    menu = html[html.index('aria-label="Menu"') : html.index("</nav>")]
    assert f">{shown}<" in menu
    assert f">{not_shown}<" not in menu


def test_the_header_says_who_is_signed_in_and_where(hub, client):
    client.force_login(hub.practitioner)
    html = client.get(reverse("referrals:directory")).content.decode()
    assert "Signed in as Priya · Practitioner, Wellbeing" in html


def test_an_organisation_admin_lands_on_a_page_they_may_use(hub, client):
    client.force_login(hub.org_admin)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
