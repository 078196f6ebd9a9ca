"""Each episode's first and last valid score per measure, kept by the database.

Triggers on `measures_administration` recompute an episode's row for a measure whenever one of
its administrations is added, changed or deleted, whichever code or tool wrote it; then the
rows are filled in for the administrations already there. On PostgreSQL a transaction-scoped
lock per episode makes concurrent writers for one episode take turns, so the second one
recomputes from what the first committed.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "measures_episodescores"


def _valid(alias: str, vendor: str) -> str:
    # As the partial index `administration_valid_scores` states it, so that it is used.
    return (
        f"{alias}.is_valid {'= 1 ' if vendor == 'sqlite' else ''}AND {alias}.main_score IS NOT NULL"
    )


def _score(episode: str, code: str, vendor: str, order: str) -> str:
    return f"""(SELECT x.main_score FROM measures_administration x
        WHERE x.episode_id = {episode} AND x.code = {code} AND {_valid("x", vendor)}
        ORDER BY x.completed_at {order}, x.id {order} LIMIT 1)"""  # noqa: S608 - our own names


def _refresh(episode: str, code: str, vendor: str) -> str:
    """Statements that recompute the row of (`episode`, `code`), SQL expressions."""
    return f"""
        DELETE FROM {TABLE} WHERE episode_id = {episode} AND code = {code};
        INSERT INTO {TABLE} (episode_id, code, first_score, last_score, scores)
        SELECT {episode}, {code}, {_score(episode, code, vendor, "ASC")},
               {_score(episode, code, vendor, "DESC")}, counted.n
        FROM (SELECT COUNT(*) AS n FROM measures_administration x
              WHERE x.episode_id = {episode} AND x.code = {code} AND {_valid("x", vendor)}) counted
        WHERE counted.n > 0;"""  # noqa: S608 - our own names


def _fill(vendor: str) -> str:
    return f"""
        INSERT INTO {TABLE} (episode_id, code, first_score, last_score, scores)
        SELECT g.episode_id, g.code, {_score("g.episode_id", "g.code", vendor, "ASC")},
               {_score("g.episode_id", "g.code", vendor, "DESC")}, g.n
        FROM (SELECT x.episode_id, x.code, COUNT(*) AS n FROM measures_administration x
              WHERE x.episode_id IS NOT NULL AND {_valid("x", vendor)}
              GROUP BY x.episode_id, x.code) g"""  # noqa: S608 - our own names


def _statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"""CREATE FUNCTION measures_refresh_episode_scores(episode bigint, measure text)
            RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtext('{TABLE}'), episode::integer);
                {_refresh("episode", "measure", vendor)}
            END $$""",
            """CREATE FUNCTION measures_administration_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' AND OLD.episode_id IS NOT NULL THEN
                    PERFORM measures_refresh_episode_scores(OLD.episode_id, OLD.code);
                END IF;
                IF TG_OP <> 'DELETE' AND NEW.episode_id IS NOT NULL THEN
                    PERFORM measures_refresh_episode_scores(NEW.episode_id, NEW.code);
                END IF;
                RETURN NULL;
            END $$""",
            """CREATE TRIGGER measures_episode_scores AFTER INSERT OR DELETE
            OR UPDATE OF episode_id, code, completed_at, is_valid, main_score
            ON measures_administration FOR EACH ROW EXECUTE FUNCTION measures_administration_changed()""",
            _fill(vendor),
        ]
    return [
        f"""CREATE TRIGGER measures_episode_scores_inserted AFTER INSERT ON measures_administration
        BEGIN {_refresh("NEW.episode_id", "NEW.code", vendor)} END""",
        f"""CREATE TRIGGER measures_episode_scores_deleted AFTER DELETE ON measures_administration
        BEGIN {_refresh("OLD.episode_id", "OLD.code", vendor)} END""",
        f"""CREATE TRIGGER measures_episode_scores_updated
        AFTER UPDATE OF episode_id, code, completed_at, is_valid, main_score
        ON measures_administration
        BEGIN {_refresh("OLD.episode_id", "OLD.code", vendor)}
              {_refresh("NEW.episode_id", "NEW.code", vendor)} END""",
        _fill(vendor),
    ]


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER measures_episode_scores ON measures_administration")
        schema_editor.execute("DROP FUNCTION measures_administration_changed()")
        schema_editor.execute("DROP FUNCTION measures_refresh_episode_scores(bigint, text)")
    else:
        for change in ("inserted", "deleted", "updated"):
            schema_editor.execute(f"DROP TRIGGER measures_episode_scores_{change}")


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0004_covering_report_indexes"),
        ("referrals", "0003_covering_report_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="EpisodeScores",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("PHQ-9", "PHQ-9"),
                            ("GAD-7", "GAD-7"),
                            ("CORE-10", "CORE-10"),
                            ("CORE-OM", "CORE-OM"),
                            ("WEMWBS", "WEMWBS"),
                            ("SWEMWBS", "SWEMWBS"),
                        ],
                        max_length=10,
                        verbose_name="measure",
                    ),
                ),
                ("first_score", models.FloatField()),
                ("last_score", models.FloatField()),
                ("scores", models.PositiveIntegerField()),
                (
                    "episode",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="referrals.episode",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("episode", "code"), name="episode_scores_once")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
