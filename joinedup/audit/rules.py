"""The keyed hash chain of the audit log and its signed checkpoints: pure functions over
plain values.

Each entry's hash is an HMAC (SHA-256) under a key kept outside the database, over the
previous entry's hash and the entry's own fields, so whoever holds only the database can
neither alter an entry nor write a chain of their own that verifies. What the chain cannot
show by itself is an entry missing from its end; checkpoints, signed under the same key and
kept outside the database, record the head as it was and catch that.
"""

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
