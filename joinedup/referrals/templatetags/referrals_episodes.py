"""The student's record links to the episodes its reader's own services hold."""

from django import template

from joinedup.referrals.models import Episode
from joinedup.referrals.selectors import clinical_service_ids

register = template.Library()


@register.inclusion_tag("referrals/_episodes_on_record.html", takes_context=True)
def episodes_on_record(context, student, decision):
    """The episodes of the reader's clinical services with the student (as the engagement
    `decision` lets them through), and, where the reader may act in the student's care, a
    way to open one."""
    own = clinical_service_ids(context["request"].user)
    episodes = (
        decision.rows(Episode.objects.filter(student=student, service_id__in=own), "service")
        .select_related("service", "practitioner")
        .order_by("-started_at")
        if own
        else Episode.objects.none()
    )
    return {
        "student": student,
        "episodes": list(episodes),
        "may_open": bool(own) and context.get("is_clinical", False),
    }
