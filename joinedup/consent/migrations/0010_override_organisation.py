from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models

CLINICAL_ROLES = ("practitioner", "triage", "liaison")


def where_each_override_was_used(apps, schema_editor):
    """The organisation named in the override's own audit entry; else the one its user now
    works in clinically; else the student's university (someone must review it)."""
    BreakGlass = apps.get_model("consent", "BreakGlass")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    Organisation = apps.get_model("people", "Organisation")
    Membership = apps.get_model("people", "Membership")
    for access in BreakGlass.objects.filter(organisation__isnull=True).select_related("student"):
        named = (
            AuditEvent.objects.filter(
                action="consent.break_glass.opened",
                actor_id=access.user_id,
                student_id=access.student_id,
                at__lte=access.opened_at + timedelta(minutes=1),
            )
            .order_by("-at")
            .values_list("actor_organisation", flat=True)
            .first()
        )
        organisation = Organisation.objects.filter(name=named).first() if named else None
        if organisation is None:
            membership = Membership.objects.filter(
                user_id=access.user_id, role__in=CLINICAL_ROLES
            ).first()
            organisation_id = (
                membership.organisation_id if membership else access.student.university_id
            )
        else:
            organisation_id = organisation.pk
        access.organisation_id = organisation_id
        access.save(update_fields=["organisation"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_authored_basis"),
        ("consent", "0009_agreement_reviews"),
        ("people", "0006_student_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="breakglass",
            name="organisation",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="overrides_used",
                to="people.organisation",
            ),
        ),
        migrations.RunPython(where_each_override_was_used, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="breakglass",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="overrides_used",
                to="people.organisation",
            ),
        ),
    ]
