from django.urls import path

from joinedup.risk import concern_views, panel_views, views

app_name = "risk"

urlpatterns = [
    path("risk/flags/", views.flags, name="flags"),
    path(
        "risk/flags/<uuid:flag_uuid>/acknowledge/",
        views.flag_acknowledge,
        name="flag-acknowledge",
    ),
    path("risk/flags/<uuid:flag_uuid>/", views.flag_escalated, name="flag-escalated"),
    path("students/<uuid:student_uuid>/risk/", views.student_risk, name="student-risk"),
    path("students/<uuid:student_uuid>/safety-plan/", views.safety_plan, name="safety-plan"),
    path("students/<uuid:student_uuid>/return-to-study/", views.return_plans, name="return-plans"),
    path("panels/", panel_views.panel_list, name="panels"),
    path("panels/<uuid:panel_uuid>/", panel_views.panel_detail, name="panel-detail"),
    path("panels/<uuid:panel_uuid>/<str:step>/", panel_views.panel_step, name="panel-step"),
    path("concerns/", concern_views.concern_list, name="concerns"),
    path("concerns/new/", concern_views.concern_create, name="concern-create"),
    path("concerns/raised/", concern_views.concern_raised, name="concern-raised"),
    path("concerns/private/<str:code>/", concern_views.concern_private, name="concern-private"),
    path("concerns/<uuid:concern_uuid>/", concern_views.concern_detail, name="concern-detail"),
    path(
        "concerns/<uuid:concern_uuid>/<str:action>/",
        concern_views.concern_action,
        name="concern-action",
    ),
]
