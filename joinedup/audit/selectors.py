"""Reading the audit log."""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q

from joinedup.audit.checkpoints import chain_key, checkpoint_file, read_checkpoint_lines
from joinedup.audit.models import AuditEvent, AuditHead
from joinedup.audit.rules import (
    Access,
    ChainBreak,
    Checkpoint,
    Visit,
    checkpoint_break,
    read_checkpoint,
    verify_chain,
    visits,
)


@dataclass(frozen=True)
class Verification:
    checked: int
    broken: ChainBreak | None
    checkpoints: int = 0  # how many checkpoints were checked
    anchored: int = 0  # the latest entry a checkpoint records


def verify_audit_chain(
    batch_size: int = 5000, checkpoint_files: Iterable[str | Path] | None = None
) -> Verification:
    """Walk the whole log in seq order, in batches, and check it against the head row and
    the checkpoints kept outside the database: `AUDIT_CHECKPOINT_FILE`, if it exists, and
    each of `checkpoint_files` (copies gathered from the log stream or other servers)."""
    checked = 0
    key = chain_key()

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
    broken = verify_chain(entries(), head, key)
    if broken is not None:
        return Verification(checked=checked, broken=broken)
    paths = [Path(path) for path in checkpoint_files or ()]
    local = checkpoint_file()
    if local is not None and local.exists():
        paths.insert(0, local)
    count = anchored = 0
    for path in paths:
        for checkpoint, problem in _checked_checkpoints(path, key, checked, batch_size):
            if problem is not None:
                return Verification(checked, problem, count, anchored)
            count, anchored = count + 1, max(anchored, checkpoint.seq)
    return Verification(checked, None, count, anchored)


def _checked_checkpoints(path: Path, key: bytes, last_seq: int, batch_size: int):
    """Each checkpoint in the file with the problem it shows (None if it holds), in order;
    a line that is not a signed checkpoint ends the walk."""
    batch: list[tuple[str, Checkpoint]] = []

    def check(batch):
        stored = dict(
            AuditEvent.objects.filter(seq__in={c.seq for _, c in batch}).values_list("seq", "hash")
        )
        for where, checkpoint in batch:
            yield (
                checkpoint,
                checkpoint_break(checkpoint, stored.get(checkpoint.seq), last_seq, where),
            )

    for number, line in read_checkpoint_lines(path):
        where = f"line {number} of {path}"
        checkpoint = read_checkpoint(line, key)
        if checkpoint is None:
            yield from check(batch)
            yield None, ChainBreak(0, f"{where} is not a checkpoint signed with the audit key")
            return
        batch.append((where, checkpoint))
        if len(batch) == batch_size:
            yield from check(batch)
            batch = []
    yield from check(batch)


OVERRIDE_OPENED = "consent.break_glass.opened"


def accesses_to(student):
    """Every read of a student's record by someone else, newest first (the student's view),
    including reads of records since merged into theirs."""
    from joinedup.people.models import Student

    reads = Q(allowed=True) & ~Q(basis="self")
    records = Student.records.filter(Q(pk=student.pk) | Q(merged_into=student.pk))
    return AuditEvent.objects.filter(
        reads | Q(action=OVERRIDE_OPENED), student__in=records.values("pk")
    ).order_by("-seq")


def visits_to(student) -> list[Visit]:
    """`accesses_to` grouped into visits: one row per service per visit (one query)."""
    fields = ("at", "actor_service", "actor_organisation", "actor_role", "category", "basis",
              "reason", "action")  # fmt: skip
    rows = accesses_to(student).order_by("seq").values_list(*fields)
    return visits(Access(*row[:7], override=row[7] == OVERRIDE_OPENED) for row in rows)
