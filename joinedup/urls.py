from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from oauth2_provider import views as oauth_views

from joinedup.fhir import views as fhir_views
from joinedup.operations.views import READY, Health
from joinedup.people import views as people_views

# Partner systems only exchange client credentials for tokens: clients are registered by
# `joinedup create_client`, never through self-registration or authorisation pages.
_oauth_urlpatterns = [
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
]

urlpatterns = [
    path("", people_views.home, name="home"),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="accessibility.html"),
        name="accessibility",
    ),
    path("privacy/", people_views.privacy, name="privacy"),
    path("language/", people_views.choose_language, name="language"),
    path("accounts/2fa/totp/activate/", people_views.activate_totp, name="mfa_activate_totp"),
    path("accounts/", include("allauth.urls")),
    # Everyone signs in through allauth's flow, second factor included; never admin's own form.
    path("admin/login/", people_views.admin_login),
    path("admin/", admin.site.urls),
    # Register, find and merge students (people) beside each student's record (record).
    path("students/", include("joinedup.people.urls")),
    path("students/", include("joinedup.record.urls")),
    path("me/", include("joinedup.portal.urls")),
    path("", include("joinedup.consent.urls")),
    path("", include("joinedup.measures.urls")),
    path("", include("joinedup.referrals.urls")),
    path("", include("joinedup.risk.urls")),
    path("", include("joinedup.feedback.urls")),
    path("", include("joinedup.messaging.urls")),
    path("governance/", include("joinedup.governance.urls")),
    path("reports/", include("joinedup.evaluation.urls")),
    # A transaction Bundle is posted to the FHIR base itself, which has no trailing slash.
    path("fhir", fhir_views.system_endpoint),
    path("fhir/", include("joinedup.fhir.urls")),
    path("api/", include("joinedup.api.urls")),
    path("o/", include((_oauth_urlpatterns, "oauth2_provider"))),
    # For load balancers and orchestrators: alive (the process answers) and ready (its
    # database, cache and file storage answer).
    path("health/live", Health.as_view(checks=()), name="health-live"),
    path("health/ready", Health.as_view(checks=READY), name="health-ready"),
]

# Errors under /api/ and /fhir/ are JSON (an OperationOutcome for FHIR); pages stay pages.
handler400 = "joinedup.errors.bad_request"
handler403 = "joinedup.errors.permission_denied"
handler404 = "joinedup.errors.page_not_found"
handler500 = "joinedup.errors.server_error"
