"""The header's navigation: only the pages the signed-in person's roles may use, and who is
signed in, in which role and where. A template context processor, one query per request
(the user's memberships, cached on the user for the request by `seats_of`)."""

from dataclasses import dataclass, replace

from django.utils.translation import gettext_lazy as _

from joinedup.people.models import CLINICAL_ROLES, Role


@dataclass(frozen=True)
class Link:
    url_name: str
    label: str
    count: int = 0  # shown beside the label (unread messages), when there are some
    counted: str = _("unread")  # what the count counts, for a screen reader


SERVICES = Link("referrals:directory", _("Services"))
CONCERNS = Link("risk:concerns", _("Concerns"))
YOU_SAID = Link("feedback:you-said-we-did", _("You said, we did"))
SECURITY = Link("mfa_index", _("Security"))
FIND = Link("people:student-find", _("Find a student"))
STAFF_MESSAGES = Link("messaging:inbox", _("Messages"))
STUDENT_MESSAGES = Link("portal:messages", _("My messages"))
AGREEMENTS = Link("governance:agreements", _("Data sharing agreements"), counted=_("to act on"))
OVERRIDES = Link("governance:overrides", _("Emergency access reviews"), counted=_("to review"))
RIGHTS = Link("governance:rights-requests", _("Rights requests"),
              counted=_("due within a week or overdue"))  # fmt: skip

# Each role's pages, in the order they are shown; a person with several roles sees each page
# once, in the order of the first role that has it.
BY_ROLE: dict[str, tuple[Link, ...]] = {
    "clinical": (
        Link("record:my-day", _("My day")),
        STAFF_MESSAGES,
        Link("record:caseload", _("Caseload")),
        FIND,
        Link("referrals:diary", _("Diary")),
        Link("measures:worklist", _("Worklist")),
        Link("referrals:tasks", _("Tasks")),
        Link("referrals:waiting-list", _("Waiting list")),
        Link("referrals:referral-list", _("Referrals made")),
        CONCERNS,
        Link("consent:break-glass-open", _("Emergency access")),
        Link("feedback:list", _("Feedback")),
    ),
    Role.SERVICE_MANAGER: (
        Link("evaluation:report", _("Reports")),
        Link("referrals:diary", _("Diary")),
        Link("referrals:gaps", _("Gaps")),
        Link("referrals:follow-ups", _("Follow-ups")),
        Link("referrals:tasks", _("Tasks")),
        Link("feedback:list", _("Feedback")),
        Link("evaluation:project-list", _("Evaluation")),
        CONCERNS,
    ),
    Role.RESEARCHER: (
        Link("evaluation:report", _("Reports")),
        Link("evaluation:project-list", _("Evaluation")),
    ),
    Role.ACADEMIC: (CONCERNS, FIND),
    Role.ORG_ADMIN: (
        OVERRIDES,
        Link("governance:people", _("People")),
        AGREEMENTS,
        Link("governance:audit", _("Audit log")),
        RIGHTS,
        Link("governance:opt-outs", _("National data opt-out")),
        Link("governance:retention", _("Retention")),
        Link("people:student-merge", _("Merge records")),
    ),
}
STUDENT = (
    Link("portal:home", _("My record")),
    STUDENT_MESSAGES,
    Link("portal:scores", _("My questionnaires")),
    SERVICES,
    CONCERNS,
    YOU_SAID,
)


def links_for(roles: list[str], *, is_student: bool) -> list[Link]:
    """The navigation of someone with these roles (in the order of their memberships)."""
    if is_student and not roles:
        return list(STUDENT)
    links: list[Link] = []
    for role in roles:
        for link in BY_ROLE.get("clinical" if role in CLINICAL_ROLES else role, ()):
            if link not in links:
                links.append(link)
    for link in (SERVICES, YOU_SAID, SECURITY):
        if link not in links:
            links.append(link)
    return links


def navigation(request) -> dict:
    """Context for base.html: `nav_links`, `signed_in_as` (name, role and place of each
    membership) for the header, and `offers_welsh`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"offers_welsh": True}
    from joinedup.consent.policy import seats_of  # the header is the views' layer

    seats = seats_of(user)
    roles = [seat.role for seat in seats]
    # Only someone with no staff role is asked whether they are a student (one query fewer).
    is_student = not roles and hasattr(user, "student_record")
    places = [
        f"{Role(seat.role).label}, {seat.place}" for seat in seats if seat.role in Role.values
    ]
    links = links_for(roles, is_student=is_student)
    if STAFF_MESSAGES in links:
        from joinedup.messaging.selectors import unread_by_service

        links = _counted(links, STAFF_MESSAGES, unread_by_service(user))
    elif STUDENT_MESSAGES in links:
        from joinedup.messaging.selectors import unread_by_student

        links = _counted(links, STUDENT_MESSAGES, unread_by_student(user.student_record))
    if AGREEMENTS in links:
        from joinedup.governance.rights import due_soon
        from joinedup.governance.selectors import agreements_to_act_on, overrides_to_review

        links = _counted(links, AGREEMENTS, agreements_to_act_on(user))
        links = _counted(links, OVERRIDES, overrides_to_review(user))
        links = _counted(links, RIGHTS, due_soon(user))
    return {
        "nav_links": links,
        "signed_in_as": user.get_full_name() or user.email,
        "signed_in_places": places,
        # Students choose English or Welsh; staff pages are in English only.
        "offers_welsh": not roles and not user.is_staff,
    }


def _counted(links: list[Link], counted: Link, count: int) -> list[Link]:
    return [replace(link, count=count) if link == counted else link for link in links]
