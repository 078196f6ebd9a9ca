"""Who is calling the JSON API: an OAuth 2.0 client acting for one service, or a member of
staff signed in to the site. Either way the caller is a `User`, and every read then goes
through the same access policy as the pages."""

from django.conf import settings
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf
from oauth2_provider.oauth2_backends import get_oauthlib_core

from joinedup.people.permissions import is_staff_member

READ_SCOPE = "api.read"
WRITE_SCOPE = "api.write"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scope_for(method: str) -> str:
    return READ_SCOPE if method in SAFE_METHODS else WRITE_SCOPE


class BearerToken(HttpBearer):
    """An access token from `/o/token/` (client credentials grant).

    The client acts as its application's user: a system user with exactly one membership
    (an organisation and a service), so the policy treats it as a member of that service.
    Reads need the `api.read` scope, changes `api.write`.
    """

    def authenticate(self, request, token):
        valid, oauth = get_oauthlib_core().verify_request(request, scopes=[])
        if not valid:
            raise HttpError(401, "The access token is not valid, or has expired.")
        access_token = oauth.access_token
        needed = scope_for(request.method)
        if not access_token.allow_scopes([needed]):
            raise HttpError(403, f"This access token does not have the {needed} scope.")
        user = access_token.application.user
        if user is None or not user.is_active:
            raise HttpError(403, "This client has no active user to act as.")
        if user.memberships.count() != 1:
            # Acting for several services would make "what this client may see" ambiguous.
            raise HttpError(
                403,
                "This client's user must have exactly one membership (an organisation and "
                "a service).",
            )
        return user


class StaffSession(APIKeyCookie):
    """The session of a member of staff signed in to the site; changes need the CSRF token
    (header `X-CSRFToken`), as for a form. Students use their portal, not the API."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        user = self.authenticate(request, None)
        if user is not None and request.method not in SAFE_METHODS and check_csrf(request):
            raise HttpError(
                403, "The CSRF token is missing or wrong: send it in the X-CSRFToken header."
            )
        return user

    def authenticate(self, request, key):
        user = request.user
        return user if is_staff_member(user) else None
