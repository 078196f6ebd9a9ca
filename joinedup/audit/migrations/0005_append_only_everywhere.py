"""Refuse changes to the audit log in the database on SQLite too (UPDATE and DELETE, as on
PostgreSQL), and TRUNCATE on PostgreSQL, which its row triggers do not see."""

from django.db import migrations

MESSAGE = "The audit log is append-only"
SQLITE = {
    "create": [
        f"""CREATE TRIGGER audit_append_only_{operation} BEFORE {operation.upper()}
        ON audit_auditevent BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
        for operation in ("update", "delete")
    ],
    "drop": [
        f"DROP TRIGGER IF EXISTS audit_append_only_{operation}"
        for operation in ("update", "delete")
    ],
}
POSTGRESQL = {
    "create": [
        """CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON audit_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"""
    ],
    "drop": ["DROP TRIGGER IF EXISTS audit_append_only_truncate ON audit_auditevent"],
}


def _run(schema_editor, which):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements[which]:
        schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    _run(schema_editor, "create")


def drop_triggers(apps, schema_editor):
    _run(schema_editor, "drop")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
