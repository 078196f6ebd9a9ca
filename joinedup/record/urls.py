from django.urls import path

from joinedup.record import views
from joinedup.record.my_day import views as my_day_views

app_name = "record"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("my-day/", my_day_views.my_day, name="my-day"),
    path("<uuid:student_uuid>/", views.student_detail, name="student-detail"),
    path("<uuid:student_uuid>/contacts/", views.contact_log, name="contact-log"),
    path("<uuid:student_uuid>/notes/new/", views.note_create, name="note-create"),
    path("notes/<uuid:note_uuid>/", views.note_detail, name="note-detail"),
    path("notes/<uuid:note_uuid>/edit/", views.note_edit, name="note-edit"),
    path("notes/<uuid:note_uuid>/addenda/", views.addendum_create, name="addendum-create"),
    path("<uuid:student_uuid>/letters/", views.letters, name="letters"),
    path("<uuid:student_uuid>/letters/new/", views.letter_create, name="letter-create"),
    path("<uuid:student_uuid>/documents/", views.documents, name="documents"),
    path("files/<uuid:entry_uuid>/", views.entry_file, name="entry-file"),
]
