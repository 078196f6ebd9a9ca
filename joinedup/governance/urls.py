from django.urls import path

from joinedup.governance import views

app_name = "governance"
urlpatterns = [
    path("overrides/", views.overrides, name="overrides"),
    path("overrides/summary/", views.override_summary, name="override-summary"),
    path("overrides/<uuid:access_uuid>/", views.override_review, name="override-review"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit-verify"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/new/", views.agreement_new, name="agreement-new"),
    path("agreements/<uuid:agreement_uuid>/", views.agreement, name="agreement"),
    path(
        "agreements/<uuid:agreement_uuid>/change/", views.agreement_change, name="agreement-change"
    ),
    path("people/", views.people, name="people"),
    path("people/invite/", views.invite, name="invite"),
    path("people/<uuid:user_uuid>/", views.person, name="person"),
    path("invitations/<uuid:invitation_uuid>/", views.invitation, name="invitation"),
    path("join/<str:token>/", views.join, name="join"),
    path("requests/", views.rights_requests, name="rights-requests"),
    path("requests/new/", views.rights_request_new, name="rights-request-new"),
    path("requests/<uuid:rights_request_uuid>/", views.rights_request, name="rights-request"),
    path("opt-outs/", views.opt_outs, name="opt-outs"),
    path("opt-outs/<uuid:check_uuid>/sent.dat", views.opt_out_sent, name="opt-out-sent"),
    path(
        "opt-outs/choices/<uuid:organisation_uuid>.csv",
        views.opt_out_choices,
        name="opt-out-choices",
    ),
    path("retention/", views.retention_view, name="retention"),
]
