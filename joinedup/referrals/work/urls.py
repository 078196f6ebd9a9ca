"""URL patterns of tasks, included by the referrals app's URLconf."""

from django.urls import path

from joinedup.referrals.work import views

urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_create, name="task-create"),
    path("tasks/<uuid:task_uuid>/done/", views.task_done, name="task-done"),
    path("students/<uuid:student_uuid>/tasks/new/", views.task_create, name="student-task-create"),
]
