"""Reminders sent outside the request (`services`): the periodic run, and a questionnaire
link just created."""

from django.tasks import task

from joinedup.measures.models import CompletionLink
from joinedup.reminders import services


@task
def send_reminders() -> int:
    """Remind students of the appointments now due a reminder; returns how many were sent."""
    return sum(r.status == "sent" for r in services.send_due_reminders())


@task
def send_questionnaire_link(link_id: int, token: str) -> None:
    """Send the student their questionnaire link by the channels they chose."""
    link = CompletionLink.objects.select_related("episode__student__user").get(pk=link_id)
    services.send_questionnaire_link(link, token)
