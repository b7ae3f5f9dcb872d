"""``Award.updated_at``: when an award last changed (insert, status, claim), so the REST API
can list awards changed since a moment, paged by (updated_at, id). Existing awards get the
latest of their creation, last status change and claim."""

from typing import Any

import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce, Greatest


def backfill(apps: Any, schema_editor: Any) -> None:
    Award = apps.get_model("badges", "Award")
    Award.objects.update(
        updated_at=Greatest(
            "created_at",
            Coalesce("status_changed_at", "created_at"),
            Coalesce("claimed_at", "created_at"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0007_issuer_token_scopes"),
    ]

    operations = [
        migrations.AddField(
            model_name="award",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(fields=["updated_at", "id"], name="award_updated"),
        ),
    ]
