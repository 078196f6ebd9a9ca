"""Where an appointment is, as each page that lists appointments says it."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from joinedup.referrals.models import Appointment

register = template.Library()


@register.simple_tag
def appointment_where(appointment: Appointment) -> SafeString:
    """Its place, its video link, or that neither is given yet. (A tag, not an included
    template: a week of a service's diary shows hundreds.)"""
    parts = [(appointment.place,)] if appointment.place else []
    if appointment.video_link:
        parts.append((format_html(
            '<a class="jup-break-anywhere" href="{}" rel="noopener noreferrer">{}</a>',
            appointment.video_link, _("Video link"),
        ),))  # fmt: skip
    return format_html_join(" · ", "{}", parts) if parts else format_html("{}", _("Not given yet"))
