from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "joinedup.consent"
