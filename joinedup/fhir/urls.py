from django.urls import path

from joinedup.fhir import views

app_name = "fhir"

urlpatterns = [
    path("", views.system_endpoint, name="system"),
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart"),
    path("$export", views.export_kickoff, name="export"),
    path("Patient/$export", views.export_kickoff, {"patient_level": True}, name="patient-export"),
    path("Group/<str:key>/$export", views.group_export, name="group-export"),
    path("Patient/<str:key>/$everything", views.patient_everything, name="patient-everything"),
    path("$export-status/<uuid:job_uuid>", views.export_status, name="export-status"),
    path("$export-files/<uuid:file_uuid>", views.export_file, name="export-file"),
    path("_history", views.history, name="history"),
    path("<str:resource_type>/_history", views.history, name="history-type"),
    path("<str:resource_type>/<str:key>/_history", views.history, name="history-instance"),
    path("<str:resource_type>/<str:key>/_history/<str:version>", views.vread, name="vread"),
    path("<str:resource_type>/_search", views.post_search, name="search"),
    path("Group", views.group_endpoint, name="group-search"),
    path("Group/<str:key>", views.group_endpoint, name="group"),
    path("Patient/<str:key>/<str:resource_type>", views.compartment_search, name="compartment"),
    path("<str:resource_type>", views.type_endpoint, name="type"),
    path("<str:resource_type>/<str:key>", views.instance_endpoint, name="instance"),
]
