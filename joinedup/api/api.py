"""The JSON API: the operations partner systems and integrations need, with an OpenAPI
schema at `/api/openapi.json` and interactive documentation at `/api/docs`.

Every endpoint takes the caller from `auth` (an OAuth 2.0 client acting for one service, or
a signed-in member of staff), reads through the same selectors as the pages, and changes
through the same services, so the API never shows or does what the pages would not.
"""

from ninja import NinjaAPI

from joinedup.api import errors
from joinedup.api.auth import BearerToken, StaffSession
from joinedup.api.docs import Docs
from joinedup.api.routes import administrations, consents, flags, referrals, reports, students

api = NinjaAPI(
    title="JoinedUp API",
    version="1",
    description=(
        "Students, consents, referrals, questionnaires and risk flags, as the access policy "
        "lets the caller see them, and service reports for managers and researchers. "
        "Authenticate with an OAuth 2.0 bearer token from `/o/token/` (client credentials; "
        "scope `api.read` to read, `api.write` to change), or as a member of staff signed in "
        "to the site (changes then need the CSRF token in the `X-CSRFToken` header). Errors "
        "are JSON: `detail` says what went wrong and `errors` names the fields at fault."
    ),
    urls_namespace="api",
    docs=Docs(),
    auth=[BearerToken(), StaffSession()],
)
errors.install(api)
api.add_router("", students.router)
api.add_router("", consents.router)
api.add_router("", referrals.router)
api.add_router("", administrations.router)
api.add_router("", flags.router)
api.add_router("", reports.router)
