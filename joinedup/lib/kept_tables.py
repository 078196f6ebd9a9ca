"""Tables the database keeps from another table with triggers, on SQLite and PostgreSQL.

A kept table holds one row per key (an episode, or an episode and a measure) computed from
the rows of a source table with that key. Whenever a source row is added, deleted, or has
one of `watched` columns changed, the triggers recompute the old and the new key's row,
whichever code or tool wrote it. On PostgreSQL the refresh first locks the row its first
key names in `locked` (FOR NO KEY UPDATE, which foreign key checks do not wait for), so that
concurrent writers for one key take turns and the second recomputes from what the first
committed. A row lock lives in the row itself, so one transaction may write for any number
of keys (an advisory lock per key would fill the server's lock table in a bulk import).

Migrations create and drop the triggers with `create_statements` and `drop_statements`.
On SQLite, a migration that adds or alters a column of the source table rebuilds the table,
and the rebuild drops its triggers: such a migration puts `around_source_rebuild()`'s two
operations first and last, which take the triggers off before and put them back (with the
table recomputed) after, whichever way it runs.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class KeptTable:
    name: str  # the kept table
    source: str  # the table it is computed from
    keys: tuple[tuple[str, str], ...]  # (column, PostgreSQL type)
    locked: str  # the table whose row with the first key as its id is locked
    watched: tuple[str, ...]  # source columns whose change can change a row
    # The statements that recompute the row of the given key expressions (column: SQL),
    # for a vendor; and the one that fills the table from every source row.
    refresh: Callable[[dict[str, str], str], str]
    fill: Callable[[str], str]

    def create_statements(self, vendor: str) -> list[str]:
        columns = [column for column, _ in self.keys]
        if vendor == "postgresql":
            parameters = ", ".join(f"key_{column} {kind}" for column, kind in self.keys)
            arguments = ", ".join(f"{{0}}.{column}" for column in columns)
            return [
                f"""CREATE FUNCTION {self.name}_refresh({parameters}) RETURNS void
                LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM 1 FROM {self.locked} WHERE id = key_{columns[0]} FOR NO KEY UPDATE;
                    {self.refresh({column: f"key_{column}" for column in columns}, vendor)}
                END $$""",
                f"""CREATE FUNCTION {self.name}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP <> 'INSERT' AND OLD.{columns[0]} IS NOT NULL THEN
                        PERFORM {self.name}_refresh({arguments.format("OLD")});
                    END IF;
                    IF TG_OP <> 'DELETE' AND NEW.{columns[0]} IS NOT NULL THEN
                        PERFORM {self.name}_refresh({arguments.format("NEW")});
                    END IF;
                    RETURN NULL;
                END $$""",
                f"""CREATE TRIGGER {self.name}_changed AFTER INSERT OR DELETE
                OR UPDATE OF {", ".join(self.watched)} ON {self.source}
                FOR EACH ROW EXECUTE FUNCTION {self.name}_changed()""",
                self.fill(vendor),
            ]

        def refresh(row: str) -> str:
            return self.refresh({column: f"{row}.{column}" for column in columns}, vendor)

        return [
            f"""CREATE TRIGGER {self.name}_inserted AFTER INSERT ON {self.source}
            BEGIN {refresh("NEW")} END""",
            f"""CREATE TRIGGER {self.name}_deleted AFTER DELETE ON {self.source}
            BEGIN {refresh("OLD")} END""",
            f"""CREATE TRIGGER {self.name}_updated AFTER UPDATE OF {", ".join(self.watched)}
            ON {self.source} BEGIN {refresh("OLD")} {refresh("NEW")} END""",
            self.fill(vendor),
        ]

    def drop_statements(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            kinds = ", ".join(kind for _, kind in self.keys)
            return [
                f"DROP TRIGGER {self.name}_changed ON {self.source}",
                f"DROP FUNCTION {self.name}_changed()",
                f"DROP FUNCTION {self.name}_refresh({kinds})",
            ]
        return [
            f"DROP TRIGGER {self.name}_{change}" for change in ("inserted", "deleted", "updated")
        ]

    def operation(self):
        """The migration operation that creates the triggers and fills the table."""

        def create(apps, schema_editor):
            for statement in self.create_statements(schema_editor.connection.vendor):
                schema_editor.execute(statement)

        def drop(apps, schema_editor):
            for statement in self.drop_statements(schema_editor.connection.vendor):
                schema_editor.execute(statement)

        return migrations.RunPython(create, drop)

    def around_source_rebuild(self) -> tuple[migrations.RunPython, migrations.RunPython]:
        """The first and the last operation of a migration that may rebuild the source table
        on SQLite (adding, altering or removing its columns or constraints): the triggers
        come off before and go back after, and the kept table is recomputed from every source
        row, forwards and backwards. PostgreSQL alters a table in place, keeping its
        triggers, so there they do nothing."""

        def off(apps, schema_editor):
            if schema_editor.connection.vendor == "sqlite":
                for change in ("inserted", "deleted", "updated"):
                    schema_editor.execute(f"DROP TRIGGER IF EXISTS {self.name}_{change}")

        def on(apps, schema_editor):
            if schema_editor.connection.vendor == "sqlite":
                schema_editor.execute(f"DELETE FROM {self.name}")  # noqa: S608 - our own names
                for statement in self.create_statements("sqlite"):
                    schema_editor.execute(statement)

        return migrations.RunPython(off, on), migrations.RunPython(on, off)
