"""Chain the entries written so far again, under the key: each hash becomes an HMAC-SHA256
under AUDIT_CHAIN_KEY instead of a plain SHA-256 anyone could recompute.

The chain is checked as it stands first. A broken one is left as it is and the migration
stops, since chaining it again would hide the break: find what happened (`verify_audit` on
the previous release names the entry) before migrating."""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq", "at", "actor_id", "actor_email", "actor_role", "actor_service",
    "actor_organisation", "student_id", "category", "action", "allowed", "basis",
    "reason", "request_id",
)  # fmt: skip
BATCH = 5000


def _hash(key, prev_hash, fields):
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    message = f"{prev_hash}|{payload}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.digest(key, message, "sha256").hex()


def _rechain(apps, schema_editor, old_key, new_key):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditHead = apps.get_model("audit", "AuditHead")
    connection = schema_editor.connection
    if not AuditEvent.objects.exists():
        return
    table = AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_append_only")
    old_prev = new_prev = GENESIS_HASH
    last = 0
    while batch := list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:BATCH]):
        updates = []
        for event in batch:
            fields = {name: getattr(event, name) for name in HASHED_FIELDS}
            fields["at"] = event.at.isoformat()
            if event.seq != last + 1:
                _refuse(f"entry {last + 1} is missing")
            if event.prev_hash != old_prev:
                _refuse(f"entry {event.seq} does not link to the entry before it")
            if _hash(old_key, old_prev, fields) != event.hash:
                _refuse(f"entry {event.seq} was altered after it was written")
            old_prev, last = event.hash, event.seq
            new_hash = _hash(new_key, new_prev, fields)
            updates.append((new_prev, new_hash, event.seq))
            new_prev = new_hash
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608
                updates,
            )
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or (head.seq, head.hash) != (last, old_prev):
        _refuse(f"entries after {last} are missing")
    AuditHead.objects.filter(pk=1).update(hash=new_prev)
    if connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_append_only")


def _refuse(problem):
    raise RuntimeError(
        f"The audit chain is broken ({problem}), so it is not chained again under the key."
    )


def key_the_chain(apps, schema_editor):
    _rechain(apps, schema_editor, None, settings.AUDIT_CHAIN_KEY.encode())


def unkey_the_chain(apps, schema_editor):
    _rechain(apps, schema_editor, settings.AUDIT_CHAIN_KEY.encode(), None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]
    operations = [migrations.RunPython(key_the_chain, unkey_the_chain)]
