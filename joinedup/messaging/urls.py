from django.urls import path

from joinedup.messaging import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("students/<uuid:student_uuid>/messages/", views.thread, name="thread"),
    path("messages/<uuid:message_uuid>/file/", views.file_into_notes, name="file-into-notes"),
]
