"""Reading the audit log."""

from dataclasses import dataclass

from django.db.models import Q

from joinedup.audit.models import AuditEvent, AuditHead
from joinedup.audit.rules import ChainBreak, verify_chain


@dataclass(frozen=True)
class Verification:
    checked: int
    broken: ChainBreak | None


def verify_audit_chain(batch_size: int = 5000) -> Verification:
    """Walk the whole log in seq order, in batches, and check it against the head row."""
    checked = 0

    def entries():
        nonlocal checked
        last = 0
        while True:
            batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
            if not batch:
                return
            for event in batch:
                checked += 1
                yield event.seq, event.prev_hash, event.hash, event.hashed_fields()
            last = batch[-1].seq

    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    broken = verify_chain(entries(), head)
    return Verification(checked=checked, broken=broken)


def accesses_to(student):
    """Every read of a student's record by someone else, newest first (the student's view)."""
    reads = Q(allowed=True) & ~Q(basis="self")
    return AuditEvent.objects.filter(
        reads | Q(action="consent.break_glass.opened"), student=student
    ).order_by("-seq")
