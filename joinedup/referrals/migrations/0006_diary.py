"""The diary: appointments name their clinician, last a length, happen at a place or on a
video link, and say why they were cancelled or moved; students ask to cancel or rebook;
episodes are allocated to a practitioner and may end with the student disengaged or
transferred.

Adding columns rebuilds the appointments table on SQLite, which drops the triggers that keep
`referrals_episodeappointments`: they come off first and go back last, with the kept table
recomputed (`KeptTable.around_source_rebuild`)."""

import datetime
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from joinedup.lib.kept_tables import KeptTable

# The kept table of 0004_episode_appointments, as it stands (copied, not imported).
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
TRIGGERS_OFF, TRIGGERS_ON = EPISODE_APPOINTMENTS.around_source_rebuild()
ENDINGS = [
    ("planned", "Planned ending"),
    ("unplanned", "Unplanned ending (stopped attending)"),
    ("disengaged", "The student disengaged"),
    ("transferred", "Transferred to another service"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0005_referral_report_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TRIGGERS_OFF,
        # Episodes: allocation, and the two new endings ("transferred" needs 12 characters).
        migrations.AddField(
            model_name="episode",
            name="practitioner",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="allocated_episodes",
                to=settings.AUTH_USER_MODEL,
                verbose_name="allocated to",
            ),
        ),
        migrations.AddField(
            model_name="episode",
            name="allocated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="episode",
            name="ending",
            field=models.CharField(blank=True, choices=ENDINGS, max_length=12),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(
                fields=["practitioner", "ended_at"], name="episode_practitioner_open"
            ),
        ),
        # Appointments: the diary's columns.
        migrations.AddField(
            model_name="appointment",
            name="clinician",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="diary_appointments",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="appointment",
            name="length",
            field=models.DurationField(default=datetime.timedelta(minutes=50)),
        ),
        migrations.AddField(
            model_name="appointment",
            name="place",
            field=models.CharField(blank=True, max_length=200, verbose_name="place"),
        ),
        migrations.AddField(
            model_name="appointment",
            name="video_link",
            field=models.URLField(blank=True, max_length=500, verbose_name="video link"),
        ),
        migrations.AddField(
            model_name="appointment",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="appointment",
            name="cancel_reason",
            field=models.TextField(blank=True, verbose_name="why it was cancelled"),
        ),
        migrations.AddField(
            model_name="appointment",
            name="moved_from",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="appointment",
            name="move_reason",
            field=models.TextField(blank=True, verbose_name="why it was moved"),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["clinician", "starts_at"], name="appointment_diary"),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["starts_at"], name="appointment_starts"),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(("length__gt", datetime.timedelta(0))),
                name="appointment_has_a_length",
            ),
        ),
        # A student's request to cancel or rebook.
        migrations.CreateModel(
            name="AppointmentRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "wants",
                    models.CharField(
                        choices=[("cancel", "Cancel it"), ("rebook", "Change it to another time")],
                        max_length=10,
                    ),
                ),
                ("reason", models.TextField(verbose_name="reason")),
                (
                    "better_times",
                    models.CharField(
                        blank=True, max_length=300, verbose_name="times that suit me better"
                    ),
                ),
                ("asked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "answer",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("cancelled", "Cancelled"),
                            ("rebooked", "Moved to another time"),
                            ("kept", "Kept as it is"),
                        ],
                        max_length=10,
                    ),
                ),
                ("message", models.TextField(blank=True, verbose_name="message to the student")),
                ("answered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "answered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "appointment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="requests",
                        to="referrals.appointment",
                    ),
                ),
            ],
            options={"ordering": ["asked_at"]},
        ),
        migrations.AddConstraint(
            model_name="appointmentrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("answered_at__isnull", True)),
                fields=("appointment",),
                name="appointment_one_request_waiting",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointmentrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("answer", ""), ("answered_at__isnull", True)),
                    models.Q(
                        ("answered_at__isnull", False), models.Q(("answer", ""), _negated=True)
                    ),
                    _connector="OR",
                ),
                name="appointment_request_answered_says_how",
            ),
        ),
        TRIGGERS_ON,
    ]
