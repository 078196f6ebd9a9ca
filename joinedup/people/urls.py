from django.urls import path

from joinedup.people import student_views

app_name = "people"
urlpatterns = [
    path("new/", student_views.student_register, name="student-register"),
    path("find/", student_views.student_find, name="student-find"),
    path("merge/", student_views.student_merge, name="student-merge"),
]
