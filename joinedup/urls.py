from django.contrib import admin
from django.urls import include, path

from joinedup.fhir import views as fhir_views
from joinedup.people import views as people_views

urlpatterns = [
    path("", people_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("students/", include("joinedup.record.urls")),
    path("me/", include("joinedup.portal.urls")),
    path("", include("joinedup.consent.urls")),
    path("", include("joinedup.measures.urls")),
    path("", include("joinedup.referrals.urls")),
    path("", include("joinedup.risk.urls")),
    path("", include("joinedup.feedback.urls")),
    path("reports/", include("joinedup.evaluation.urls")),
    # A transaction Bundle is posted to the FHIR base itself, which has no trailing slash.
    path("fhir", fhir_views.system_endpoint),
    path("fhir/", include("joinedup.fhir.urls")),
    path("api/", include("joinedup.api.urls")),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
