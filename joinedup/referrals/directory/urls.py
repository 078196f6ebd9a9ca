"""URL patterns of the service directory, included by the referrals app's URLconf."""

from django.urls import path

from joinedup.referrals.directory import views

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<uuid:service_uuid>/", views.entry_detail, name="directory-entry"),
    path("<uuid:service_uuid>/edit/", views.entry_edit, name="directory-entry-edit"),
]
