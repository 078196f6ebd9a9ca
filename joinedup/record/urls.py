from django.urls import path

from joinedup.record import views

app_name = "record"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<uuid:student_uuid>/", views.student_detail, name="student-detail"),
]
