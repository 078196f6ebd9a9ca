"""Named capability checks (who may do what), separate from the access policy for personal data."""

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from joinedup.people.models import CLINICAL_ROLES, Organisation, Role, User


def is_staff_member(user) -> bool:
    return user.is_authenticated and user.memberships.exists()


def can_view_caseload(user) -> bool:
    return user.is_authenticated and user.memberships.filter(role__in=CLINICAL_ROLES).exists()


def can_record_consent(user) -> bool:
    """Clinical staff may record a consent the student gave in person or on a paper form."""
    return can_view_caseload(user)


def can_break_glass(user) -> bool:
    return can_view_caseload(user)


def can_register_students(user) -> bool:
    """Clinical staff register a student who comes to their service (`people.intake`)."""
    return can_view_caseload(user)


def can_find_students(user) -> bool:
    """Any member of staff may search; the access policy decides whom they find."""
    return is_staff_member(user)


def can_merge_students(user) -> bool:
    """Organisation admins of a university merge its students' duplicate records."""
    return (
        user.is_authenticated
        and user.memberships.filter(
            role=Role.ORG_ADMIN, organisation__kind=Organisation.Kind.UNIVERSITY
        ).exists()
    )


def capability_required[V: Callable[..., HttpResponseBase]](
    check: Callable[[User | AnonymousUser], bool],
) -> Callable[[V], V]:
    """Decorate a function view so it runs only for users who pass `check`."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(V, wrapped)

    return decorator


__all__ = [
    "Role",
    "can_break_glass",
    "can_find_students",
    "can_merge_students",
    "can_record_consent",
    "can_register_students",
    "capability_required",
]
