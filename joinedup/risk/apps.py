from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "joinedup.risk"
