"""Signed checkpoints of the chain's head, kept outside the database: whoever holds only the
database can no longer rewrite the log so that it verifies."""

import hashlib
import json
import logging
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from joinedup.audit.checkpoints import chain_key
from joinedup.audit.models import AuditEvent, AuditHead
from joinedup.audit.rules import Checkpoint, checkpoint_line, entry_hash
from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.services import Entry, append
from joinedup.audit.tests.tampering import triggers_off


@pytest.fixture
def committed(db, django_capture_on_commit_callbacks, checkpoint_file):
    """Append as a request would: the entries are committed, so their checkpoint is written."""

    def append_committed(count: int, per_call: int = 1) -> None:
        for start in range(0, count, per_call):
            with django_capture_on_commit_callbacks(execute=True):
                append([Entry(action=f"test.event.{start + n}", allowed=True, reason="seen")
                        for n in range(min(per_call, count - start))])  # fmt: skip

    return append_committed


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _as_owner(sql: str, params=()) -> None:
    """Run SQL as whoever holds the database could: with the append-only triggers off."""
    with triggers_off(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _set_head(seq: int, digest: str) -> None:
    _as_owner("UPDATE audit_audithead SET seq = %s, hash = %s", [seq, digest])


def _broken() -> str:
    result = verify_audit_chain()
    assert result.broken is not None
    return result.broken.problem


def _assert_command_names_break(problem: str) -> None:
    with pytest.raises(CommandError, match=re.escape(f"Audit chain broken: {problem}.")):
        call_command("verify_audit")


# Writing checkpoints


def test_each_committed_append_writes_one_signed_checkpoint_of_the_head(committed, checkpoint_file):
    committed(3)
    lines = _lines(checkpoint_file)
    head = AuditHead.objects.get()
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert (lines[-1]["seq"], lines[-1]["hash"]) == (head.seq, head.hash)
    assert set(lines[-1]) == {"seq", "hash", "at", "signature"}


def test_an_append_of_thousands_of_entries_writes_one_line(committed, checkpoint_file):
    committed(2000, per_call=2000)
    (line,) = _lines(checkpoint_file)
    assert line["seq"] == 2000


def test_an_append_that_is_rolled_back_writes_no_checkpoint(db, checkpoint_file):
    # Inside the test's transaction nothing commits, so nothing is written.
    append([Entry(action="test.uncommitted")])
    assert not checkpoint_file.exists()


def test_checkpoints_also_go_to_the_log_stream(committed, caplog):
    with caplog.at_level(logging.INFO, logger="joinedup.audit.checkpoint"):
        committed(1)
    (record,) = [r for r in caplog.records if r.name == "joinedup.audit.checkpoint"]
    assert json.loads(record.getMessage())["seq"] == 1


def test_with_no_checkpoint_file_checkpoints_go_to_the_log_stream_only(
    db, django_capture_on_commit_callbacks, settings, tmp_path, caplog
):
    settings.AUDIT_CHECKPOINT_FILE = ""
    with (
        caplog.at_level(logging.INFO, logger="joinedup.audit.checkpoint"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        append([Entry(action="test.event")])
    assert [r.name for r in caplog.records].count("joinedup.audit.checkpoint") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_intact_log_verifies_against_its_checkpoints(committed, capsys):
    committed(4)
    result = verify_audit_chain()
    assert result.broken is None
    assert (result.checked, result.checkpoints, result.anchored) == (4, 4, 4)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Audit chain intact: 4 entries, 4 checkpoints (the latest at entry 4)." in out


def test_entries_after_the_last_checkpoint_are_reported(committed, capsys):
    committed(2)
    append([Entry(action="test.not.yet.checkpointed")])  # committed, its checkpoint not written
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "1 entry after the latest checkpoint" in out


def test_a_log_with_no_checkpoint_says_its_tail_is_unchecked(db, checkpoint_file, capsys):
    append([Entry(action="test.event")])
    call_command("verify_audit")
    assert "no checkpoint records this log" in capsys.readouterr().out


# Rewriting the log as whoever holds the database


def test_deleting_the_tail_and_fixing_the_head_is_caught(committed, checkpoint_file):
    committed(5)
    third = AuditEvent.objects.get(seq=3)
    _as_owner("DELETE FROM audit_auditevent WHERE seq > 3")
    _set_head(3, third.hash)
    problem = f"entries after 3 are missing: line 4 of {checkpoint_file} records entry 4"
    assert _broken() == problem
    _assert_command_names_break(problem)


def test_emptying_the_log_is_caught(committed, checkpoint_file):
    committed(3)
    _as_owner("DELETE FROM audit_auditevent")
    _as_owner("DELETE FROM audit_audithead")
    problem = f"the log is empty, but line 1 of {checkpoint_file} records entry 1"
    assert _broken() == problem
    _assert_command_names_break(problem)


def test_editing_a_row_and_recomputing_the_chain_without_the_key_is_caught(committed):
    committed(4)
    prev = AuditEvent.objects.get(seq=1).hash
    for event in AuditEvent.objects.filter(seq__gt=1).order_by("seq"):
        fields = event.hashed_fields() | ({"allowed": False} if event.seq == 2 else {})
        payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(f"{prev}|{payload}".encode()).hexdigest()
        _as_owner(
            "UPDATE audit_auditevent SET allowed = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [fields["allowed"], prev, digest, event.seq],
        )
        prev = digest
    _set_head(4, prev)
    assert _broken() == "entry 2 was altered after it was written"
    _assert_command_names_break("entry 2 was altered after it was written")


def test_rewriting_the_whole_chain_under_another_key_is_caught(committed):
    committed(3)
    prev = "0" * 64
    for event in AuditEvent.objects.order_by("seq"):
        digest = entry_hash(b"a guessed key", prev, event.hashed_fields())
        _as_owner(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, digest, event.seq],
        )
        prev = digest
    _set_head(3, prev)
    assert _broken() == "entry 1 was altered after it was written"


def test_a_forged_checkpoint_line_is_caught(committed, checkpoint_file):
    committed(2)
    forged = {"seq": 2, "hash": "f" * 64, "at": "2026-11-23T10:00:00+00:00", "signature": "0" * 64}
    with checkpoint_file.open("a") as file:
        file.write(json.dumps(forged) + "\n")
    problem = f"line 3 of {checkpoint_file} is not a checkpoint signed with the audit key"
    assert _broken() == problem
    _assert_command_names_break(problem)


def test_an_edited_checkpoint_line_is_caught(committed, checkpoint_file):
    committed(3)
    lines = checkpoint_file.read_text().splitlines()
    lines[2] = lines[2].replace('"seq":3', '"seq":2')
    checkpoint_file.write_text("\n".join(lines) + "\n")
    assert _broken() == f"line 3 of {checkpoint_file} is not a checkpoint signed with the audit key"


def test_an_entry_replaced_since_its_checkpoint_is_caught(committed, checkpoint_file):
    """As after restoring an old backup and appending again: the checkpoints of the entries
    lost name hashes the log no longer holds."""
    committed(2)
    line = checkpoint_line(chain_key(), Checkpoint(2, "e" * 64, "2026-11-23T10:00:00+00:00"))
    with checkpoint_file.open("a") as file:
        file.write(line + "\n")
    problem = f"entry 2 is not the entry line 3 of {checkpoint_file} records: it was replaced"
    assert _broken() == problem


def test_checkpoints_across_batches_are_all_checked(committed, checkpoint_file):
    committed(7)
    assert verify_audit_chain(batch_size=3).checkpoints == 7
    line = checkpoint_line(chain_key(), Checkpoint(8, "e" * 64, "2026-11-23T10:00:00+00:00"))
    with checkpoint_file.open("a") as file:
        file.write(line + "\n")
    broken = verify_audit_chain(batch_size=3).broken
    assert (
        broken.problem
        == f"entries after 7 are missing: line 8 of {checkpoint_file} records entry 8"
    )


def test_verify_reads_another_copy_of_the_checkpoints(committed, checkpoint_file, tmp_path, capsys):
    """Checkpoints gathered from the log stream (or another server's file) are checked too."""
    committed(3)
    copy = tmp_path / "from-the-log-stream.jsonl"
    copy.write_text(checkpoint_file.read_text())
    checkpoint_file.unlink()
    _as_owner("DELETE FROM audit_auditevent WHERE seq = 3")
    _set_head(2, AuditEvent.objects.get(seq=2).hash)
    assert verify_audit_chain().broken is None  # the local file is gone
    problem = f"entries after 2 are missing: line 3 of {copy} records entry 3"
    assert verify_audit_chain(checkpoint_files=[str(copy)]).broken.problem == problem
    with pytest.raises(CommandError, match=re.escape(problem)):
        call_command("verify_audit", "--checkpoints", str(copy))


def test_verify_refuses_a_named_checkpoint_file_that_does_not_exist(db, tmp_path):
    with pytest.raises(CommandError, match="No checkpoint file at"):
        call_command("verify_audit", "--checkpoints", str(tmp_path / "missing.jsonl"))
