from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "joinedup.measures"

    def ready(self):
        from joinedup.measures import instruments

        # A broken definition file stops the app with a message naming the file and field.
        instruments.all_instruments()
