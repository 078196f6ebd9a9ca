"""The hash chain of the audit log: pure functions over plain values."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


def entry_hash(prev_hash: str, fields: Mapping[str, object]) -> str:
    """SHA-256 over the previous entry's hash and this entry's fields in canonical JSON."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{payload}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def verify_chain(
    entries: Iterable[tuple[int, str, str, Mapping[str, object]]],
    head: tuple[int, str] | None,
) -> ChainBreak | None:
    """Check entries (seq, prev_hash, hash, fields) in seq order against the recorded head.

    Returns the first break: an altered entry (its hash no longer matches its fields), a
    missing entry (a gap in seq or a prev_hash that does not link), or a truncated tail.
    """
    expected_seq, expected_prev = 1, GENESIS_HASH
    for seq, prev_hash, stored_hash, fields in entries:
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing")
        if prev_hash != expected_prev:
            return ChainBreak(seq, f"entry {seq} does not link to the entry before it")
        if entry_hash(prev_hash, fields) != stored_hash:
            return ChainBreak(seq, f"entry {seq} was altered after it was written")
        expected_seq, expected_prev = seq + 1, stored_hash
    head_seq, head_hash = head or (0, GENESIS_HASH)
    if (expected_seq - 1, expected_prev) != (head_seq, head_hash):
        return ChainBreak(expected_seq, f"entries after {expected_seq - 1} are missing")
    return None
