"""PostgreSQL only: trigram indexes for the people search's substring tier.

delegation.selectors.people.search_people ends with `icontains` on name, UPN and mail, which
PostgreSQL runs as UPPER(column::text) LIKE '%TERM%': without these, a scan of the whole
directory (50-140 ms at 100,000 people); with them, a few milliseconds. SQLite has no such index
and is left as it is. pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may
create it. Where the role may not, the indexes are skipped with a note, and the search stays
correct, only slower.
"""

from django.db import migrations, transaction

COLUMNS = ("display_name", "upn", "mail")
TABLE = "delegation_directoryuser"


def index_name(column):
    return f"directoryuser_{column}_trgm"


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - an optional speed-up; say so and go on
        print(f"\n  pg_trgm unavailable ({exc}); the people search keeps working without it.")
        return
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{index_name(column)}" ON "{TABLE}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(column)}"')


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0006_voice_licence_and_staging"),
    ]

    operations = [migrations.RunPython(add_indexes, drop_indexes)]
