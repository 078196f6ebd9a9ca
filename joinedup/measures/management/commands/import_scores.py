from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from joinedup.measures.importing import import_history
from joinedup.people.models import Service, User


class Command(BaseCommand):
    help = (
        "Import historical questionnaire scores from a CSV file into a service. All or "
        "nothing per file; importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--service", required=True, help="The receiving service's uuid.")
        parser.add_argument("--by", required=True, help="Email of the staff member importing.")

    def handle(self, *args, file, service, by, **options):
        service_obj = Service.objects.filter(uuid=service).select_related("organisation").first()
        if service_obj is None:
            raise CommandError(f"No service with uuid {service}.")
        actor = User.objects.filter(email__iexact=by, memberships__service=service_obj).first()
        if actor is None:
            raise CommandError(f"{by} is not a member of {service_obj}.")
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        with file.open(encoding="utf-8-sig") as lines:
            rows = sum(1 for _ in lines) - 1
        with (
            file.open(newline="", encoding="utf-8-sig") as lines,
            tqdm(total=rows, unit="rows", disable=options["verbosity"] == 0) as bar,
        ):
            report = import_history(actor=actor, service=service_obj, lines=lines,
                                    progress=bar.update)  # fmt: skip
        if not report.ok:
            for line, problem in report.errors:
                self.stderr.write(f"line {line}: {problem}")
            raise CommandError(
                f"Nothing was imported: {len(report.errors)} of {report.rows} rows have problems."
            )
        self.stdout.write(self.style.SUCCESS(
            f"Imported {report.imported} questionnaires; {report.already_present} were "
            "already present."
        ))  # fmt: skip
