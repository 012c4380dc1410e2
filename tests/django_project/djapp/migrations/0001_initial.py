from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: ClassVar[Sequence[tuple[str, str]]] = []

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("quantity", models.IntegerField(default=0)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("attributes", models.JSONField(default=dict)),
            ],
            options={"ordering": ["name"]},
        ),
    ]
