from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "joinedup.feedback"
    verbose_name = "Feedback and co-production"
