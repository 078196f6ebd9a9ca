"""The seam between a partner system and the pages: an NHS trust's system sends a PHQ-9 in
its own shape over FHIR; the university's practitioner, whose service the student did not
share outcomes with, sees it held by the trust (withheld, never absent); once the student
shares outcomes, the practitioner sees the score as re-scored here, marked as imported.
What the trust's system is told of each response (its stated total not kept; a response
too incomplete to score stored unscored) is what the practitioner's page then shows."""

import re

import pytest
import requests
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.services import record_consent
from joinedup.fhir.tests.conftest import token_for
from joinedup.fhir.tests.test_create import partner_phq9
from joinedup.fhir.tests.test_search_standard import ONE_SHOT
from joinedup.measures.tests.factories import start_episode
from joinedup.referrals.services import create_referral

pytestmark = pytest.mark.browser

ANSWERS = [0, 1, 2, 3, 0, 1, 2, 3, 0]  # 12 here, whatever total the sender states


def test_a_partners_phq9_reaches_the_pages_withheld_until_the_student_shares_it(
    hub, page, live_server
):
    start_episode(hub)  # the university's wellbeing service has the student in its care
    create_referral(actor=hub.practitioner, student=hub.student, to_service=hub.talking,
                    source="service", reason="Low mood; would like talking therapy.",
                    from_service=hub.wellbeing)  # fmt: skip
    # The trust's system, acting for Talking Therapies, sends the response in its shape.
    token = token_for(hub.talking, "system/*.read system/QuestionnaireResponse.write")

    def send(response) -> list[str]:
        sent = requests.post(
            f"{live_server.url}/fhir/QuestionnaireResponse", json=response,
            headers={"Authorization": f"Bearer {token}", "Prefer": "return=OperationOutcome",
                     "Content-Type": "application/fhir+json", **ONE_SHOT},
            timeout=30,
        )  # fmt: skip
        assert sent.status_code == 201, sent.text
        said = [issue["diagnostics"] for issue in sent.json()["issue"]]
        assert said[0].startswith("Created QuestionnaireResponse/")
        return said[1:]

    assert send(partner_phq9(hub.student, ANSWERS,
                             questionnaire="https://trust.example/Questionnaire/PHQ-9")) == [
        "The total sent (27) was not kept: the answers score 12, which was recorded."
    ]  # fmt: skip
    incomplete = partner_phq9(
        hub.student,
        authored="2026-10-01T10:00:00Z",
        identifier={"system": "https://partner.example/qr", "value": "qr-2"},
    )
    del incomplete["item"][5:9]  # items 6 to 9 unanswered
    assert send(incomplete) == [
        "No score was recorded: PHQ-9 items 6, 7, 8, 9 are not answered, and it is scored with "
        "at most 2 missing. The answers given were stored."
    ]  # fmt: skip

    login(page, hub.practitioner)
    page.goto(f"{live_server.url}/students/{hub.student.uuid}/measures/")
    withheld = page.locator("[data-withheld]")
    expect(withheld).to_contain_text(f"held by {hub.talking.name} — not shared with you")
    expect(page.get_by_text("None from your service.")).to_be_visible()
    expect(page.locator("[data-measure='PHQ-9']")).to_have_count(0)
    assert_accessible(page)

    record_consent(actor=hub.student_user, student=hub.student, category="outcomes",
                   purpose="direct_care", how_given="portal",
                   recipient_service=hub.wellbeing)  # fmt: skip
    page.reload()
    expect(page.locator("[data-withheld]")).to_have_count(0)
    rows = page.locator("[data-measure='PHQ-9'] tbody tr")
    expect(rows).to_have_count(2)
    scored = rows.filter(has_text="12")  # re-scored from the answers, not the stated 27
    expect(scored).to_have_count(1)
    expect(scored).to_contain_text(re.compile(rf"Imported from another system, {hub.talking.name}"))
    expect(rows.filter(has_text="Not scored: too many questions unanswered")).to_have_count(1)
    assert_accessible(page)
