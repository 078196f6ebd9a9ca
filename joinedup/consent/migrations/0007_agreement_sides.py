"""The organisations of an agreement become its sides: the same table, now a model of its own
(each side activates the agreement on its own)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0006_relationship_endings"),
        ("people", "0005_student_pending_self_referral"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AgreementSide",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "agreement",
                            models.ForeignKey(
                                db_column="datasharingagreement_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sides",
                                to="consent.datasharingagreement",
                            ),
                        ),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="people.organisation",
                            ),
                        ),
                    ],
                    options={"db_table": "consent_datasharingagreement_organisations"},
                ),
                migrations.AddConstraint(
                    model_name="agreementside",
                    constraint=models.UniqueConstraint(
                        fields=("agreement", "organisation"), name="one_side_each"
                    ),
                ),
                migrations.AlterField(
                    model_name="datasharingagreement",
                    name="organisations",
                    field=models.ManyToManyField(
                        related_name="agreements",
                        through="consent.AgreementSide",
                        to="people.organisation",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
