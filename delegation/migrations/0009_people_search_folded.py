"""The people search's folded column (delegation/folding.py): added, filled for the people
already cached, and indexed.

Both databases get a B-tree index (the "name starts with" range, in order, up to the page's
limit). PostgreSQL also gets the column collated "C", so that index compares bytes as SQLite
does (under a linguistic collation the range would skip the tab between the folded fields), and
a trigram index for the substring tier, which replaces 0007's three indexes on UPPER(name),
UPPER(upn) and UPPER(mail): the search no longer reads those columns with LIKE.
"""

from django.db import migrations, models, transaction

import delegation.models
from delegation.folding import SOURCES, person_folded

TABLE = "delegation_directoryuser"
TRIGRAM_INDEX = "directoryuser_search_folded_trgm"
OLD_TRIGRAM_COLUMNS = ("display_name", "upn", "mail")  # 0007's
CHUNK = 2000


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" ALTER COLUMN "search_folded" TYPE text COLLATE "C"'
        )


def fill(apps, schema_editor):
    DirectoryUser = apps.get_model("delegation", "DirectoryUser")
    rows = DirectoryUser.objects.order_by("pk").values_list("pk", *SOURCES)
    last = 0
    while chunk := list(rows.filter(pk__gt=last)[:CHUNK]):
        DirectoryUser.objects.bulk_update(
            [DirectoryUser(pk=pk, search_folded=person_folded(*values)) for pk, *values in chunk],
            ["search_folded"],
        )
        last = chunk[-1][0]


def trigram_on_folded(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in OLD_TRIGRAM_COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "directoryuser_{column}_trgm"')
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - an optional speed-up; say so and go on
        print(f"\n  pg_trgm unavailable ({exc}); the people search keeps working without it.")
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{TRIGRAM_INDEX}" ON "{TABLE}" '
        'USING gin ("search_folded" gin_trgm_ops)'
    )


def drop_trigram_on_folded(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{TRIGRAM_INDEX}"')
    # 0007's indexes come back when 0007 itself is unapplied and applied again.


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0008_merge_changes_and_voice_licence"),
    ]

    operations = [
        migrations.AddField(
            model_name="directoryuser",
            name="search_folded",
            field=delegation.models.FoldedField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(collate_c, migrations.RunPython.noop),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="directoryuser",
            index=models.Index(
                fields=["search_folded"], name="directoryuser_search_folded"
            ),
        ),
        migrations.RunPython(trigram_on_folded, drop_trigram_on_folded),
    ]
