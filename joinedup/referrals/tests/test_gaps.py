"""Gap detection over the database: findings become worklist items once, resolved by action."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from joinedup.referrals import services
from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.models import GapItem, Referral
from joinedup.referrals.tests.factories import refer


def declined_days_ago(hub, days):
    referral = refer(hub)
    referral = services.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="higher"
    )
    Referral.objects.filter(pk=referral.pk).update(
        decided_at=timezone.now() - dt.timedelta(days=days)
    )
    return referral


def test_a_declined_referral_with_nobody_holding_the_student_is_found_once(hub):
    referral = declined_days_ago(hub, 8)
    items = detect_gaps()
    assert [(i.rule, i.referral_id, i.service) for i in items] == [
        ("declined_no_other_service", referral.pk, hub.wellbeing)
    ]
    assert detect_gaps() == []
    assert GapItem.objects.count() == 1


def test_not_found_the_day_before_the_threshold(hub):
    declined_days_ago(hub, 6)
    assert detect_gaps() == []


def test_an_open_episode_elsewhere_means_the_student_is_held(hub):
    declined_days_ago(hub, 8)
    services.open_episode(actor=hub.counsellor, student=hub.student, service=hub.counselling)
    found = detect_gaps()
    assert [i.rule for i in found] == []


def test_a_dry_run_changes_nothing(hub, capsys):
    declined_days_ago(hub, 8)
    call_command("detect_gaps", dry_run=True)
    assert "Would raise 1 new gap items." in capsys.readouterr().out
    assert not GapItem.objects.exists()
    call_command("detect_gaps", now=True)
    assert GapItem.objects.count() == 1


def test_the_command_queues_the_run_for_the_worker(hub, capsys):
    declined_days_ago(hub, 8)
    call_command("detect_gaps")  # tests run tasks at once
    assert "Queued gap detection" in capsys.readouterr().out
    assert GapItem.objects.count() == 1


def test_an_item_is_resolved_by_an_action_and_not_raised_again(hub):
    declined_days_ago(hub, 8)
    item = detect_gaps()[0]
    with pytest.raises(ValidationError, match="Say what was done"):
        services.resolve_gap_item(actor=hub.liaison, item=item, action="")
    services.resolve_gap_item(actor=hub.liaison, item=item, action="Referred to the CMHT.")
    assert detect_gaps() == []
    item.refresh_from_db()
    assert (item.action, item.resolved_by) == ("Referred to the CMHT.", hub.liaison)


def test_held_by_the_university_while_waiting_for_the_nhs(hub):
    services.open_episode(actor=hub.practitioner, student=hub.student, service=hub.wellbeing)
    referral = refer(hub)
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - dt.timedelta(weeks=7))
    rules_found = {i.rule for i in detect_gaps()}
    assert "held_waiting_for_nhs" in rules_found


def test_waiting_past_the_standard_with_moderate_risk_is_found(hub):
    from joinedup.risk.services import record_assessment

    referral = refer(hub)
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - dt.timedelta(days=50))
    assert "waiting_past_standard_at_risk" not in {i.rule for i in detect_gaps()}
    record_assessment(
        actor=hub.practitioner,
        student=hub.student,
        service=hub.wellbeing,
        domain_levels={"self": 2},
        factors="Low mood.",
        plan="Weekly.",
        review_on=timezone.localdate(),
    )
    assert "waiting_past_standard_at_risk" in {i.rule for i in detect_gaps()}


def test_a_concern_with_no_triage_outcome_after_two_days_is_found(hub):
    import time_machine

    from joinedup.risk.concerns import raise_concern

    raise_concern(
        reporter=hub.academic,
        student=hub.student,
        observed="Withdrawn in class.",
        urgency="routine",
        student_knows="no",
        student_agreed=False,
    )
    assert detect_gaps() == []
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        assert [i.rule for i in detect_gaps()] == ["concern_no_outcome"]
