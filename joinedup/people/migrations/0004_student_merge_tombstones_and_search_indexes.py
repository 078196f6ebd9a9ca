import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_equality_monitoring_and_data_opt_out"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="student",
            name="unique_student_number",
        ),
        migrations.AddField(
            model_name="student",
            name="merged_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="student",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merged_records",
                to="people.student",
            ),
        ),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(fields=["nhs_number"], name="student_nhs_number"),
        ),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(fields=["date_of_birth"], name="student_date_of_birth"),
        ),
        migrations.AddIndex(
            model_name="student",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="student_tombstones",
            ),
        ),
        migrations.AddConstraint(
            model_name="student",
            constraint=models.UniqueConstraint(
                condition=models.Q(("merged_into__isnull", True)),
                fields=("university", "student_number"),
                name="unique_student_number",
                violation_error_message="A student with this student number is already registered at this university.",
            ),
        ),
    ]
