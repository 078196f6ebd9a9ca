from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "joinedup.reminders"
