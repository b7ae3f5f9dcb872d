"""``StatusList.draw_key``: the secret of each list's index permutation
(``badges.statuslists.services``). Adding the field gives every existing list the same key;
each is then given its own. The sequences that count a list's draws are created on first use,
starting after the entries the list already holds."""

import secrets
from typing import Any

from django.db import migrations, models

import badges.models.statuslists


def own_keys(apps: Any, schema_editor: Any) -> None:
    StatusList = apps.get_model("badges", "StatusList")
    for pk in StatusList.objects.values_list("pk", flat=True).iterator():
        StatusList.objects.filter(pk=pk).update(draw_key=secrets.token_bytes(32))


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0010_statuslist_bits"),
    ]

    operations = [
        migrations.AddField(
            model_name="statuslist",
            name="draw_key",
            field=models.BinaryField(
                default=badges.models.statuslists.new_draw_key, editable=False, max_length=32
            ),
        ),
        migrations.RunPython(own_keys, migrations.RunPython.noop, elidable=True),
    ]
