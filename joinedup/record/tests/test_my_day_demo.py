"""The demo's practitioner and counsellor each find a full day on My day, whatever day the
demo is loaded: one of every kind of item, and a task they set for a colleague."""

import pytest

from joinedup.people.models import User
from joinedup.record.demo import build_demo_hub
from joinedup.record.my_day.selectors import my_day_for
from joinedup.referrals.work.selectors import task_list_for


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub(students_per_university=3)


@pytest.mark.parametrize("handle", ["practitioner", "counsellor"])
def test_each_demo_clinician_has_one_of_every_kind_of_item_today(demo, handle):
    user = User.objects.get(email=f"{handle}@demo.joinedup.example")
    day = my_day_for(user)

    assert [a for a in day.appointments if a.shown], "appointments"
    assert day.drafts, "drafts"
    assert day.questionnaires, "questionnaires"
    assert [f for f in day.flags if f.detail_shown], "flags"
    assert day.reviews, "risk reviews"
    assert [t for t in day.tasks if t.shown and t.task.assignee_id == user.pk], "tasks"
    assert [c for c in day.caseload if c.next_at and c.last_at and c.risk and not c.risk.held_by]
    withheld = [c for c in day.caseload if c.risk and c.risk.held_by]
    assert withheld, "a risk level another service holds"
    assert "not shared with you" in withheld[0].risk_text
    set_for_others = task_list_for(user).set_by_me
    assert [t for t in set_for_others if t.task.assignee_id not in (None, user.pk)]
