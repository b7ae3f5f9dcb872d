"""Carry DRF ``authtoken`` keys over as hashed staff tokens, then drop its table.

``rest_framework.authtoken`` kept every key in plain text. Each key becomes a ``StaffToken``
holding only its SHA-256, so ``Authorization: Token <key>`` keeps working for the person it
belonged to while the raw key leaves the database.
"""

import hashlib
import uuid
from typing import Any

from django.db import migrations


def carry_over(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    StaffToken = apps.get_model("integrations", "StaffToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = StaffToken.objects.create(
            id=uuid.uuid4(),
            user_id=user_id,
            name="API token",
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
        )
        StaffToken.objects.filter(pk=token.pk).update(created_at=created)
    schema_editor.execute(
        "DROP TABLE authtoken_token" + (" CASCADE" if connection.vendor == "postgresql" else "")
    )


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
