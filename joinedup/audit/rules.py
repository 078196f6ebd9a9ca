"""The keyed hash chain of the audit log and its signed checkpoints, and how a student's
view groups the reads of their record into visits: pure functions over plain values.

Each entry's hash is an HMAC (SHA-256) under a key kept outside the database, over the
previous entry's hash and the entry's own fields, so whoever holds only the database can
neither alter an entry nor write a chain of their own that verifies. What the chain cannot
show by itself is an entry missing from its end; checkpoints, signed under the same key and
kept outside the database, record the head as it was and catch that.
"""

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GENESIS_HASH = "0" * 64


def entry_hash(key: bytes, prev_hash: str, fields: Mapping[str, object]) -> str:
    """HMAC-SHA256 under `key` of the previous entry's hash and this entry's fields in
    canonical JSON."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.digest(key, f"{prev_hash}|{payload}".encode(), "sha256").hex()


def _same(digest: str, other: str) -> bool:
    """Compare in constant time; as bytes, since a tampered value need not be ASCII."""
    return hmac.compare_digest(digest.encode(), other.encode())


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def verify_chain(
    entries: Iterable[tuple[int, str, str, Mapping[str, object]]],
    head: tuple[int, str] | None,
    key: bytes,
) -> ChainBreak | None:
    """Check entries (seq, prev_hash, hash, fields) in seq order against the recorded head.

    Returns the first break: an altered entry (its hash is not its fields' under the key), a
    missing entry (a gap in seq or a prev_hash that does not link), or a truncated tail.
    """
    expected_seq, expected_prev = 1, GENESIS_HASH
    for seq, prev_hash, stored_hash, fields in entries:
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing")
        if prev_hash != expected_prev:
            return ChainBreak(seq, f"entry {seq} does not link to the entry before it")
        if not _same(entry_hash(key, prev_hash, fields), stored_hash):
            return ChainBreak(seq, f"entry {seq} was altered after it was written")
        expected_seq, expected_prev = seq + 1, stored_hash
    head_seq, head_hash = head or (0, GENESIS_HASH)
    if (expected_seq - 1, expected_prev) != (head_seq, head_hash):
        return ChainBreak(expected_seq, f"entries after {expected_seq - 1} are missing")
    return None


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head as it was at `at`: entry `seq` had hash `hash`."""

    seq: int
    hash: str
    at: str


def _signature(key: bytes, checkpoint: Checkpoint) -> str:
    # The prefix keeps a signature from ever being mistaken for an entry's hash.
    message = f"checkpoint|{checkpoint.seq}|{checkpoint.hash}|{checkpoint.at}"
    return hmac.digest(key, message.encode(), "sha256").hex()


def checkpoint_line(key: bytes, checkpoint: Checkpoint) -> str:
    """One line of JSON recording the checkpoint, signed (HMAC-SHA256) under `key`."""
    return json.dumps(
        {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "at": checkpoint.at,
            "signature": _signature(key, checkpoint),
        },
        separators=(",", ":"),
    )


def read_checkpoint(line: str, key: bytes) -> Checkpoint | None:
    """The checkpoint a line records, or None when it is not a checkpoint signed under `key`
    (forged, edited, or not a checkpoint at all)."""
    try:
        data = json.loads(line)
        seq, digest, at, signature = data["seq"], data["hash"], data["at"], data["signature"]
    except (ValueError, KeyError, TypeError):
        return None
    if type(seq) is not int or seq < 1:
        return None
    if not all(isinstance(value, str) for value in (digest, at, signature)):
        return None
    checkpoint = Checkpoint(seq, digest, at)
    if not _same(signature, _signature(key, checkpoint)):
        return None
    return checkpoint


def checkpoint_break(
    checkpoint: Checkpoint, stored_hash: str | None, last_seq: int, where: str
) -> ChainBreak | None:
    """Check a signed checkpoint (found at `where`) against an intact chain whose last entry
    is `last_seq` and whose entry at the checkpoint's seq has `stored_hash`."""
    if checkpoint.seq > last_seq:
        if last_seq == 0:
            return ChainBreak(1, f"the log is empty, but {where} records entry {checkpoint.seq}")
        return ChainBreak(
            last_seq + 1,
            f"entries after {last_seq} are missing: {where} records entry {checkpoint.seq}",
        )
    if stored_hash is None or not _same(stored_hash, checkpoint.hash):
        return ChainBreak(
            checkpoint.seq,
            f"entry {checkpoint.seq} is not the entry {where} records: it was replaced",
        )
    return None


# Reads by one service further apart than this are two visits.
VISIT_GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Access:
    """One read of a student's record (or an emergency override opened), as the audit log
    has it."""

    at: datetime
    service: str
    organisation: str
    role: str
    category: str
    basis: str
    reason: str = ""
    override: bool = False  # the emergency override's opening, whose reason is the why


@dataclass
class Visit:
    """A service's reads of the record close together in time: one row of "who looked"."""

    start: datetime
    end: datetime
    service: str
    organisation: str
    role: str
    categories: list[str] = field(default_factory=list)  # in the order first read
    bases: list[str] = field(default_factory=list)
    override_reason: str = ""
    reasons: list[str] = field(default_factory=list)


def visits(accesses: Iterable[Access], gap: timedelta = VISIT_GAP) -> list[Visit]:
    """Group reads into visits, newest first: the reads by one service, organisation and
    role, each within `gap` of the one before. An emergency override's reason goes with the
    visit it opened, and with every later visit that read under it."""
    open_: dict[tuple[str, str, str], Visit] = {}
    overrides: dict[tuple[str, str, str], str] = {}
    found: list[Visit] = []
    for access in sorted(accesses, key=lambda a: a.at):
        key = (access.service, access.organisation, access.role)
        visit = open_.get(key)
        if visit is None or access.at - visit.end > gap:
            visit = Visit(access.at, access.at, *key)
            open_[key] = visit
            found.append(visit)
        visit.end = access.at
        if access.override:
            overrides[key] = visit.override_reason = access.reason
            continue
        if access.basis == "break_glass" and not visit.override_reason:
            visit.override_reason = overrides.get(key, "")
        if access.category and access.category not in visit.categories:
            visit.categories.append(access.category)
        if access.basis and access.basis not in visit.bases:
            visit.bases.append(access.basis)
        if access.reason and access.reason not in visit.reasons:
            visit.reasons.append(access.reason)
    return sorted(found, key=lambda v: v.start, reverse=True)
