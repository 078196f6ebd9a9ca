"""Moving the test database to an earlier migration and back, for the tests of data
migrations (each on `transactional_db`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    """Every app's latest migration: going back to a migration of one app unapplies the
    migrations of other apps that depend on it, and the way forward must reapply them."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def models_at(targets):
    """The apps' models as they stand at `targets` (a list of migrations)."""
    return MigrationExecutor(connection).loader.project_state(targets).apps


@contextmanager
def back_at(targets) -> Iterator[None]:
    """The database at `targets` for the length of the block, then at the latest again."""
    newest = latest()
    migrate(targets)
    try:
        yield
    finally:
        migrate(newest)
