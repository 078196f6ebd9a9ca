from django.core.management.base import BaseCommand

from joinedup.portal import welsh


class Command(BaseCommand):
    help = "Remake the Welsh catalogue of what students read, keeping its translations."

    def handle(self, *args, **options):
        catalogue = welsh.remake()
        missing = welsh.untranslated(catalogue)
        self.stdout.write(
            f"{len(catalogue)} strings in {welsh.CATALOGUE}; {len(missing)} to translate."
        )
