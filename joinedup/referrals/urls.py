from django.urls import include, path

from joinedup.referrals import views

app_name = "referrals"

urlpatterns = [
    path("services/", include("joinedup.referrals.directory.urls")),
    path("referrals/", views.referral_list, name="referral-list"),
    path("referrals/waiting/", views.waiting_list, name="waiting-list"),
    path("referrals/follow-ups/", views.follow_ups, name="follow-ups"),
    path(
        "referrals/follow-ups/<uuid:task_uuid>/complete/",
        views.follow_up_complete,
        name="follow-up-complete",
    ),
    path("referrals/gaps/", views.gaps, name="gaps"),
    path("referrals/pathways/", views.pathway_map, name="pathway-map"),
    path("referrals/gaps/<uuid:item_uuid>/resolve/", views.gap_resolve, name="gap-resolve"),
    path("referrals/<uuid:referral_uuid>/", views.referral_detail, name="referral-detail"),
    path(
        "referrals/<uuid:referral_uuid>/assessment/",
        views.assessment_add,
        name="referral-assessment-add",
    ),
    path(
        "referrals/<uuid:referral_uuid>/appointments/",
        views.appointment_create,
        name="appointment-create",
    ),
    path(
        "referrals/<uuid:referral_uuid>/<str:action>/",
        views.referral_action,
        name="referral-action",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/record/",
        views.appointment_record,
        name="appointment-record",
    ),
    path(
        "students/<uuid:student_uuid>/referrals/new/", views.referral_create, name="referral-create"
    ),
    path(
        "students/<uuid:student_uuid>/crisis-contact/", views.crisis_contact, name="crisis-contact"
    ),
]
