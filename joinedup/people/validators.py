"""Field checks for identifiers used in UK health and higher education."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from nhs_number import is_valid as nhs_number_is_valid

# ODS codes: organisations are 3-5 alphanumerics (e.g. RW4, RXV), sites and practices
# a letter followed by five digits (e.g. P84001) or similar 5-6 character forms.
ODS_CODE_RE = re.compile(r"^[A-Z0-9]{3,6}$")
# The Royal Mail format: outward code (area, district) and inward code (sector, unit).
POSTCODE_RE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(value: str) -> str:
    compact = re.sub(r"\s+", "", value or "").upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def validate_postcode(value: str) -> None:
    if value and not POSTCODE_RE.match(normalise_postcode(value)):
        raise ValidationError(_("Enter a real UK postcode, like LS2 9JT."), code="invalid_postcode")


def validate_ods_code(value: str) -> None:
    if value and not ODS_CODE_RE.match(value):
        raise ValidationError(
            _("Enter an ODS code of 3 to 6 capital letters and digits, like RW4 or P84001."),
            code="invalid_ods_code",
        )


def normalise_nhs_number(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "")


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not digits:
        return
    if not (digits.isdigit() and len(digits) == 10):
        raise ValidationError(_("An NHS number has 10 digits."), code="invalid_nhs_number")
    if not nhs_number_is_valid(digits):
        raise ValidationError(
            _("This is not a valid NHS number: its check digit does not match."),
            code="invalid_nhs_number",
        )
