"""Migration operations Django does not have."""

from django.db.migrations.operations.base import Operation


class DropPatternIndex(Operation):
    """Drop the `varchar_pattern_ops` index PostgreSQL gets beside a unique text field.

    Django adds it for `LIKE 'abc%'` look-ups, which random public ids never get; on a table
    written in bulk it is one more index to update per row. The model state does not change.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name
        self.field_name = field_name

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "field_name": self.field_name},
        )

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        column = model._meta.get_field(self.field_name).column
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexdef LIKE %s",
                [model._meta.db_table, f"%({column} varchar_pattern_ops)"],
            )
            names = [name for (name,) in cursor.fetchall()]
        for name in names:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        statement = schema_editor._create_like_index_sql(
            model, model._meta.get_field(self.field_name)
        )
        if statement is not None:
            schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Drop the pattern index of {self.model_name}.{self.field_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_pattern_index_{self.model_name.lower()}_{self.field_name}"
