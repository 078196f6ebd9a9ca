"""Phone numbers to tap, wherever a page shows someone's own words about whom to call."""

import re

import phonenumbers
from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The three-digit numbers to call in an emergency or for urgent help, standing alone.
_SHORT = re.compile(r"(?<![\d+])(999|111)(?![\d])")
# A UK number has seven to ten digits after its 0; shorter ones are only the 116 helplines
# (Samaritans, 116 123), never a text shortcode (Shout's 85258) or a stray figure.
_HELPLINE = re.compile(r"116\d{3}")


@register.filter
def tel_links(text: str) -> SafeString:
    """`text` escaped, with each phone number in it (UK numbers as people write them, and
    999 and 111) made a link that calls it."""
    found = [
        (m.start, m.end, m.raw_string)
        for m in phonenumbers.PhoneNumberMatcher(
            text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
        )
        if len(national := phonenumbers.national_significant_number(m.number)) >= 7
        or _HELPLINE.fullmatch(national)
    ]
    found += [
        (m.start(), m.end(), m[0])
        for m in _SHORT.finditer(text)
        if not any(start <= m.start() < end for start, end, _ in found)
    ]
    out, at = [], 0
    for start, end, raw in sorted(found):
        digits = "".join(c for c in raw if c.isdigit() or c == "+")
        out += [escape(text[at:start]), format_html('<a href="tel:{}">{}</a>', digits, raw)]
        at = end
    out.append(escape(text[at:]))
    return mark_safe("".join(out))  # noqa: S308 - every part escaped above
