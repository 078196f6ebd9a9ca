from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "joinedup.operations"
    verbose_name = "Operations"
