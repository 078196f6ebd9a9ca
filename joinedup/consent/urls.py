from django.urls import path

from joinedup.consent import views

app_name = "consent"
urlpatterns = [
    path("students/<uuid:student_uuid>/consents/new/", views.grant_create, name="grant-create"),
    path("break-glass/", views.break_glass_open, name="break-glass-open"),
    path(
        "students/<uuid:student_uuid>/sharing-requests/",
        views.sharing_request_create,
        name="sharing-request-create",
    ),
]
