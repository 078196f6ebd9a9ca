from django.urls import path

from joinedup.measures import views

app_name = "measures"

urlpatterns = [
    path("measures/", views.worklist, name="worklist"),
    path("students/<uuid:student_uuid>/measures/", views.outcomes, name="outcomes"),
    path(
        "episodes/<uuid:episode_uuid>/measures/<str:code>/",
        views.administration_create,
        name="administration-create",
    ),
    path("episodes/<uuid:episode_uuid>/links/", views.link_create, name="link-create"),
]
