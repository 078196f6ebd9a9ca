"""What a message may be, and what its notification says.

A notification may be read on a lock screen or in a shared inbox, so it says only that there
is a new message, with a link to the student's portal: never the service, nor a word of the
message itself.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Long enough for anything a person types on a phone; a pasted essay is asked to be split.
LONGEST = 4000

NOTIFICATION_SUBJECT = gettext_noop("You have a new message")


def problem_with(body: str) -> str:
    """Why `body` cannot be sent as it is, in words for whoever wrote it; "" when it can."""
    text = body.strip()
    if not text:
        return _("Write your message before you send it.")
    if len(text) > LONGEST:
        return _(
            "Your message is %(length)s characters long. One message can hold %(longest)s: "
            "shorten it, or send it as %(parts)s messages."
        ) % {
            "length": f"{len(text):,}",
            "longest": f"{LONGEST:,}",
            "parts": -(-len(text) // LONGEST),
        }
    return ""


def notification_text(link: str) -> str:
    """The words of an email or text message telling the student there is a message."""
    return _("You have a new message in JoinedUp. Sign in to read it: %(link)s") % {"link": link}
