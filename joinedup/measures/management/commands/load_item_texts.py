import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from joinedup.measures import instruments
from joinedup.measures.models import LicensedItemText


class Command(BaseCommand):
    help = (
        "Load the item texts of a measure whose texts JoinedUp may not ship (WEMWBS, SWEMWBS), "
        "from a CSV file with the columns item and text, for a service that holds a licence."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="The measure, e.g. WEMWBS.")
        parser.add_argument("file", type=Path)

    def handle(self, *args, code, file, **options):
        try:
            instrument = instruments.get(code.upper())
        except ValueError as error:
            raise CommandError(str(error)) from None
        if instrument.texts_shipped:
            raise CommandError(f"{instrument.code} texts are shipped with JoinedUp already.")
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        texts = self._read(instrument, file)
        with transaction.atomic():
            for number, text in texts.items():
                LicensedItemText.objects.update_or_create(
                    code=instrument.code, item=number, defaults={"text": text}
                )
        self.stdout.write(self.style.SUCCESS(f"Loaded {len(texts)} {instrument.code} item texts."))

    def _read(self, instrument, file: Path) -> dict[int, str]:
        with file.open(newline="", encoding="utf-8-sig") as lines:
            rows = list(csv.DictReader(lines))
        texts = {}
        for line, row in enumerate(rows, start=2):
            item, text = (row.get("item") or "").strip(), (row.get("text") or "").strip()
            if not item.isdigit() or not 1 <= int(item) <= instrument.item_count:
                raise CommandError(f"line {line}: item must be 1 to {instrument.item_count}.")
            if not text:
                raise CommandError(f"line {line}: the text is empty.")
            texts[int(item)] = text
        missing = sorted(set(range(1, instrument.item_count + 1)) - set(texts))
        if missing:
            raise CommandError(f"The file has no text for items {', '.join(map(str, missing))}.")
        return texts
