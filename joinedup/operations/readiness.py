"""Whether a long-running process can start: its database reachable and migrated."""

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
    cannot be reached or has not been migrated."""
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
