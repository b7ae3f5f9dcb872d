# Custom competency frameworks edited in the console (issue #7): Chinese name and
# description of a framework; Chinese statement, hierarchy, order and retirement of items.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("frameworks", "0004_equivalence_reviews"),
    ]

    operations = [
        migrations.AddField(
            model_name="competencyframework",
            name="title_zh",
            field=models.CharField(blank=True, max_length=500, verbose_name="name (Chinese)"),
        ),
        migrations.AddField(
            model_name="competencyframework",
            name="description_en",
            field=models.TextField(blank=True, verbose_name="description (English)"),
        ),
        migrations.AddField(
            model_name="competencyframework",
            name="description_zh",
            field=models.TextField(blank=True, verbose_name="description (Chinese)"),
        ),
        migrations.AddField(
            model_name="competencyitem",
            name="label_zh",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name="competencyitem",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="children",
                to="frameworks.competencyitem",
            ),
        ),
        migrations.AddField(
            model_name="competencyitem",
            name="position",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="competencyitem",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
