from django.urls import include, path

from joinedup.referrals import diary_views, views
from joinedup.referrals.directory import views as directory_views

app_name = "referrals"

urlpatterns = [
    path("services/", include("joinedup.referrals.directory.urls")),
    path("help/", directory_views.help_now_page, name="help-now"),
    path("", include("joinedup.referrals.selfreferral.urls")),
    path("", include("joinedup.referrals.work.urls")),
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
    path("episodes/new/", diary_views.episode_new, name="episode-create"),
    path("episodes/<uuid:episode_uuid>/", diary_views.episode_detail, name="episode-detail"),
    path(
        "episodes/<uuid:episode_uuid>/allocate/",
        diary_views.episode_allocate,
        name="episode-allocate",
    ),
    path("episodes/<uuid:episode_uuid>/end/", diary_views.episode_end, name="episode-end"),
    path(
        "episodes/<uuid:episode_uuid>/appointments/",
        diary_views.episode_book,
        name="episode-appointment-create",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/",
        diary_views.appointment_detail,
        name="appointment-detail",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/move/",
        diary_views.appointment_move,
        name="appointment-move",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/cancel/",
        diary_views.appointment_cancel,
        name="appointment-cancel",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/record/",
        diary_views.appointment_record,
        name="appointment-record",
    ),
    path(
        "appointments/requests/<uuid:appointment_request_uuid>/answer/",
        diary_views.request_answer,
        name="appointment-request-answer",
    ),
    path("diary/", diary_views.diary_view, name="diary"),
    path(
        "diary/clinicians/<uuid:clinician_uuid>/",
        diary_views.clinician_diary,
        name="diary-clinician",
    ),
    path(
        "students/<uuid:student_uuid>/episodes/new/",
        diary_views.student_episode_new,
        name="student-episode-create",
    ),
    path(
        "students/<uuid:student_uuid>/referrals/new/", views.referral_create, name="referral-create"
    ),
    path(
        "students/<uuid:student_uuid>/crisis-contact/", views.crisis_contact, name="crisis-contact"
    ),
]
