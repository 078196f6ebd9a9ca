"""Evaluation projects, saved reports and research extracts (mounted at /reports/)."""

from django.urls import path

from joinedup.evaluation import project_views as views

urlpatterns = [
    path("extracts/", views.extract_list, name="extract-list"),
    path("extracts/<uuid:extract_uuid>/", views.extract_detail, name="extract-detail"),
    path("extracts/<uuid:extract_uuid>/status/", views.extract_status, name="extract-status"),
    path("extracts/<uuid:extract_uuid>/download/", views.extract_download, name="extract-download"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<uuid:project_uuid>/", views.project_detail, name="project-detail"),
    path("projects/<uuid:project_uuid>/<slug:stage>/", views.project_edit, name="project-edit"),
    path("saved/", views.saved_report_list, name="saved-report-list"),
    path("saved/new/", views.saved_report_create, name="saved-report-create"),
    path("saved/<uuid:report_uuid>/", views.saved_report_detail, name="saved-report-detail"),
    path("saved/<uuid:report_uuid>/report.csv", views.saved_report_csv, name="saved-report-csv"),
    path("saved/<uuid:report_uuid>/report.pdf", views.saved_report_pdf, name="saved-report-pdf"),
]
