from django.db import migrations, models


class Migration(migrations.Migration):
    """Clients may register public keys (SMART Backend Services); spent assertions are kept
    until they expire. The registration keeps its rows."""

    dependencies = [
        ("fhir", "0002_export_files_gzipped"),
    ]

    operations = [
        migrations.RenameModel("ClientScopes", "ClientRegistration"),
        migrations.AddField(
            model_name="clientregistration",
            name="jwks",
            field=models.JSONField(
                blank=True, help_text="The client's public keys, as a JWK Set.", null=True
            ),
        ),
        migrations.CreateModel(
            name="UsedAssertion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),  # fmt: skip
                ("client_id", models.CharField(max_length=100)),
                ("jti", models.CharField(max_length=255)),
                ("expires_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("client_id", "jti"), name="used_assertion_unique"
                    )
                ],
            },
        ),
    ]
