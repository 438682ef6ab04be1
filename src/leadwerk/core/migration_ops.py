"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations


def drop_column_index(table: str, column: str) -> migrations.RunPython:
    """Drop the plain one-column index on ``table.column`` (a foreign key's, after ``db_index=False``).

    Django's own AlterField would rebuild the whole table on SQLite (a copy of every row and index: minutes
    at a million people) to drop an index; ``DROP INDEX`` takes milliseconds on SQLite and PostgreSQL. Use it
    as the database side of ``SeparateDatabaseAndState``. The index is found by its column, not its name.
    """

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            plain = info["index"] and not (info["unique"] or info["primary_key"] or info["foreign_key"])
            if plain and info["columns"] == [column] and not info.get("check"):
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")

    def backwards(apps, schema_editor):
        name = schema_editor._create_index_name(table, [column])
        quote = schema_editor.quote_name
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)})")

    return migrations.RunPython(forwards, backwards, elidable=False)
