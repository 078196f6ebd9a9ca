"""Service reports and benchmarking."""

from django.urls import path

from joinedup.evaluation import report_views as views

urlpatterns = [
    path("", views.report, name="report"),
    path("report.csv", views.report_csv, name="report-csv"),
    path("report.pdf", views.report_pdf, name="report-pdf"),
    path("benchmarking/", views.benchmarking, name="benchmarking"),
    path("reliable-change/", views.calibration, name="calibration"),
]
