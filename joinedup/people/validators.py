"""Field checks for identifiers used in UK health and higher education."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from nhs_number import is_valid as nhs_number_is_valid
from nhs_number import standardise_format as nhs_number_digits

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
    """An NHS number as its 10 digits (written 9434765919, 943 476 5919 or 943-476-5919);
    anything else as typed, for `validate_nhs_number` to refuse."""
    return nhs_number_digits(value or "") or (value or "").strip()


def validate_nhs_number(value: str) -> None:
    """The format and the Modulus 11 check digit, as the `nhs-number` library checks them."""
    if not value or not value.strip():
        return
    if not nhs_number_digits(value):
        raise ValidationError(
            _("An NHS number has 10 digits, like 943 476 5919."), code="invalid_nhs_number"
        )
    if not nhs_number_is_valid(value):
        raise ValidationError(
            _("This is not a valid NHS number: its check digit does not match."),
            code="invalid_nhs_number",
        )


# A UK number: 0 and 9 or 10 more digits, or +44 (or 0044) and those digits without the 0.
UK_PHONE_RE = re.compile(r"^(?:0|\+44|0044)[1-9]\d{8,9}$")


def validate_uk_phone(value: str) -> None:
    """Spaces, dashes, dots and brackets are allowed as people write them ("+44 (0)7700
    900123", "(0113) 496 0000")."""
    compact = re.sub(r"[\s.\-]", "", value or "").replace("(0)", "")
    if value and not UK_PHONE_RE.match(re.sub(r"[()]", "", compact)):
        raise ValidationError(
            _("Enter a UK phone number, like 07700 900123 or +44 7700 900123."),
            code="invalid_phone",
        )
