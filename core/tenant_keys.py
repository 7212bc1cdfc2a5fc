"""Database keys that let a tenant table be sharded by organization (ARCHITECTURE.md, "Growing
past one machine"), applied from a table's first migration.

Django keeps `id` as the model's primary key; at the database the primary key becomes
`(organization_id, id)` and each foreign key to another tenant table becomes composite,
`(organization_id, x_id) -> (organization_id, id)`, so a row can never point into another
organization and Citus can co-locate the tables. The Django fields of such foreign keys are
declared with `db_constraint=False`; this operation adds the real constraint.

Only PostgreSQL gets these keys; the embedded SQLite default keeps Django's own.
"""

from django.db import models
from django.db.migrations.operations.base import Operation


class TenantKeys(Operation):
    """Make `model_name`'s primary key `(organization_id, id)` and add composite foreign keys
    for the named fields (each declared with `db_constraint=False`)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, foreign_keys: tuple[str, ...] | list[str] = ()):
        self.model_name = model_name
        self.foreign_keys = tuple(foreign_keys)

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "foreign_keys": list(self.foreign_keys)},
        )

    def state_forwards(self, app_label, state) -> None:
        pass  # the model state does not change: Django's pk stays `id`

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        _key_by_organization(schema_editor, model)
        for field_name in self.foreign_keys:
            _add_foreign_key(schema_editor, model, model._meta.get_field(field_name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        quote = schema_editor.quote_name
        for field_name in self.foreign_keys:
            column = model._meta.get_field(field_name).column
            name = f"{table}_{column}_org_fk"[:63]
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
            )
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(table + '_pkey')}"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(table + '_id_idx')}")
        schema_editor.execute(f"ALTER TABLE {quote(table)} ADD PRIMARY KEY (id)")

    def describe(self) -> str:
        return f"Key {self.model_name} by (organization_id, id)"

    @property
    def migration_name_fragment(self) -> str:
        return f"tenant_keys_{self.model_name.lower()}"


def _key_by_organization(schema_editor, model) -> None:
    """Make the table's primary key `(organization_id, id)`, keeping an index on `id`."""
    table = model._meta.db_table
    quote = schema_editor.quote_name
    for name in schema_editor._constraint_names(model, primary_key=True):
        schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    schema_editor.execute(
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} "
        f"PRIMARY KEY (organization_id, id)"
    )
    # Django's own statements (save, delete) look rows up by id alone.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(table + '_id_idx')} ON {quote(table)} (id)"
    )


def _add_foreign_key(schema_editor, model, field: models.ForeignKey) -> None:
    if field.db_constraint:
        raise ValueError(
            f"{model.__name__}.{field.name} must be declared with db_constraint=False: "
            "TenantKeys adds the composite constraint"
        )
    quote = schema_editor.quote_name
    table = model._meta.db_table
    target = field.related_model._meta.db_table
    if not _keyed_by_organization(schema_editor, target):
        # A target not keyed by organization yet needs the unique index a composite key uses.
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(target + '_org_id_uniq')} "
            f"ON {quote(target)} (organization_id, id)"
        )
    name = f"{table}_{field.column}_org_fk"[:63]
    schema_editor.execute(
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
        f"FOREIGN KEY (organization_id, {quote(field.column)}) "
        f"REFERENCES {quote(target)} (organization_id, id) DEFERRABLE INITIALLY DEFERRED"
    )


def _keyed_by_organization(schema_editor, table: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return any(
        c["primary_key"] and c["columns"] == ["organization_id", "id"] for c in constraints.values()
    )


class RekeyTenantTables(Operation):
    """Key tables made before the rule by `(organization_id, id)`, with composite foreign keys.

    `models` maps "app_label.Model" to the foreign-key fields to make composite (each already
    altered to `db_constraint=False`, which dropped Django's single-column constraint). Foreign
    keys that other tables hold to these tables, made composite by TenantKeys against a unique
    `(organization_id, id)` index, are moved onto the new primary keys and the index dropped.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, models: dict[str, list[str]]):
        self.models = {label: tuple(fields) for label, fields in models.items()}

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [],
            {"models": {label: list(fields) for label, fields in self.models.items()}},
        )

    def state_forwards(self, app_label, state) -> None:
        pass  # the model state does not change: Django's pk stays `id`

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        models_ = [to_state.apps.get_model(label) for label in self.models]
        tables = [model._meta.db_table for model in models_]
        quote = schema_editor.quote_name
        referencing = _drop_foreign_keys_to(schema_editor, tables)
        for model, table in zip(models_, tables, strict=True):
            _key_by_organization(schema_editor, model)
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(table + '_org_id_uniq')}")
        _restore_foreign_keys(schema_editor, referencing)
        for model, label in zip(models_, self.models, strict=True):
            for field_name in self.models[label]:
                _add_foreign_key(schema_editor, model, model._meta.get_field(field_name))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        models_ = [from_state.apps.get_model(label) for label in self.models]
        tables = [model._meta.db_table for model in models_]
        quote = schema_editor.quote_name
        referencing = _drop_foreign_keys_to(schema_editor, tables)
        referencing = [
            (table, name, definition)
            for table, name, definition in referencing
            if not name.endswith("_org_fk") or table not in tables
        ]
        for table in tables:
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(table + '_pkey')}"
            )
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(table + '_id_idx')}")
            schema_editor.execute(f"ALTER TABLE {quote(table)} ADD PRIMARY KEY (id)")
            schema_editor.execute(
                f"CREATE UNIQUE INDEX {quote(table + '_org_id_uniq')} "
                f"ON {quote(table)} (organization_id, id)"
            )
        _restore_foreign_keys(schema_editor, referencing)

    def describe(self) -> str:
        return f"Key {len(self.models)} tables by (organization_id, id)"

    @property
    def migration_name_fragment(self) -> str:
        return "rekey_tenant_tables"


def _drop_foreign_keys_to(schema_editor, tables: list[str]) -> list[tuple[str, str, str]]:
    """Drop every foreign key that references one of `tables`; returns (table, name,
    definition) of those that were composite, to be added again."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])",
            [tables],
        )
        found = cursor.fetchall()
    quote = schema_editor.quote_name
    for table, name, _definition in found:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    return [
        (table, name, definition)
        for table, name, definition in found
        if definition.startswith("FOREIGN KEY (organization_id,")
    ]


def _restore_foreign_keys(schema_editor, found: list[tuple[str, str, str]]) -> None:
    for table, name, definition in found:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {schema_editor.quote_name(name)} {definition}"
        )
