from django.urls import path

from joinedup.risk import views

app_name = "risk"

urlpatterns = [
    path("risk/flags/", views.flags, name="flags"),
    path(
        "risk/flags/<uuid:flag_uuid>/acknowledge/",
        views.flag_acknowledge,
        name="flag-acknowledge",
    ),
    path("students/<uuid:student_uuid>/risk/", views.student_risk, name="student-risk"),
]
