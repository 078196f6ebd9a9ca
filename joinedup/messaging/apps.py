from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "joinedup.messaging"
    verbose_name = "Messages between students and services"
