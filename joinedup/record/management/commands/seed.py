import datetime as dt
import random

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from joinedup.consent.models import CareRelationship, ConsentGrant
from joinedup.people.demo import FAMILY, GIVEN
from joinedup.people.models import Organisation, Service, Student, User
from joinedup.record.demo import (
    accounts_beside_demo,
    build_demo_hub,
    is_loaded,
    refusal,
)
from joinedup.record.models import RecordEntry

BATCH = 5000


class Command(BaseCommand):
    help = "Add N synthetic students (with relationships, consents, entries) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, students, seed, **options):
        if students < 1:
            raise CommandError("--students must be at least 1.")
        if others := accounts_beside_demo():
            raise CommandError(refusal(others))
        if not is_loaded():
            build_demo_hub()
        rng = random.Random(seed)  # noqa: S311 - repeatable synthetic data, not secrets
        universities = list(Organisation.objects.filter(kind="university"))
        services = {u.pk: list(Service.objects.filter(organisation=u)) for u in universities}
        nhs = list(Service.objects.filter(organisation__kind="nhs_trust"))
        author = User.objects.filter(memberships__role="practitioner").first()
        start = Student.objects.count()
        now = timezone.now()
        if connection.vendor == "sqlite":
            # Synthetic data that can be made again: skip waiting for the disk on each batch.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous = OFF")
        with tqdm(total=students, unit="students", disable=options["verbosity"] == 0) as bar:
            for offset in range(0, students, BATCH):
                size = min(BATCH, students - offset)
                with transaction.atomic():
                    batch = Student.objects.bulk_create(
                        [self._student(rng, universities, start + offset + i) for i in range(size)]
                    )
                    self._relate(rng, batch, services, nhs, author, now)
                bar.update(size)
        self.stdout.write(self.style.SUCCESS(f"Added {students} students."))

    def _student(self, rng, universities, n) -> Student:
        return Student(
            university=universities[n % len(universities)],
            legal_given_name=rng.choice(GIVEN),
            legal_family_name=rng.choice(FAMILY),
            date_of_birth=dt.date(1995 + n % 10, 1 + n % 12, 1 + n % 28),
            student_number=f"S{n:08d}",
        )

    def _relate(self, rng, batch, services, nhs, author, now) -> None:
        relationships, grants, entries = [], [], []
        for student in batch:
            roll = rng.random()
            if roll > 0.3:
                continue
            own = services[student.university_id]
            service = own[0] if roll < 0.2 else rng.choice(own + nhs)
            relationships.append(CareRelationship(
                student=student, service=service, reason="episode",
                opened_at=now - dt.timedelta(days=rng.randrange(1, 1000)),
            ))  # fmt: skip
            if roll < 0.1:
                grants.append(ConsentGrant(
                    student=student, category=rng.choice(["assessment", "risk", "outcomes"]),
                    purpose="direct_care", how_given="portal", recipient_service=rng.choice(nhs),
                    recorded_by=author,
                ))  # fmt: skip
                entries.append(RecordEntry(
                    student=student, category="assessment", service=service, author=author,
                    title="Shared assessment", body="Synthetic assessment for benchmarks.",
                ))  # fmt: skip
        CareRelationship.objects.bulk_create(relationships)
        ConsentGrant.objects.bulk_create(grants)
        RecordEntry.objects.bulk_create(entries)
