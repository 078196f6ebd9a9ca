"""On PostgreSQL the audit log is partitioned by the month of `at`: each month's entries
are a table of their own (old months can be moved to cheaper storage or archived whole),
while the log reads, appends and verifies as one table, its chain running across months.

A month's partition is made well before it starts (`add_audit_partitions`, daily); an
entry whose month has none yet lands in the default partition rather than being refused.
TRUNCATE is refused on every partition as on the log itself (PostgreSQL does not pass a
table's TRUNCATE triggers on to its partitions). SQLite keeps the log in one table."""

from datetime import UTC, date, datetime

from django.utils import timezone

TABLE = "audit_auditevent"
DEFAULT = f"{TABLE}_default"
MONTHS_AHEAD = 12
REFUSE_TRUNCATE = (
    "CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month:%Y}m{month:%m}"


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_from(first: date, last: date) -> list[date]:
    month, months = first.replace(day=1), []
    while month <= last:
        months.append(month)
        month = _next(month)
    return months


def partitions(cursor) -> list[str]:
    """The log's partitions, by name (none when it is not partitioned)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
        [TABLE],
    )
    return [name for (name,) in cursor.fetchall()]


def is_partitioned(cursor) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
    row = cursor.fetchone()
    return row is not None and row[0] == "p"


def add_partitions(cursor, since: date | None = None) -> list[str]:
    """Make the monthly partitions from `since` (default: this month) to MONTHS_AHEAD
    months ahead, and the default partition, that do not exist yet; their names."""
    today = timezone.now().astimezone(UTC).date()
    last = today.replace(day=1)
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    existing = set(partitions(cursor))
    made = []
    for month in months_from(since or today, last):
        name = partition_name(month)
        if name in existing:
            continue
        start, end = (datetime(m.year, m.month, 1, tzinfo=UTC) for m in (month, _next(month)))
        cursor.execute(
            f"CREATE TABLE {name} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        cursor.execute(REFUSE_TRUNCATE.format(table=name))
        made.append(name)
    if DEFAULT not in existing:
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        cursor.execute(REFUSE_TRUNCATE.format(table=DEFAULT))
        made.append(DEFAULT)
    return made


def rebuild(cursor, *, partitioned: bool) -> None:
    """Move the log, entries and all, into a new table partitioned by month (or back into
    one plain table), keeping every index, key, trigger and the id sequence's place."""
    cursor.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
        "AND NOT indisprimary AND NOT indisunique",
        [TABLE],
    )
    indexes = [definition for (definition,) in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute("SELECT min(at) FROM audit_auditevent")
    (first,) = cursor.fetchone()
    old = f"{TABLE}_old"
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY){' PARTITION BY RANGE (at)' if partitioned else ''}"
    )
    if partitioned:
        add_partitions(cursor, since=first.astimezone(UTC).date() if first else None)
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608 - fixed names
    cursor.execute(f"DROP TABLE {old}")
    key = ", at" if partitioned else ""
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id{key})")
    cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_seq_key UNIQUE (seq{key})")
    for definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    cursor.execute(
        f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )
    cursor.execute(REFUSE_TRUNCATE.format(table=TABLE))
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
    cursor.execute(
        f"SELECT setval('{TABLE}_id_seq', COALESCE(max(id), 0) + 1, false) FROM {TABLE}"  # noqa: S608
    )
