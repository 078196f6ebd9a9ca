from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from joinedup.audit.selectors import verify_audit_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's keyed hash chain against its head and the signed checkpoints "
        "kept outside the database, and name the first broken entry or checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            action="append",
            default=[],
            metavar="FILE",
            help="another file of checkpoints to check, e.g. gathered from the log stream "
            "or another server (may be repeated)",
        )

    def handle(self, *args, **options):
        for path in options["checkpoints"]:
            if not Path(path).is_file():
                raise CommandError(f"No checkpoint file at {path}.")
        result = verify_audit_chain(checkpoint_files=options["checkpoints"])
        if result.broken is not None:
            raise CommandError(f"Audit chain broken: {result.broken.problem}.")
        entries = _count(result.checked, "entry", "entries")
        if result.checkpoints:
            summary = (
                f"Audit chain intact: {entries}, {_count(result.checkpoints, 'checkpoint')} "
                f"(the latest at entry {result.anchored})."
            )
        else:
            summary = f"Audit chain intact: {entries}."
        self.stdout.write(self.style.SUCCESS(summary))
        unanchored = result.checked - result.anchored
        if result.checked and not result.checkpoints:
            self.stdout.write(
                self.style.WARNING(
                    "But no checkpoint records this log, so entries deleted from its end "
                    "would not show: check that AUDIT_CHECKPOINT_FILE is written, or pass "
                    "--checkpoints."
                )
            )
        elif unanchored:
            self.stdout.write(
                f"{_count(unanchored, 'entry', 'entries')} after the latest checkpoint "
                "(written since, or their checkpoint is elsewhere)."
            )


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"
