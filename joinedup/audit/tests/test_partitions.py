"""On PostgreSQL the audit log is partitioned by month: entries land in their month's
partition, the chain verifies across months, every partition refuses changes, and the
months ahead are made by a daily job."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from joinedup.audit import partitions
from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.services import Entry, append
from joinedup.audit.tests.tampering import triggers_off

postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps the log in one table"
)


def next_month() -> datetime:
    now = timezone.now().astimezone(UTC)
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 2, 12, tzinfo=UTC)


def where(seq: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_auditevent WHERE seq = %s", [seq]
        )
        return cursor.fetchone()[0]


@postgresql
@pytest.mark.django_db
def test_entries_land_in_their_months_partition_and_the_chain_verifies_across_months():
    [now] = append([Entry(action="test.this_month")])
    with time_machine.travel(next_month(), tick=False):
        [later] = append([Entry(action="test.next_month")])
    assert where(now) == partitions.partition_name(timezone.now().astimezone(UTC).date())
    assert where(later) == partitions.partition_name(next_month().date())
    result = verify_audit_chain()
    assert (result.broken, result.checked) == (None, 2)

    # Altered in the older month's partition, the chain is broken where it was altered.
    with triggers_off(connection), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {where(now)} SET reason = 'altered' WHERE seq = %s", [now])  # noqa: S608 - a partition's name
    assert verify_audit_chain().broken.problem == f"entry {now} was altered after it was written"


@postgresql
@pytest.mark.django_db
def test_every_partition_refuses_changes():
    [seq] = append([Entry(action="test.event")])
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the entry's keys checked now
        held = partitions.partitions(cursor)
    assert partitions.DEFAULT in held
    # A row trigger stops changes to the rows themselves, through the log or its partition;
    # TRUNCATE is refused on every partition, holding rows or not.
    attempts = [
        verb.format(table)
        for verb in ("UPDATE {} SET reason = 'altered'", "DELETE FROM {}")
        for table in (partitions.TABLE, where(seq))
    ] + [f"TRUNCATE {table}" for table in (partitions.TABLE, *held)]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(attempt)
    assert AuditEvent.objects.filter(action="test.event").exists()


@postgresql
@pytest.mark.django_db
def test_the_daily_job_makes_the_months_ahead_once():
    last = timezone.now().astimezone(UTC).date().replace(day=1)
    for _ in range(partitions.MONTHS_AHEAD):
        last = (last + timedelta(days=32)).replace(day=1)
    furthest = partitions.partition_name(last)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {furthest}")
    said = StringIO()
    call_command("add_audit_partitions", stdout=said)
    assert said.getvalue().startswith(f"Made {furthest}.")
    again = StringIO()
    call_command("add_audit_partitions", stdout=again)
    held = partitions.MONTHS_AHEAD + 2  # this month, the months ahead and the default
    assert again.getvalue() == (
        f"Every month ahead has its partition. The audit log has {held} partitions.\n"
    )


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL partitions the log")
def test_on_sqlite_the_job_has_nothing_to_do():
    said = StringIO()
    call_command("add_audit_partitions", stdout=said)
    assert "one table: nothing to do" in said.getvalue()
