"""Text messages through GOV.UK Notify's own client library.

Notify sends from a template: set NOTIFY_SMS_TEMPLATE_ID to a text message template whose
whole body is `((message))`, and every reminder fills it with its own words.
"""

from django.conf import settings
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from joinedup.reminders import rules

__all__ = ["APIError", "problem_of", "send_sms", "sms_available"]


def sms_available() -> bool:
    """Whether this hub has a Notify key and a text message template."""
    return bool(settings.NOTIFY_API_KEY and settings.NOTIFY_SMS_TEMPLATE_ID)


def send_sms(phone_number: str, text: str, *, reference: str) -> str:
    """Send `text` to `phone_number`; returns Notify's id for it, or raises `APIError`."""
    client = NotificationsAPIClient(
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=10
    )
    response = client.send_sms_notification(
        phone_number=phone_number,
        template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
        personalisation={"message": text},
        reference=reference,
    )
    return str(response["id"])


def problem_of(error: APIError) -> str:
    return rules.notify_problem(error.status_code, error.message)
