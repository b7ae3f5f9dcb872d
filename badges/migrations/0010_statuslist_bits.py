"""``StatusList.bits``: each list's bitstring, kept current in the same transaction as every
status change, so a list is signed without recomputing it from every entry. Existing lists are
filled once here from their entries and the awards' status (the rule of
``badges.statuslists.selectors.BIT_STATUSES``, copied so this migration does not change with
the code)."""

from typing import Any

from django.db import migrations, models

# statusPurpose -> the award statuses that set an entry's bit in a list of that purpose.
BIT_STATUSES = {"revocation": ("revoked",), "suspension": ("suspended", "revoked")}


def fill(apps: Any, schema_editor: Any) -> None:
    StatusList = apps.get_model("badges", "StatusList")
    StatusEntry = apps.get_model("badges", "StatusEntry")
    for status_list in StatusList.objects.only("pk", "purpose", "length").iterator():
        bits = bytearray(status_list.length // 8)
        indexes = StatusEntry.objects.filter(
            status_list_id=status_list.pk,
            award__status__in=BIT_STATUSES[status_list.purpose],
        ).values_list("index", flat=True)
        for index in indexes.iterator():
            bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the left-most bit (§3.1)
        StatusList.objects.filter(pk=status_list.pk).update(bits=bytes(bits))


def compress_with_lz4(apps: Any, schema_editor: Any) -> None:
    """Every status change rewrites a list's 16 KiB of bits: PostgreSQL's default TOAST
    compression (pglz) made that write cost 2-4 ms, lz4 about a quarter of it. Left as it is
    where the server was built without lz4."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DO $$ BEGIN "
        "ALTER TABLE badges_statuslist ALTER COLUMN bits SET COMPRESSION lz4; "
        "EXCEPTION WHEN feature_not_supported THEN NULL; "
        "END $$"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("badges", "0009_award_recipient_identifier"),
    ]

    operations = [
        migrations.AddField(
            model_name="statuslist",
            name="bits",
            field=models.BinaryField(blank=True, default=bytes, null=True),
        ),
        migrations.RunPython(compress_with_lz4, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
