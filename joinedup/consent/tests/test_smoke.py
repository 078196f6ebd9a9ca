from joinedup.consent.policy import decide


def test_practitioner_with_relationship_reads_risk(hub):
    decision = decide(hub.practitioner, hub.student, "risk")
    assert decision.allowed
    assert decision.basis == "relationship"


def test_crisis_team_without_consent_is_told_why(hub):
    decision = decide(hub.crisis_practitioner, hub.student, "risk")
    assert not decision.allowed
    assert decision.reason == "Risk is not shared with Crisis Team: no consent."


def test_record_page_shows_allowed_and_explains_refused(hub, client):
    client.force_login(hub.practitioner)
    response = client.get(f"/students/{hub.student.uuid}/")
    assert response.status_code == 200
    client.force_login(hub.counsellor)
    response = client.get(f"/students/{hub.student.uuid}/")
    assert response.status_code == 404


def test_decide_for_service_previews_a_recipient_without_auditing(hub):
    from joinedup.audit.models import AuditEvent
    from joinedup.consent.policy import decide_for_service
    from joinedup.consent.tests.factories import give_consent

    before = AuditEvent.objects.count()
    assert not decide_for_service(hub.talking, hub.student, "assessment").allowed
    give_consent(hub, "assessment", hub.talking)
    decision = decide_for_service(hub.talking, hub.student, "assessment")
    assert (decision.allowed, decision.basis, decision.whole) == (True, "consent", True)
    # Across organisations the agreement must cover the category too.
    hub.agreement.categories = ["identity"]
    hub.agreement.save(update_fields=["categories"])
    assert not decide_for_service(hub.talking, hub.student, "assessment").allowed
    assert AuditEvent.objects.count() == before + 1  # only the consent change itself
