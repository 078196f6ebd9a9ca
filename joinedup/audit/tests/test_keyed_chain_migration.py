"""Entries written before the chain was keyed are chained again under the key, and stay
verifiable; a log already broken is not chained again (that would hide the break)."""

import hashlib
import json

import pytest
from django.db import connection
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.tests.tampering import triggers_off
from joinedup.tests.migrating import back_at, latest, migrate

UNKEYED = [("audit", "0003_append_only_trigger")]
HASHED_FIELDS = AuditEvent.HASHED_FIELDS


def _write_unkeyed(count: int) -> str:
    """Entries as the previous release wrote them: plain SHA-256 links."""
    prev, at = "0" * 64, timezone.now()
    with connection.cursor() as cursor:
        for seq in range(1, count + 1):
            fields = dict.fromkeys(HASHED_FIELDS, "") | {
                "seq": seq, "at": at.isoformat(), "actor_id": None, "student_id": None,
                "action": f"old.event.{seq}", "allowed": True,
            }  # fmt: skip
            payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
            digest = hashlib.sha256(f"{prev}|{payload}".encode()).hexdigest()
            values = [fields[name] for name in HASHED_FIELDS]
            values[HASHED_FIELDS.index("at")] = at
            columns = ", ".join([*HASHED_FIELDS, "prev_hash", "hash"])
            cursor.execute(
                f"INSERT INTO audit_auditevent ({columns}) VALUES ({', '.join(['%s'] * 16)})",  # noqa: S608
                [*values, prev, digest],
            )
            prev = digest
        cursor.execute(
            "INSERT INTO audit_audithead (id, seq, hash) VALUES (1, %s, %s)", [count, prev]
        )
    return prev


@pytest.fixture
def unkeyed_log(transactional_db):
    with back_at(UNKEYED):
        yield


@pytest.mark.usefixtures("unkeyed_log")
def test_an_unkeyed_log_is_chained_again_under_the_key_and_verifies():
    _write_unkeyed(5)
    before = list(AuditEvent.objects.order_by("seq").values_list("action", "hash"))
    migrate(latest())
    after = list(AuditEvent.objects.order_by("seq").values_list("action", "hash"))
    assert [action for action, _ in after] == [action for action, _ in before]
    assert all(old != new for (_, old), (_, new) in zip(before, after, strict=True))
    result = verify_audit_chain()
    assert result.broken is None
    assert result.checked == 5


@pytest.mark.usefixtures("unkeyed_log")
def test_an_unkeyed_log_already_broken_is_not_chained_again():
    _write_unkeyed(3)
    with triggers_off(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'changed' WHERE seq = 2")
    with pytest.raises(RuntimeError, match="entry 2 was altered after it was written"):
        migrate(latest())
    assert AuditEvent.objects.get(seq=1).prev_hash == "0" * 64
    with triggers_off(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
