"""Phone numbers to tap, wherever the help-now panel shows a service's own words."""

import phonenumbers
from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def tel_links(text: str) -> SafeString:
    """`text` escaped, with each phone number in it (UK numbers, as a person would write
    them) made a link that calls it."""
    out, at = [], 0
    for match in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        digits = "".join(c for c in match.raw_string if c.isdigit() or c == "+")
        out += [escape(text[at : match.start]), format_html('<a href="tel:{}">{}</a>', digits,
                                                               match.raw_string)]  # fmt: skip
        at = match.end
    out.append(escape(text[at:]))
    return mark_safe("".join(out))  # noqa: S308 - every part escaped above
