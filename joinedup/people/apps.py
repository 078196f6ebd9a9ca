from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "joinedup.people"
    verbose_name = "People and organisations"

    def ready(self) -> None:
        import joinedup.lib.sql  # noqa: F401 - registers the `__any_of` lookup
