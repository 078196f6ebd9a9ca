"""Risk pages: the flags worklist, the student's risk page, and who may see them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from joinedup.risk import services
from joinedup.risk.models import Flag, RiskAssessment


def raise_flag(hub):
    return services.raise_flag(
        student=hub.student,
        service=hub.wellbeing,
        actor=hub.practitioner,
        level=services.level_of_rank(3),
        source="practitioner",
        reason="Said they had a plan.",
    )


def test_the_flags_page_lists_and_acknowledges(hub, client):
    flag = raise_flag(hub)
    client.force_login(hub.practitioner)
    html = client.get(reverse("risk:flags")).content.decode()
    assert f'data-flag="{flag.uuid}"' in html
    assert "Said they had a plan." in html
    client.post(reverse("risk:flag-acknowledge", args=[flag.uuid]))
    assert Flag.objects.get().acknowledged_by == hub.practitioner


def test_another_services_flag_reason_needs_consent(hub, client):
    from joinedup.consent.services import open_care_relationship

    raise_flag(hub)
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.crisis_practitioner)
    html = client.get(reverse("risk:flags")).content.decode()
    assert "Raised by Wellbeing; the details need the student's consent." in html
    assert "Said they had a plan." not in html


def test_a_service_not_in_the_students_care_does_not_see_the_flag(hub, client):
    flag = raise_flag(hub)
    client.force_login(hub.outsider)
    assert f'data-flag="{flag.uuid}"' not in client.get(reverse("risk:flags")).content.decode()
    response = client.post(reverse("risk:flag-acknowledge", args=[flag.uuid]))
    assert response.status_code == 404


def test_recording_an_assessment_from_the_risk_page(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("risk:student-risk", args=[hub.student.uuid])
    response = client.post(
        url,
        {
            "kind": "assessment",
            "domain_self": "2",
            "domain_academic": "3",
            "factors": "Exams.",
            "plan": "Weekly.",
            "review_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert RiskAssessment.objects.get().level.name == "High"
    html = client.get(url).content.decode()
    assert "Current level: <strong>High</strong>" in html


def test_a_bad_assessment_is_refused_next_to_the_field(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("risk:student-risk", args=[hub.student.uuid])
    response = client.post(
        url,
        {
            "kind": "assessment",
            "factors": "Exams.",
            "plan": "Weekly.",
            "review_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Rate at least one domain." in response.content.decode()
    assert not RiskAssessment.objects.exists()


def test_a_flag_without_a_level_is_refused(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("risk:student-risk", args=[hub.student.uuid])
    response = client.post(url, {"kind": "flag", "reason": "Worried."})
    assert "Choose the flag&#x27;s level." in response.content.decode()
    assert not Flag.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 404), ("academic", 403), ("researcher", 403)]
)
def test_people_without_access_cannot_open_the_risk_page(hub, client, who, status):
    client.force_login(getattr(hub, who))
    assert client.get(reverse("risk:student-risk", args=[hub.student.uuid])).status_code == status


def test_the_caseload_and_record_page_show_the_current_level(hub, client):
    services.record_assessment(
        actor=hub.practitioner,
        student=hub.student,
        service=hub.wellbeing,
        domain_levels={"self": 2},
        factors="Low mood.",
        plan="Weekly.",
        review_on=timezone.localdate(),
    )
    client.force_login(hub.practitioner)
    caseload = client.get(reverse("record:caseload")).content.decode()
    assert "Moderate" in caseload
    record = client.get(reverse("record:student-detail", args=[hub.student.uuid])).content.decode()
    assert "Current risk level: <strong>Moderate</strong>" in record


def test_the_hub_edits_its_risk_language_in_the_admin(admin_client, admin_user):
    from allauth.mfa.totp.internal.auth import TOTP

    from conftest import TOTP_SECRET
    from joinedup.risk.levels import ensure_default_levels

    TOTP.activate(admin_user, TOTP_SECRET)  # administrators need a second factor too
    ensure_default_levels()
    html = admin_client.get(reverse("admin:risk_risklevel_changelist")).content.decode()
    assert "Immediate" in html
    assert admin_client.get(reverse("admin:risk_servicescale_add")).status_code == 200


def test_the_risk_page_never_reads_not_assessed_when_risk_is_withheld(hub, client):
    from joinedup.consent.services import open_care_relationship

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    raise_flag(hub)  # Wellbeing's flag: its reason is Wellbeing's
    client.force_login(hub.crisis_practitioner)

    html = client.get(reverse("risk:student-risk", args=[hub.student.uuid])).content.decode()

    assert "Current level: <strong>not shared with you</strong>" in html
    assert "Risk: held by Wellbeing — not shared with you." in html


def test_a_service_that_declined_reads_its_risk_page_but_offers_nothing_to_write(hub, client):
    from joinedup.referrals import services as referrals
    from joinedup.referrals.tests.factories import refer

    referral = refer(hub)
    referrals.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="lower"
    )
    client.force_login(hub.triage)

    html = client.get(reverse("risk:student-risk", args=[hub.student.uuid])).content.decode()

    assert "Your service is not working with the student now" in html
    for offered in ("Record assessment", "Raise flag", "/safety-plan/", "/return-to-study/"):
        assert offered not in html
    assert "Ask the student to share" not in html


def test_a_safety_plan_another_service_holds_is_named_before_one_writes_another(hub, client):
    from joinedup.consent.services import open_care_relationship

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    services.save_safety_plan(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
        warning_signs="Not sleeping.",
    )  # fmt: skip
    client.force_login(hub.crisis_practitioner)

    html = client.get(reverse("risk:safety-plan", args=[hub.student.uuid])).content.decode()

    assert "A safety plan held by Wellbeing — not shared with you." in html
    assert "Not sleeping." not in html
    assert "No service has written a safety plan" not in html
