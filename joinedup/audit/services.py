"""Writing to the audit log: the one way entries are appended."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.utils import timezone

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


def append(entries: list[Entry]) -> list[AuditEvent]:
    """Append entries to the chain in one transaction, holding the head row's lock."""
    if not entries:
        return []
    if (kept := _kept.get()) is not None:
        kept.extend(entries)
    with transaction.atomic():
        head = _locked_head()
        now = timezone.now()
        events = []
        prev, seq = head.hash, head.seq
        for entry in entries:
            seq += 1
            actor = entry.actor if getattr(entry.actor, "is_authenticated", False) else None
            event = AuditEvent(
                seq=seq,
                at=now,
                actor=actor,
                actor_email=actor.email if actor else "",
                actor_role=entry.actor_role,
                actor_service=entry.actor_service,
                actor_organisation=entry.actor_organisation,
                student=entry.student,
                category=entry.category,
                action=entry.action,
                allowed=entry.allowed,
                basis=entry.basis,
                reason=entry.reason,
                request_id=entry.request_id,
                prev_hash=prev,
            )
            event.hash = entry_hash(prev, event.hashed_fields())
            prev = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    return events


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"hash": GENESIS_HASH})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def request_id_of(request) -> str:
    return getattr(request, "request_id", "") if request is not None else ""
