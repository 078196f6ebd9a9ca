"""Tasks: set for a colleague or a team, seen as the policy allows, marked done once, and
escalated to the team's managers when overdue."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import make_staff
from joinedup.audit.models import AuditEvent
from joinedup.people.models import Role
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.services import escalate_overdue_follow_ups
from joinedup.referrals.tests.factories import second_clinician
from joinedup.referrals.work import services
from joinedup.referrals.work.selectors import task_list_for

TOMORROW = timezone.localdate() + dt.timedelta(days=1)
TASKS = reverse("referrals:tasks")


def _set(hub, **fields):
    values = {
        "actor": hub.practitioner, "service": hub.wellbeing, "title": "Call the GP about sleep",
        "due_on": TOMORROW,
    } | fields  # fmt: skip
    return services.set_task(**values)


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return {name: [str(m) for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()}  # fmt: skip


# --- Setting a task -------------------------------------------------------------------------


def test_a_practitioner_sets_a_task_for_a_colleague_about_a_student(hub):
    wes = second_clinician(hub)
    task = _set(hub, assignee=wes, student=hub.student, detail="Ask about the new tablets.")
    assert (task.assignee, task.service, task.student, task.created_by) == (
        wes, hub.wellbeing, hub.student, hub.practitioner,
    )  # fmt: skip
    assert timezone.localtime(task.due_at).date() == TOMORROW
    assert not task.is_follow_up
    event = AuditEvent.objects.get(action="referrals.task.set")
    assert (event.student_id, event.category, event.actor_service) == (
        hub.student.pk, "notes", "Wellbeing",
    )  # fmt: skip


def test_a_task_due_in_the_past_is_refused_and_nothing_is_saved(hub):
    with pytest.raises(ValidationError) as refused:
        _set(hub, due_on=timezone.localdate() - dt.timedelta(days=1), title=" ")
    assert _messages(refused.value) == {
        "title": ["Say what needs doing."],
        "due_on": ["The due date must be today or later."],
    }
    assert not FollowUpTask.objects.exists()
    assert not AuditEvent.objects.filter(action="referrals.task.set").exists()


def test_a_task_for_someone_outside_the_service_is_refused_by_name(hub):
    with pytest.raises(ValidationError) as refused:
        _set(hub, assignee=hub.counsellor)
    assert _messages(refused.value) == {
        "assign_to": [f"{hub.counsellor} does not work in Wellbeing. Choose someone who does."]
    }
    assert not FollowUpTask.objects.exists()


def test_a_task_for_a_service_the_author_does_not_work_in_is_refused(hub):
    with pytest.raises(ValidationError) as refused:
        _set(hub, service=hub.counselling, assignee=hub.counsellor)
    assert _messages(refused.value) == {
        "assign_to": ["You can set tasks only for a service you work in."]
    }


def test_a_manager_sets_no_tasks(hub):
    with pytest.raises(ValidationError):
        _set(hub, actor=hub.service_manager)


def test_a_task_about_a_student_goes_only_to_a_service_caring_for_them(hub):
    both = make_staff("bo@nb.ac.uk", Role.PRACTITIONER, hub.university, service=hub.wellbeing)
    both.memberships.create(
        organisation=hub.university, service=hub.counselling, role=Role.PRACTITIONER
    )
    with pytest.raises(ValidationError) as refused:
        _set(hub, actor=both, service=hub.counselling, student=hub.student)
    assert _messages(refused.value) == {
        "assign_to": [
            "Counselling is not working with this student now, so no one there could read "
            "this task."
        ]
    }
    assert _set(hub, actor=both, service=hub.wellbeing, student=hub.student)


# --- Marking it done ------------------------------------------------------------------------


def test_the_assignee_or_anyone_in_the_team_marks_it_done_once(hub):
    wes = second_clinician(hub)
    task = _set(hub, assignee=wes)
    with pytest.raises(ValidationError, match="someone in Wellbeing"):
        services.complete_task(actor=hub.counsellor, task=task)
    with pytest.raises(ValidationError, match="someone in Wellbeing"):
        services.complete_task(actor=hub.service_manager, task=task)
    done = services.complete_task(actor=hub.practitioner, task=task)  # covering for Wes
    assert (done.completed_by, done.outcome) == (hub.practitioner, "")
    with pytest.raises(ValidationError, match="already been marked done"):
        services.complete_task(actor=wes, task=task)


def test_a_crisis_follow_up_done_from_the_tasks_page_still_says_what_was_done(hub):
    follow_up = FollowUpTask.objects.create(
        student=hub.student, service=hub.wellbeing, reason="Crisis contact with Crisis Team",
        due_at=timezone.now() + dt.timedelta(hours=72),
    )  # fmt: skip
    with pytest.raises(ValidationError, match="Say what was done"):
        services.complete_task(actor=hub.practitioner, task=follow_up, outcome=" ")
    done = services.complete_task(actor=hub.practitioner, task=follow_up, outcome="Called.")
    assert done.outcome == "Called."


# --- The list, as the policy allows ---------------------------------------------------------


def test_the_list_splits_mine_my_teams_and_those_i_set(hub):
    wes = second_clinician(hub)
    for_me = _set(hub, actor=wes, assignee=hub.practitioner, title="For Priya")
    for_team = _set(hub, actor=wes, title="For the team")
    for_wes = _set(hub, assignee=wes, title="For Wes")
    _set(hub, actor=hub.counsellor, service=hub.counselling, title="Counselling's own")

    tasks = task_list_for(hub.practitioner)

    assert [r.task for r in tasks.mine] == [for_me]
    assert {r.task for r in tasks.team} == {for_team, for_wes}
    assert [r.task for r in tasks.set_by_me] == [for_wes]
    assert not tasks.overdue


def test_a_task_about_a_student_is_held_from_whoever_may_not_read_its_service_notes(hub, client):
    task = _set(hub, student=hub.student, title="Check in after the crisis call")
    client.force_login(hub.practitioner)
    html = client.get(TASKS).content.decode()
    assert "Check in after the crisis call" in html
    assert hub.student.display_name in html
    # The team's manager meets it once overdue, held by Wellbeing, never empty.
    with time_machine.travel(task.due_at + dt.timedelta(minutes=1)):
        client.force_login(hub.service_manager)
        html = client.get(TASKS).content.decode()
    assert f'data-task="{task.uuid}"' in html
    assert "Check in after the crisis call" not in html
    assert hub.student.display_name not in html
    assert "A task about a student: held by Wellbeing, not shared with you" in html


def test_the_page_lists_each_student_it_names_in_the_audit_log(hub, client):
    _set(hub, student=hub.student)
    client.force_login(hub.practitioner)
    client.get(TASKS)
    listed = AuditEvent.objects.filter(action="referrals.tasks.listed", student=hub.student)
    assert set(listed.values_list("category", flat=True)) == {"identity", "notes"}


def test_the_form_sets_a_task_and_says_what_is_wrong_in_words(hub, client):
    wes = second_clinician(hub)
    client.force_login(hub.practitioner)
    form = client.get(reverse("referrals:task-create")).content.decode()
    choice = f"person:{wes.uuid}:{hub.wellbeing.uuid}"
    assert f'value="{choice}"' in form
    assert f'value="team:{hub.counselling.uuid}"' not in form

    past = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    response = client.post(
        reverse("referrals:task-create"),
        {"title": "Book a review", "due_on": past, "assign_to": choice},
    )
    assert "The due date must be today or later." in response.content.decode()
    # A crafted choice naming someone outside Wellbeing gets the rule's words.
    crafted = f"person:{hub.counsellor.uuid}:{hub.wellbeing.uuid}"
    response = client.post(reverse("referrals:task-create"), {
        "title": "Book a review", "due_on": TOMORROW.isoformat(), "assign_to": crafted,
    })  # fmt: skip
    assert "does not work in Wellbeing" in response.content.decode()
    response = client.post(reverse("referrals:task-create"), {
        "title": "Book a review", "due_on": TOMORROW.isoformat(), "assign_to": "person:nope:x",
    })  # fmt: skip
    assert "Choose who the task is for." in response.content.decode()
    assert not FollowUpTask.objects.exists()

    response = client.post(reverse("referrals:task-create"), {
        "title": "Book a review", "due_on": TOMORROW.isoformat(), "assign_to": choice,
    })  # fmt: skip
    assert response.headers["Location"] == TASKS
    assert FollowUpTask.objects.get().assignee == wes


def test_a_task_set_from_the_students_record_is_about_them(hub, client):
    client.force_login(hub.practitioner)
    url = reverse("referrals:student-task-create", args=[hub.student.uuid])
    response = client.post(url, {
        "title": "Send the exam letter", "due_on": TOMORROW.isoformat(),
        "assign_to": f"team:{hub.wellbeing.uuid}",
    })  # fmt: skip
    assert response.headers["Location"] == reverse("record:student-detail", args=[hub.student.uuid])
    task = FollowUpTask.objects.get()
    assert (task.student, task.assignee) == (hub.student, None)
    record = client.get(response.headers["Location"]).content.decode()
    assert url in record
    # The record lists it, to be marked done there; once done it leaves.
    tasks = record.split("data-record-tasks")[1]
    assert "Send the exam letter" in tasks
    assert reverse("referrals:task-done", args=[task.uuid]) in tasks
    services.complete_task(actor=hub.practitioner, task=task)
    assert "data-record-tasks" not in client.get(response.headers["Location"]).content.decode()


def test_the_record_form_is_404_for_a_student_outside_my_care(hub, client):
    client.force_login(hub.counsellor)
    url = reverse("referrals:student-task-create", args=[hub.student.uuid])
    assert client.get(url).status_code == 404


def test_mark_done_from_the_page_and_an_outsider_gets_404(hub, client):
    task = _set(hub)
    url = reverse("referrals:task-done", args=[task.uuid])
    client.force_login(hub.outsider)
    assert client.post(url).status_code == 404
    client.force_login(hub.practitioner)
    response = client.post(url, follow=True)
    assert "Marked done." in response.content.decode()
    assert FollowUpTask.objects.get().completed_by == hub.practitioner


def test_staff_without_a_service_have_no_task_list(hub, client):
    client.force_login(hub.student_user)
    assert client.get(TASKS).status_code == 403


# --- Overdue: to the team's manager ---------------------------------------------------------


def test_an_overdue_task_reaches_the_teams_manager_once_with_a_link_they_may_open(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    wes = second_clinician(hub)
    task = _set(hub, assignee=wes, student=hub.student, title="Ring the student's GP")
    with time_machine.travel(task.due_at + dt.timedelta(hours=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate_overdue_follow_ups() == 1
        assert escalate_overdue_follow_ups() == 0
        mail = mailoutbox[-1]
        assert mail.to == [hub.service_manager.email]
        assert mail.subject == "Overdue task in Wellbeing"
        assert f"A task for {wes} was due at" in mail.body
        assert "Ring the student's GP" not in mail.body
        assert hub.student.display_name not in mail.body
        link = re.search(r"https?://\S+", mail.body).group()
        assert link.endswith(TASKS)
        client.force_login(hub.service_manager)
        html = client.get(TASKS).content.decode()
    assert f'data-task="{task.uuid}"' in html
    assert "Overdue" in html
    event = AuditEvent.objects.get(action="referrals.follow_up.escalated")
    assert (event.category, event.reason) == ("notes", "A task of Wellbeing is overdue.")


def test_a_team_task_overdue_names_the_team_in_the_email(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    task = _set(hub)
    with (
        time_machine.travel(task.due_at + dt.timedelta(hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        escalate_overdue_follow_ups()
    assert "A task for everyone in Wellbeing was due at" in mailoutbox[-1].body


def test_the_crisis_follow_ups_page_keeps_to_follow_ups(hub, client):
    _set(hub, title="A colleague's task")
    client.force_login(hub.practitioner)
    html = client.get(reverse("referrals:follow-ups")).content.decode()
    assert "A colleague&#x27;s task" not in html
    assert "No follow-ups are due." in html
