"""Help now: the numbers a person in crisis can tap, on a page that every page links to.

The national lines are the same for everyone. The local ones come from the service
directory: every service listed for crises (topic "crisis") that gives a phone number, and
what each of the university's own services says to do when it is closed or in a crisis.
Anyone may read it, signed in or not; it names no student.
"""

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Organisation, User
from joinedup.referrals.models import DirectoryEntry
from joinedup.referrals.models.directory import Said

CRISIS_TOPIC = "crisis"


@dataclass(frozen=True)
class Line:
    """A national line: what it is for, and the number to call or to text."""

    name: Promise
    when: Promise
    call: str = ""  # digits for tel:
    text: str = ""  # digits for sms:
    text_body: str = ""  # what to text


NATIONAL = (
    Line(
        _("999"),
        _("If your life or someone else's is in danger now, or you cannot keep yourself "
          "safe, call 999 or go to A&E."),
        call="999",
    ),
    Line(
        _("NHS 111, option 2"),
        _("For urgent mental health help, any time of day or night: call 111 and choose "
          "option 2."),
        call="111",
    ),
    Line(_("Samaritans"), _("Someone to talk to, free, any time: call 116 123."), call="116123"),
    Line(
        _("Shout"),
        _("If talking is too hard, text SHOUT to 85258, free, any time."),
        text="85258",
        text_body="SHOUT",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class OutOfHours:
    """What one or more of the university's services say to do when they are closed."""

    services: list[str]
    words: Said


@dataclass
class HelpNow:
    university: Organisation | None  # whose out-of-hours contacts are shown
    crisis_lines: list[DirectoryEntry] = field(default_factory=list)
    out_of_hours: list[OutOfHours] = field(default_factory=list)  # the same words once
    national: tuple[Line, ...] = NATIONAL


def university_of(user: User | None) -> Organisation | None:
    """The university whose contacts a signed-in person sees first: a student's own, or the
    university a member of staff works in."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_student:
        return user.student_record.university
    seat = user.memberships.filter(organisation__kind=Organisation.Kind.UNIVERSITY).first()
    return seat.organisation if seat else None


def help_now_for(university: Organisation | None) -> HelpNow:
    """The crisis lines of the hub's directory, and the university's out-of-hours words."""
    entries = list(
        DirectoryEntry.objects.select_related("service__organisation").order_by("service__name")
    )
    said: dict[Said, list[str]] = {}
    own = [
        e for e in entries if university is not None and e.service.organisation_id == university.pk
    ]
    for entry in own:
        if (words := entry.said["out_of_hours"]).text.strip():
            said.setdefault(Said(words.text.strip(), words.lang), []).append(entry.service.name)
    return HelpNow(
        university=university,
        crisis_lines=[e for e in entries if CRISIS_TOPIC in e.topics and e.phone],
        out_of_hours=[OutOfHours(names, words) for words, names in said.items()],
    )
