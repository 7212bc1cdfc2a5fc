"""The migrated schema can be sharded by organization (ARCHITECTURE.md, "Growing past one
machine"; issue 18): read from PostgreSQL's catalog, not from the models.

Every table with an `organization_id` column (tenancy_organization and the `*_handle`
directory aside) has the primary key `(organization_id, id)`, only unique constraints that
include `organization_id`, and only composite foreign keys `(organization_id, x_id) ->
(organization_id, id)` to other such tables; no other table references one of them.
"""

import pytest
from django.apps import apps
from django.db import connection

from core.models import TenantModel

pytestmark = pytest.mark.django_db

EXCEPTIONS = {"tenancy_organization"}


def tenant_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'organization_id'"
        )
        found = {name for (name,) in cursor.fetchall()}
    return {name for name in found if name not in EXCEPTIONS and not name.endswith("_handle")}


def _constraints() -> list[tuple[str, str, list[str], str | None, list[str]]]:
    """(table, kind, columns, referenced table, referenced columns) of every primary key,
    unique constraint or index and foreign key in the schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.contype,
                   ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                         ORDER BY k.i),
                   c.confrelid::regclass::text,
                   ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                         ORDER BY k.i)
            FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace
            WHERE s.nspname = current_schema() AND c.contype IN ('p', 'u', 'f')
            UNION ALL
            SELECT i.indrelid::regclass::text, 'u',
                   ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                         ORDER BY k.o),
                   NULL, ARRAY[]::name[]
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace s ON s.oid = t.relnamespace
            WHERE s.nspname = current_schema() AND i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """
        )
        return [
            (table, kind, list(columns), target if kind == "f" else None, list(target_columns))
            for table, kind, columns, target, target_columns in cursor.fetchall()
        ]


def catalog_violations() -> list[str]:
    tenant = tenant_tables()
    found = []
    primary = {table: columns for table, kind, columns, *_ in _constraints() if kind == "p"}
    for table in sorted(tenant):
        if primary.get(table) != ["organization_id", "id"]:
            found.append(f"{table}: primary key {primary.get(table)}")
    for table, kind, columns, target, target_columns in _constraints():
        if kind == "u" and table in tenant and "organization_id" not in columns:
            found.append(f"{table}: unique {columns} without organization_id")
        if kind == "f" and target in tenant:
            if table not in tenant:
                found.append(f"{table}: a table not keyed by organization references {target}")
            elif columns[0] != "organization_id" or target_columns != ["organization_id", "id"]:
                found.append(f"{table}: foreign key {columns} -> {target} {target_columns}")
    return found


def test_the_migrated_schema_passes_the_catalog_check():
    assert catalog_violations() == []


def test_every_tenant_model_is_checked():
    checked = tenant_tables()
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            assert model._meta.db_table in checked, model


def test_the_catalog_check_finds_each_kind_of_violation():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE bad_parent (id bigint PRIMARY KEY, organization_id bigint NOT NULL);
            CREATE TABLE bad_child (
                id bigint, organization_id bigint NOT NULL,
                parent_id bigint REFERENCES bad_parent (id),
                slug varchar(10) UNIQUE,
                PRIMARY KEY (organization_id, id)
            );
            CREATE TABLE bad_reference (id bigint PRIMARY KEY,
                                        child_id bigint REFERENCES bad_parent (id));
            CREATE TABLE good_handle (value varchar(10) PRIMARY KEY, organization_id bigint);
            """
        )
    assert sorted(catalog_violations()) == [
        "bad_child: foreign key ['parent_id'] -> bad_parent ['id']",
        "bad_child: unique ['slug'] without organization_id",
        "bad_parent: primary key ['id']",
        "bad_reference: a table not keyed by organization references bad_parent",
    ]
