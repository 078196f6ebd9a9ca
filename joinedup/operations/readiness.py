"""Whether a long-running process can start: its database reachable and migrated."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from joinedup.operations.models import JobRun


def reach_database(process: str) -> list[str]:
    """The database's tables; stops `process` with a clear message, before it does
    anything, when the database cannot be reached."""
    where = connection.settings_dict.get("NAME")
    try:
        connection.ensure_connection()
        return connection.introspection.table_names()
    except DatabaseError as error:
        raise CommandError(
            f"The {process} cannot reach the database ({where}), so it did nothing. Check "
            f"DATABASE_URL and that the database server is running. It said: {error}".strip()
        ) from error


def require_database(process: str) -> None:
    """Stop `process` with a clear message, before it does anything, when the database
    cannot be reached or has not been migrated, or the audit log's checkpoints could not
    be written."""
    require_checkpoint_file(process)
    where = connection.settings_dict.get("NAME")
    tables = reach_database(process)
    if JobRun._meta.db_table not in tables:
        raise CommandError(
            f"The database ({where}) has not been migrated: run `joinedup migrate` first; "
            f"the {process} ran nothing."
        )
    executor = MigrationExecutor(connection)
    if pending := executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            f"The database ({where}) lacks {len(pending)} of this release's migrations "
            f"({pending[0][0]}…): run `joinedup migrate` first; the {process} ran nothing."
        )


def require_checkpoint_file(process: str) -> None:
    """Without its checkpoints the audit log loses its evidence against rewriting by whoever
    holds the database, and each entry would only log an error: refuse to start instead."""
    if not settings.AUDIT_CHECKPOINT_FILE:
        return  # checkpoints go to the log stream only, by choice
    folder = Path(settings.AUDIT_CHECKPOINT_FILE).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(
            f"The audit log's checkpoints cannot be written to {settings.AUDIT_CHECKPOINT_FILE} "
            f"({folder} is {'not writable' if folder.is_dir() else 'missing'}): create it, or "
            f"set AUDIT_CHECKPOINT_FILE to another file; the {process} ran nothing."
        )
