"""Small helpers for views."""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from joinedup.people.models import User


class AuthenticatedRequest(HttpRequest):
    """For type checkers: the request of a view behind `login_required`, whose user is
    signed in (never `AnonymousUser`)."""

    user: "User"


def safe_next(request, fallback: str = "") -> str:
    """The `next` address a form posted (or a link carried), if it stays on this site;
    else `fallback`: never a redirect to somewhere else."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback
