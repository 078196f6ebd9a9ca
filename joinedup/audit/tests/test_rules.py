"""The keyed hash chain and its signed checkpoints: pure rules, no database."""

import hashlib
import hmac
import json

from joinedup.audit.rules import (
    GENESIS_HASH,
    ChainBreak,
    Checkpoint,
    checkpoint_break,
    checkpoint_line,
    entry_hash,
    read_checkpoint,
    verify_chain,
)

KEY = b"a key kept outside the database"
OTHER_KEY = b"someone else's key"


def _fields(seq: int, **extra) -> dict:
    return {"seq": seq, "action": f"record.viewed.{seq}", "allowed": True, "student_id": 7} | extra


def _chain(length: int, key: bytes = KEY) -> list[tuple[int, str, str, dict]]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        fields = _fields(seq)
        digest = entry_hash(key, prev, fields)
        entries.append((seq, prev, digest, fields))
        prev = digest
    return entries


def _unkeyed_chain(length: int) -> list[tuple[int, str, str, dict]]:
    """The chain as anyone could compute it without the key (plain SHA-256)."""
    entries, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        fields = _fields(seq)
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{prev}|{payload}".encode()).hexdigest()
        entries.append((seq, prev, digest, fields))
        prev = digest
    return entries


def _head(entries) -> tuple[int, str]:
    return entries[-1][0], entries[-1][2]


# Entry hashes


def test_entry_hash_is_hmac_sha256_of_previous_hash_and_canonical_json():
    fields = {"seq": 1, "action": "a", "allowed": None}
    message = f'{GENESIS_HASH}|{{"action":"a","allowed":null,"seq":1}}'.encode()
    expected = hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert entry_hash(KEY, GENESIS_HASH, fields) == expected


def test_entry_hash_depends_on_the_key():
    assert entry_hash(KEY, GENESIS_HASH, _fields(1)) != entry_hash(
        OTHER_KEY, GENESIS_HASH, _fields(1)
    )


def test_entry_hash_does_not_depend_on_field_order():
    assert entry_hash(KEY, GENESIS_HASH, {"a": 1, "b": 2}) == entry_hash(
        KEY, GENESIS_HASH, {"b": 2, "a": 1}
    )


def test_entry_hash_changes_with_any_field_or_the_previous_hash():
    base = entry_hash(KEY, GENESIS_HASH, _fields(1))
    assert entry_hash(KEY, GENESIS_HASH, _fields(1, allowed=False)) != base
    assert entry_hash(KEY, GENESIS_HASH, _fields(1, reason="x")) != base
    assert entry_hash(KEY, "1" * 64, _fields(1)) != base


def test_entry_hash_is_64_hex_characters():
    digest = entry_hash(KEY, GENESIS_HASH, _fields(1))
    assert len(digest) == 64
    assert int(digest, 16) >= 0


# The chain


def test_intact_chain_verifies():
    entries = _chain(5)
    assert verify_chain(entries, _head(entries), KEY) is None


def test_empty_log_with_no_head_verifies():
    assert verify_chain([], None, KEY) is None


def test_empty_log_with_genesis_head_verifies():
    assert verify_chain([], (0, GENESIS_HASH), KEY) is None


def test_empty_log_with_a_head_past_genesis_is_a_truncation():
    entries = _chain(3)
    broken = verify_chain([], _head(entries), KEY)
    assert broken == ChainBreak(1, "entries after 0 are missing")


def test_altered_entry_is_named():
    entries = _chain(5)
    seq, prev, digest, fields = entries[2]
    entries[2] = (seq, prev, digest, fields | {"allowed": False})
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(3, "entry 3 was altered after it was written")


def test_altered_entry_with_recomputed_hash_breaks_the_next_link():
    entries = _chain(5)
    seq, prev, _digest, fields = entries[2]
    forged = fields | {"allowed": False}
    entries[2] = (seq, prev, entry_hash(KEY, prev, forged), forged)
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(4, "entry 4 does not link to the entry before it")


def test_a_chain_recomputed_without_the_key_is_named_at_its_first_entry():
    entries = _unkeyed_chain(5)
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(1, "entry 1 was altered after it was written")


def test_a_chain_recomputed_under_another_key_is_named_at_its_first_entry():
    entries = _chain(5, key=OTHER_KEY)
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(1, "entry 1 was altered after it was written")


def test_an_edit_with_the_rest_of_the_chain_recomputed_without_the_key_is_named():
    entries = _chain(5)
    prev = entries[1][2]
    for index in range(2, 5):
        seq, _prev, _digest, fields = entries[index]
        fields = fields | {"allowed": False} if seq == 3 else fields
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{prev}|{payload}".encode()).hexdigest()
        entries[index] = (seq, prev, digest, fields)
        prev = digest
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(3, "entry 3 was altered after it was written")


