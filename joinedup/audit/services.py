"""Writing to the audit log: the one way entries are appended."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import partial

from django.db import transaction
from django.utils import timezone

from joinedup.audit.checkpoints import chain_key, write_checkpoint
from joinedup.audit.models import AuditEvent, AuditHead
from joinedup.audit.rules import GENESIS_HASH, entry_hash


@dataclass(frozen=True)
class Entry:
    """What one audit entry says; the chain fields are filled in on append."""

    action: str
    actor: object = None
    student: object = None
    category: str = ""
    allowed: bool | None = None
    basis: str = ""
    reason: str = ""
    actor_role: str = ""
    actor_service: str = ""
    actor_organisation: str = ""
    request_id: str = ""
    extra: dict = field(default_factory=dict)


_kept: ContextVar[list | None] = ContextVar("audit_kept", default=None)


@contextmanager
def kept_through_rollback():
    """Entries appended inside the block are appended again if it ends in an error. Wrap a
    transaction that may be rolled back (an import refused halfway) in it, outside the
    `atomic` block, so that what was decided on the way still leaves its trace."""
    kept: list[Entry] = []
    token = _kept.set(kept)
    try:
        yield
    except BaseException:
        _kept.reset(token)
        token = None
        append(_without_rolled_back_students(kept))
        raise
    finally:
        if token is not None:
            _kept.reset(token)


def _without_rolled_back_students(entries: list[Entry]) -> list[Entry]:
    """A student created in the rolled-back transaction no longer exists: their entries are
    kept, naming no student."""
    from joinedup.people.models import Student

    ids = {e.student.pk for e in entries if e.student is not None}
    existing = set(Student.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [
        e if e.student is None or e.student.pk in existing else replace(e, student=None)
        for e in entries
    ]


def append(entries: list[Entry]) -> range:
    """Append entries to the chain in one transaction, holding the head row's lock; returns
    the sequence numbers they were given, in order. Once the transaction commits, one signed
    checkpoint of the new head is written outside the database, however many entries.

    Rows are written from plain values (COPY on PostgreSQL, one prepared INSERT on SQLite):
    a bulk export audits tens of thousands of students at once."""
    if not entries:
        return range(0)
    if (kept := _kept.get()) is not None:
        kept.extend(entries)
    with transaction.atomic():
        head = _locked_head()
        connection = transaction.get_connection()
        at = timezone.now()
        stamp = at.isoformat()
        stored_at = AuditEvent._meta.get_field("at").get_db_prep_save(at, connection)
        key = chain_key()
        rows = []
        first = head.seq + 1
        prev, seq = head.hash, head.seq
        for entry in entries:
            seq += 1
            if entry.student is not None and entry.student.pk is None:
                raise ValueError(f"{entry.action}: the student is not saved, so cannot be named.")
            actor = entry.actor if getattr(entry.actor, "is_authenticated", False) else None
            fields = {
                "seq": seq,
                "at": stamp,
                "actor_id": actor.pk if actor else None,
                "actor_email": actor.email if actor else "",
                "actor_role": entry.actor_role,
                "actor_service": entry.actor_service,
                "actor_organisation": entry.actor_organisation,
                "student_id": entry.student.pk if entry.student is not None else None,
                "category": entry.category,
                "action": entry.action,
                "allowed": entry.allowed,
                "basis": entry.basis,
                "reason": entry.reason,
                "request_id": entry.request_id,
            }
            digest = entry_hash(key, prev, fields)
            row = [*fields.values(), prev, digest]
            row[_AT] = stored_at
            rows.append(row)
            prev = digest
        _insert(connection, rows)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
        # Robust: the entries are committed by then, and a checkpoint that cannot be written
        # is logged as an error rather than failing the request that wrote them.
        transaction.on_commit(partial(write_checkpoint, seq, prev), robust=True)
    return range(first, seq + 1)


# The stored columns, in the order `append` builds each row: the hashed fields (as listed in
# the dict it hashes), then the links.
_COLUMNS = (*AuditEvent.HASHED_FIELDS, "prev_hash", "hash")
_AT = _COLUMNS.index("at")


def _insert(connection, rows: list[list]) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(_COLUMNS))
            insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - model's own names
            cursor.executemany(insert, rows)


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"hash": GENESIS_HASH})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def request_id_of(request) -> str:
    return getattr(request, "request_id", "") if request is not None else ""
