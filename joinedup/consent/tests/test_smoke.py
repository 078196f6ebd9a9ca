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
