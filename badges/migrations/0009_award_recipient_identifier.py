"""Awards to an institutional identity (issue 15 §4): an award names its learner by e-mail,
by a student number or sign-in name (``recipient_identifier_type`` and
``recipient_identifier``), or both; bulk upload rows may carry the identifier too."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0008_award_updated_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="award",
            name="recipient_email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="recipient e-mail"),
        ),
        migrations.AddField(
            model_name="award",
            name="recipient_identifier_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("studentId", "Student number"),
                    ("sourcedId", "Institutional sign-in name (eduPersonPrincipalName)"),
                ],
                max_length=20,
                verbose_name="identifier type",
            ),
        ),
        migrations.AddField(
            model_name="award",
            name="recipient_identifier",
            field=models.CharField(blank=True, max_length=256, verbose_name="identifier"),
        ),
        migrations.AddField(
            model_name="bulkrow",
            name="identifier_type",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="bulkrow",
            name="identifier",
            field=models.CharField(blank=True, max_length=256),
        ),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(
                condition=models.Q(("recipient_identifier", ""), _negated=True),
                fields=["recipient_identifier_type", "recipient_identifier"],
                name="award_recipient_identifier",
            ),
        ),
        migrations.AddConstraint(
            model_name="award",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("recipient_email", ""), _negated=True),
                    models.Q(("recipient_identifier", ""), _negated=True),
                    _connector="OR",
                ),
                name="award_has_recipient",
            ),
        ),
        migrations.AddConstraint(
            model_name="award",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("recipient_identifier", ""), ("recipient_identifier_type", "")),
                    models.Q(
                        models.Q(("recipient_identifier", ""), _negated=True),
                        models.Q(("recipient_identifier_type", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="award_identifier_typed",
            ),
        ),
    ]
