from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "joinedup.fhir"
    verbose_name = "FHIR R4"
