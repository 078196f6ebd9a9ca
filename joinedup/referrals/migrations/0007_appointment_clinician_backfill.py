"""Name the clinician of each appointment booked before the diary: whoever recorded it, where
they are a clinician of the episode's service (a practitioner, triage or liaison worker);
otherwise it stays unnamed ("no clinician named" in the diary). In batches; the reverse
leaves the names (0006's reverse drops the column)."""

from django.db import migrations

CLINICAL_ROLES = ("practitioner", "triage", "liaison")
BATCH = 2000


def name_clinicians(apps, schema_editor):
    Appointment = apps.get_model("referrals", "Appointment")
    Membership = apps.get_model("people", "Membership")
    clinicians = set(
        Membership.objects.filter(role__in=CLINICAL_ROLES, service__isnull=False).values_list(
            "user_id", "service_id"
        )
    )
    last = 0
    while True:
        batch = list(
            Appointment.objects.filter(pk__gt=last, clinician__isnull=True)
            .order_by("pk")
            .values_list("pk", "recorded_by_id", "episode__service_id")[:BATCH]
        )
        if not batch:
            return
        last = batch[-1][0]
        by_user: dict[int, list[int]] = {}
        for pk, user, service in batch:
            if (user, service) in clinicians:
                by_user.setdefault(user, []).append(pk)
        for user, pks in by_user.items():
            # A plain UPDATE of a column the kept table's triggers do not watch.
            Appointment.objects.filter(pk__in=pks).update(clinician_id=user)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("referrals", "0006_diary"),
    ]

    operations = [migrations.RunPython(name_clinicians, migrations.RunPython.noop)]
