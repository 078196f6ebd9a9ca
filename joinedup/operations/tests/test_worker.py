"""The worker runs what was queued in the database, in development as in production."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from joinedup.referrals.tasks import email_new_referral
from joinedup.referrals.tests.factories import refer

pytestmark = pytest.mark.django_db


# The worker closes its database connection between tasks, as a long-lived process should.
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_what_was_queued(hub, settings):
    referral = refer(hub)
    mail.outbox.clear()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = email_new_referral.enqueue(referral.pk)
    assert mail.outbox == []  # queued, not sent
    call_command("worker", batch=True, verbosity=0)
    assert [message.subject for message in mail.outbox] == [
        f"New referral for {referral.to_service.name}"
    ]
    result.refresh()
    assert result.status == "SUCCESSFUL"


def test_the_worker_says_when_tasks_are_not_queued():
    with pytest.raises(CommandError, match="runs each task as it is queued, so there is no queue"):
        call_command("worker", batch=True)


# Transactional, as a worker's connection is: it closes its connection to get a new one.
@pytest.mark.django_db(transaction=True)
def test_the_worker_carries_on_when_the_database_goes_away_and_comes_back(settings, monkeypatch):
    from django.db import OperationalError

    from joinedup.operations.management.commands import worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    attempts = []

    def db_worker(*args, **kwargs):
        attempts.append(kwargs["worker_id"])
        if len(attempts) == 1:
            raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(worker, "call_command", db_worker)
    monkeypatch.setattr(worker.time, "sleep", lambda seconds: None)
    said = StringIO()
    call_command("worker", batch=True, stderr=said)
    assert len(attempts) == 2
    assert attempts[0] == attempts[1]  # the same worker, not a new one
    assert "Database unavailable, trying again shortly" in said.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_email_that_failed_while_the_mail_server_was_down_is_sent_later(
    hub, settings, monkeypatch
):
    import smtplib
    from datetime import timedelta

    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from joinedup.operations.recovery import retry_failed_sends
    from joinedup.referrals import tasks

    referral = refer(hub)
    mail.outbox.clear()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    real_send = tasks.send_mail
    server = {"up": False}

    def send_mail(**kwargs):
        if not server["up"]:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(**kwargs)

    monkeypatch.setattr(tasks, "send_mail", send_mail)
    email_new_referral.enqueue(referral.pk)
    call_command("worker", batch=True, verbosity=0)
    [result] = DBTaskResult.objects.all()
    assert result.status == TaskResultStatus.FAILED
    assert mail.outbox == []

    server["up"] = True
    DBTaskResult.objects.update(finished_at=result.finished_at - timedelta(minutes=5))
    assert retry_failed_sends() == (1, 0)
    call_command("worker", batch=True, verbosity=0)
    result.refresh_from_db()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert [message.subject for message in mail.outbox] == [
        f"New referral for {referral.to_service.name}"
    ]
