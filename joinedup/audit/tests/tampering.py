"""Switching the audit log's append-only triggers off, as the database's owner could: tests
tamper with the log below them, and Django empties every table between transactional tests."""

import sqlite3
from contextlib import contextmanager

from django.db import transaction

from joinedup.audit.partitions import partitions

TABLE = "audit_auditevent"


@contextmanager
def triggers_off(connection):
    """The append-only triggers are off inside the block, on this connection (SQLite) or for
    the table until the block's transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias):
            _alter_triggers(connection, "DISABLE")
            try:
                yield
            finally:
                _alter_triggers(connection, "ENABLE")
        return
    connection.ensure_connection()
    connection.connection.setconfig(sqlite3.SQLITE_DBCONFIG_ENABLE_TRIGGER, False)
    try:
        yield
    finally:
        connection.connection.setconfig(sqlite3.SQLITE_DBCONFIG_ENABLE_TRIGGER, True)


def _alter_triggers(connection, state: str) -> None:
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of earlier inserts must run before ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Each partition refuses TRUNCATE with a trigger of its own.
        for table in [TABLE, *partitions(cursor)]:
            cursor.execute(f"ALTER TABLE {table} {state} TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def flush_past_triggers() -> None:
    """Let Django's flush (between transactional tests) empty the audit log."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    flush = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with triggers_off(self.connection):
            flush(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