def test_missing_middle_entry_is_named():
    entries = _chain(5)
    del entries[2]
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(3, "entry 3 is missing")


def test_missing_first_entry_is_named():
    entries = _chain(3)
    del entries[0]
    broken = verify_chain(entries, _head(entries), KEY)
    assert broken == ChainBreak(1, "entry 1 is missing")


def test_renumbered_chain_after_deletion_does_not_link():
    entries = _chain(4)
    # Remove entry 2 and renumber the rest, keeping their hashes: the links no longer match.
    renumbered = [entries[0]] + [(s - 1, p, d, f) for s, p, d, f in entries[2:]]
    broken = verify_chain(renumbered, _head(entries), KEY)
    assert broken == ChainBreak(2, "entry 2 does not link to the entry before it")


def test_truncated_tail_is_caught_by_the_head():
    entries = _chain(5)
    head = _head(entries)
    broken = verify_chain(entries[:3], head, KEY)
    assert broken == ChainBreak(4, "entries after 3 are missing")


def test_entry_written_past_the_head_is_a_mismatch():
    # Someone appended entry 5 without moving the head: the log and the head disagree.
    entries = _chain(5)
    broken = verify_chain(entries, _head(entries[:4]), KEY)
    assert broken is not None
    assert broken.seq == 6


def test_head_with_wrong_hash_is_a_mismatch():
    entries = _chain(2)
    broken = verify_chain(entries, (2, "f" * 64), KEY)
    assert broken == ChainBreak(3, "entries after 2 are missing")


def test_missing_head_with_entries_is_a_mismatch():
    entries = _chain(2)
    assert verify_chain(entries, None, KEY) == ChainBreak(3, "entries after 2 are missing")


def test_verify_chain_accepts_a_generator():
    entries = _chain(3)
    assert verify_chain(iter(entries), _head(entries), KEY) is None


# Checkpoints


def _line(seq: int = 5, digest: str = "a" * 64, at: str = "2026-11-23T10:00:00+00:00") -> str:
    return checkpoint_line(KEY, Checkpoint(seq, digest, at))


def test_a_checkpoint_line_reads_back_under_its_key():
    line = _line()
    assert "\n" not in line
    assert json.loads(line)["seq"] == 5
    assert read_checkpoint(line, KEY) == Checkpoint(5, "a" * 64, "2026-11-23T10:00:00+00:00")


def test_a_checkpoint_signed_under_another_key_is_refused():
    line = checkpoint_line(OTHER_KEY, Checkpoint(5, "a" * 64, "2026-11-23T10:00:00+00:00"))
    assert read_checkpoint(line, KEY) is None


def test_an_edited_checkpoint_is_refused():
    for field, value in [("seq", 9), ("hash", "b" * 64), ("at", "2027-01-01T00:00:00+00:00")]:
        edited = json.dumps(json.loads(_line()) | {field: value})
        assert read_checkpoint(edited, KEY) is None, field


def test_a_line_that_is_not_a_checkpoint_is_refused():
    for line in [
        "",
        "not json",
        "[]",
        '{"seq": 5}',
        json.dumps(json.loads(_line()) | {"seq": "5"}),
    ]:
        assert read_checkpoint(line, KEY) is None, line


def test_a_checkpoint_at_the_entry_it_names_holds():
    assert checkpoint_break(Checkpoint(3, "c" * 64, ""), "c" * 64, 5, "line 1") is None


def test_a_checkpoint_past_the_last_entry_names_the_missing_tail():
    broken = checkpoint_break(Checkpoint(5, "c" * 64, ""), None, 3, "line 4 of checkpoints")
    assert broken == ChainBreak(
        4, "entries after 3 are missing: line 4 of checkpoints records entry 5"
    )


def test_a_checkpoint_over_an_empty_log_says_the_log_was_emptied():
    broken = checkpoint_break(Checkpoint(5, "c" * 64, ""), None, 0, "line 4 of checkpoints")
    assert broken == ChainBreak(1, "the log is empty, but line 4 of checkpoints records entry 5")


def test_a_checkpoint_naming_another_hash_says_the_entry_was_replaced():
    broken = checkpoint_break(Checkpoint(3, "c" * 64, ""), "d" * 64, 5, "line 2 of checkpoints")
    assert broken == ChainBreak(
        3, "entry 3 is not the entry line 2 of checkpoints records: it was replaced"
    )
