"""Each episode's first and last valid score per measure, kept by the database
(`joinedup.lib.kept_tables`), then filled in for the administrations already there."""

import django.db.models.deletion
from django.db import migrations, models

from joinedup.lib.kept_tables import KeptTable


def _valid(alias: str, vendor: str) -> str:
    # As the partial index `administration_valid_scores` states it, so that it is used.
    return (
        f"{alias}.is_valid {'= 1 ' if vendor == 'sqlite' else ''}AND {alias}.main_score IS NOT NULL"
    )


def _score(episode: str, code: str, vendor: str, order: str) -> str:
    return f"""(SELECT x.main_score FROM measures_administration x
        WHERE x.episode_id = {episode} AND x.code = {code} AND {_valid("x", vendor)}
        ORDER BY x.completed_at {order}, x.id {order} LIMIT 1)"""  # noqa: S608 - our own names


def _refresh(key: dict[str, str], vendor: str) -> str:
    episode, code = key["episode_id"], key["code"]
    return f"""
        DELETE FROM measures_episodescores WHERE episode_id = {episode} AND code = {code};
        INSERT INTO measures_episodescores (episode_id, code, first_score, last_score, scores)
        SELECT {episode}, {code}, {_score(episode, code, vendor, "ASC")},
               {_score(episode, code, vendor, "DESC")}, counted.n
        FROM (SELECT COUNT(*) AS n FROM measures_administration x
              WHERE x.episode_id = {episode} AND x.code = {code} AND {_valid("x", vendor)}) counted
        WHERE counted.n > 0;"""  # noqa: S608 - our own names


def _fill(vendor: str) -> str:
    return f"""
        INSERT INTO measures_episodescores (episode_id, code, first_score, last_score, scores)
        SELECT g.episode_id, g.code, {_score("g.episode_id", "g.code", vendor, "ASC")},
               {_score("g.episode_id", "g.code", vendor, "DESC")}, g.n
        FROM (SELECT x.episode_id, x.code, COUNT(*) AS n FROM measures_administration x
              WHERE x.episode_id IS NOT NULL AND {_valid("x", vendor)}
              GROUP BY x.episode_id, x.code) g"""  # noqa: S608 - our own names


EPISODE_SCORES = KeptTable(
    name="measures_episodescores",
    source="measures_administration",
    keys=(("episode_id", "bigint"), ("code", "text")),
    watched=("episode_id", "code", "completed_at", "is_valid", "main_score"),
    locked="referrals_episode",
    refresh=_refresh,
    fill=_fill,
)


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
        EPISODE_SCORES.operation(),
    ]
