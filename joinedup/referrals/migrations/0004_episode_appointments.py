"""Each episode's attended and missed appointments counted, kept by the database
(`joinedup.lib.kept_tables`), then filled in for the appointments already there."""

import django.db.models.deletion
from django.db import migrations, models

from joinedup.lib.kept_tables import KeptTable

COUNTS = """SUM(CASE WHEN a.status = 'attended' THEN 1 ELSE 0 END) AS attended,
    SUM(CASE WHEN a.status = 'missed' THEN 1 ELSE 0 END) AS missed,
    SUM(CASE WHEN a.status = 'attended' AND a.kind = 'treatment' THEN 1 ELSE 0 END) AS treatment,
    MIN(a.starts_at) AS first_at, MAX(a.starts_at) AS last_at"""
INSERT = """INSERT INTO referrals_episodeappointments
    (episode_id, attended, missed, attended_treatment, first_at, last_at)"""


def _refresh(key: dict[str, str], vendor: str) -> str:
    episode = key["episode_id"]
    return f"""
        DELETE FROM referrals_episodeappointments WHERE episode_id = {episode};
        {INSERT}
        SELECT {episode}, counted.attended, counted.missed, counted.treatment, counted.first_at,
               counted.last_at
        FROM (SELECT COUNT(*) AS n, {COUNTS} FROM referrals_appointment a
              WHERE a.episode_id = {episode} AND a.status IN ('attended', 'missed')) counted
        WHERE counted.n > 0;"""  # noqa: S608 - our own names


def _fill(vendor: str) -> str:
    return f"""{INSERT}
        SELECT a.episode_id, {COUNTS} FROM referrals_appointment a
        WHERE a.status IN ('attended', 'missed') GROUP BY a.episode_id"""  # noqa: S608 - our own names


EPISODE_APPOINTMENTS = KeptTable(
    name="referrals_episodeappointments",
    source="referrals_appointment",
    keys=(("episode_id", "bigint"),),
    watched=("episode_id", "status", "kind", "starts_at"),
    locked="referrals_episode",
    refresh=_refresh,
    fill=_fill,
)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_covering_report_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="EpisodeAppointments",
            fields=[
                (
                    "episode",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="referrals.episode",
                    ),
                ),
                ("attended", models.PositiveIntegerField()),
                ("missed", models.PositiveIntegerField()),
                ("attended_treatment", models.PositiveIntegerField()),
                ("first_at", models.DateTimeField()),
                ("last_at", models.DateTimeField()),
            ],
        ),
        EPISODE_APPOINTMENTS.operation(),
    ]
