"""The hash chain's pure rules: no database."""

import hashlib

from joinedup.audit.rules import GENESIS_HASH, ChainBreak, entry_hash, verify_chain


def _fields(seq: int, **extra) -> dict:
    return {"seq": seq, "action": f"record.viewed.{seq}", "allowed": True, "student_id": 7} | extra


def _chain(length: int) -> list[tuple[int, str, str, dict]]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        fields = _fields(seq)
        digest = entry_hash(prev, fields)
        entries.append((seq, prev, digest, fields))
        prev = digest
    return entries


def _head(entries) -> tuple[int, str]:
    return entries[-1][0], entries[-1][2]


def test_entry_hash_is_sha256_of_previous_hash_and_canonical_json():
    fields = {"seq": 1, "action": "a", "allowed": None}
    expected = hashlib.sha256(
        f'{GENESIS_HASH}|{{"action":"a","allowed":null,"seq":1}}'.encode()
    ).hexdigest()
    assert entry_hash(GENESIS_HASH, fields) == expected


def test_entry_hash_does_not_depend_on_field_order():
    assert entry_hash(GENESIS_HASH, {"a": 1, "b": 2}) == entry_hash(GENESIS_HASH, {"b": 2, "a": 1})


def test_entry_hash_changes_with_any_field_or_the_previous_hash():
    base = entry_hash(GENESIS_HASH, _fields(1))
    assert entry_hash(GENESIS_HASH, _fields(1, allowed=False)) != base
    assert entry_hash(GENESIS_HASH, _fields(1, reason="x")) != base
    assert entry_hash("1" * 64, _fields(1)) != base


def test_entry_hash_is_64_hex_characters():
    digest = entry_hash(GENESIS_HASH, _fields(1))
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_intact_chain_verifies():
    entries = _chain(5)
    assert verify_chain(entries, _head(entries)) is None


def test_empty_log_with_no_head_verifies():
    assert verify_chain([], None) is None


def test_empty_log_with_genesis_head_verifies():
    assert verify_chain([], (0, GENESIS_HASH)) is None


def test_empty_log_with_a_head_past_genesis_is_a_truncation():
    entries = _chain(3)
    broken = verify_chain([], _head(entries))
    assert broken == ChainBreak(1, "entries after 0 are missing")


def test_altered_entry_is_named():
    entries = _chain(5)
    seq, prev, digest, fields = entries[2]
    entries[2] = (seq, prev, digest, fields | {"allowed": False})
    broken = verify_chain(entries, _head(entries))
    assert broken == ChainBreak(3, "entry 3 was altered after it was written")


def test_altered_entry_with_recomputed_hash_breaks_the_next_link():
    entries = _chain(5)
    seq, prev, _digest, fields = entries[2]
    forged = fields | {"allowed": False}
    entries[2] = (seq, prev, entry_hash(prev, forged), forged)
    broken = verify_chain(entries, _head(entries))
    assert broken == ChainBreak(4, "entry 4 does not link to the entry before it")


def test_missing_middle_entry_is_named():
    entries = _chain(5)
    del entries[2]
    broken = verify_chain(entries, _head(entries))
    assert broken == ChainBreak(3, "entry 3 is missing")


def test_missing_first_entry_is_named():
    entries = _chain(3)
    del entries[0]
    broken = verify_chain(entries, _head(entries))
    assert broken == ChainBreak(1, "entry 1 is missing")


def test_renumbered_chain_after_deletion_does_not_link():
    entries = _chain(4)
    # Remove entry 2 and renumber the rest, keeping their hashes: the links no longer match.
    renumbered = [entries[0]] + [(s - 1, p, d, f) for s, p, d, f in entries[2:]]
    broken = verify_chain(renumbered, _head(entries))
    assert broken == ChainBreak(2, "entry 2 does not link to the entry before it")


def test_truncated_tail_is_caught_by_the_head():
    entries = _chain(5)
    head = _head(entries)
    broken = verify_chain(entries[:3], head)
    assert broken == ChainBreak(4, "entries after 3 are missing")


def test_entry_written_past_the_head_is_a_mismatch():
    # Someone appended entry 5 without moving the head: the log and the head disagree.
    entries = _chain(5)
    broken = verify_chain(entries, _head(entries[:4]))
    assert broken is not None
    assert broken.seq == 6


def test_head_with_wrong_hash_is_a_mismatch():
    entries = _chain(2)
    broken = verify_chain(entries, (2, "f" * 64))
    assert broken == ChainBreak(3, "entries after 2 are missing")


def test_missing_head_with_entries_is_a_mismatch():
    entries = _chain(2)
    assert verify_chain(entries, None) == ChainBreak(3, "entries after 2 are missing")


def test_verify_chain_accepts_a_generator():
    entries = _chain(3)
    assert verify_chain(iter(entries), _head(entries)) is None
