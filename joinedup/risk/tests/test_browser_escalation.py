"""An unacknowledged High flag escalates to the duty worker, then to the service manager,
who acts from the link in the email: they ask a practitioner in the student's care to act
now, the practitioner acknowledges it from their own email's link, and the manager sees it.
"""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login, shown
from joinedup.risk.models import Escalation
from joinedup.risk.services import escalate_flags, level_of_rank, raise_flag

pytestmark = pytest.mark.browser

REASON = "Said they had a plan to end their life after the exam results."


def path_of_link_in(message) -> str:
    return urlparse(re.search(r"https?://\S+", message.body).group(0)).path


def emails_to(user, subject: str) -> list:
    return [m for m in mail.outbox if m.to == [user.email] and m.subject == subject]


def test_an_unacknowledged_flag_reaches_the_manager_who_asks_a_practitioner_to_act(
    hub, page, phone_page
):
    flag = raise_flag(
        student=hub.student, service=hub.wellbeing, level=level_of_rank(3),
        source="practitioner", reason=REASON, actor=hub.practitioner,
    )  # fmt: skip
    assert flag.due_at - flag.raised_at == dt.timedelta(hours=24)

    # Nobody acknowledges it: past its deadline it goes to the duty worker (Wellbeing has
    # none, so its practitioners); a further day later, to the service manager.
    with time_machine.travel(flag.raised_at + dt.timedelta(hours=25), tick=False):
        assert [e.stage for e in escalate_flags()] == [1]
    with time_machine.travel(flag.raised_at + dt.timedelta(hours=49)):
        assert [e.stage for e in escalate_flags()] == [2]
        escalations = list(Escalation.objects.filter(flag=flag).order_by("stage"))
        assert [e.sent_to for e in escalations] == [
            [hub.practitioner.email],
            [hub.service_manager.email],
        ]
        [email] = emails_to(hub.service_manager, "Escalation: a high risk flag is not acknowledged")
        for revealing in (hub.student.display_name, hub.student.legal_family_name, REASON):
            assert revealing not in email.body

        login(page, hub.service_manager)
        page.goto(path_of_link_in(email))
        expect(page).to_have_url(re.compile(rf"/risk/flags/{flag.uuid}/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("High risk flag")
        main = page.get_by_role("main")
        expect(main.locator("strong.nhsuk-tag")).to_have_text("High")
        expect(main).to_contain_text(
            f"{shown(flag.raised_at)} by Wellbeing (raised by a practitioner)"
        )
        # Wellbeing has no duty worker: the first step went to its practitioner.
        expect(main).to_contain_text(
            f"First to those on duty ({hub.practitioner.email}), {shown(escalations[0].at)}"
        )
        expect(main).to_contain_text(
            f"Then to the service manager ({hub.service_manager.email}), {shown(escalations[1].at)}"
        )
        expect(page.locator("[data-flag-state]")).to_have_text("Not acknowledged yet")
        for revealing in (hub.student.display_name, hub.student.legal_family_name, REASON):
            expect(main).not_to_contain_text(revealing)
        assert_accessible(page)

        page.get_by_label("Who should act on it now").select_option(label="Priya")
        page.get_by_role("button", name="Ask them to act now").click()

        expect(page).to_have_url(re.compile(rf"/risk/flags/{flag.uuid}/$"))
        expect(page.get_by_role("status")).to_have_text(
            "Priya has been asked to act now, by email."
        )
        flag.refresh_from_db()
        assert (flag.assigned_to, flag.assigned_by) == (hub.practitioner, hub.service_manager)
        expect(page.locator("[data-flag-state]")).to_have_text(
            f"Not acknowledged yet; Priya was asked to act on {shown(flag.assigned_at)}"
        )
        assert_accessible(page)

        [asked] = emails_to(hub.practitioner, "Please act now on a high risk flag")
        assert "Sam asks you to act on a high risk flag" in asked.body
        login(phone_page, hub.practitioner)
        phone_page.goto(path_of_link_in(asked))
        expect(phone_page.get_by_role("heading", level=1)).to_have_text("Risk flags to acknowledge")
        card = phone_page.locator(f'[data-flag="{flag.uuid}"]')
        expect(card.get_by_role("heading")).to_have_text(f"{hub.student.display_name} · High")
        expect(card).to_contain_text(REASON)
        expect(card).to_contain_text(f"Acknowledge by {shown(flag.due_at)} · escalated")
        assert_accessible(phone_page)
        card.get_by_role("button", name=f"Acknowledge {hub.student.display_name}").click()

        expect(phone_page.get_by_role("status")).to_have_text("Flag acknowledged.")
        expect(phone_page.locator("[data-flag]")).to_have_count(0)
        expect(phone_page.get_by_role("main")).to_contain_text("No flags are waiting.")
        assert_accessible(phone_page)
        flag.refresh_from_db()
        assert flag.acknowledged_by == hub.practitioner

        page.reload()
        expect(page.locator("[data-flag-state]")).to_have_text(
            f"Acknowledged by Priya on {shown(flag.acknowledged_at)}"
        )
        expect(page.get_by_role("button", name="Ask them to act now")).to_have_count(0)
        assert_accessible(page)
