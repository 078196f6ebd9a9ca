"""Named capability checks (who may do what), separate from the access policy for personal data."""

from functools import wraps

from django.core.exceptions import PermissionDenied

from joinedup.people.models import CLINICAL_ROLES, Role


def is_staff_member(user) -> bool:
    return user.is_authenticated and user.memberships.exists()


def can_view_caseload(user) -> bool:
    return user.is_authenticated and user.memberships.filter(role__in=CLINICAL_ROLES).exists()


def can_record_consent(user) -> bool:
    """Clinical staff may record a consent the student gave in person or on a paper form."""
    return can_view_caseload(user)


def can_break_glass(user) -> bool:
    return can_view_caseload(user)


def capability_required(check):
    """Decorate a function view so it runs only for users who pass `check`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


__all__ = ["Role", "can_break_glass", "can_record_consent", "capability_required"]
