"""New tables are keyed by organization from their first migration (ARCHITECTURE.md)."""

import pytest
from django.apps import apps
from django.db import connection

from core.models import TenantModel

pytestmark = pytest.mark.django_db
KEYED_APPS = ("alerts", "reports", "webhooks")
# Tables of older apps created after the rule came in (their older tables predate it).
KEYED_MODELS = (
    "surveys.ResponseImport",
    "surveys.ResponseImportError",
    "core.OutboxMessage",
    "distribution.KioskDevice",
)


def _keyed_models():
    return [
        model
        for app in KEYED_APPS
        for model in apps.get_app_config(app).get_models()
        if issubclass(model, TenantModel)
    ] + [apps.get_model(label) for label in KEYED_MODELS]


def _constraints(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


@pytest.mark.parametrize("model", _keyed_models(), ids=lambda m: m._meta.label)
def test_primary_key_is_organization_and_id(model):
    primary = [c for c in _constraints(model._meta.db_table).values() if c["primary_key"]]
    assert [c["columns"] for c in primary] == [["organization_id", "id"]]


@pytest.mark.parametrize("model", _keyed_models(), ids=lambda m: m._meta.label)
def test_every_unique_constraint_includes_the_organization(model):
    for name, constraint in _constraints(model._meta.db_table).items():
        if constraint["unique"] and not constraint["primary_key"]:
            assert "organization_id" in constraint["columns"], name


@pytest.mark.parametrize("model", _keyed_models(), ids=lambda m: m._meta.label)
def test_foreign_keys_to_tenant_tables_are_composite(model):
    tenant_tables = {m._meta.db_table for m in apps.get_models() if issubclass(m, TenantModel)}
    foreign = [c for c in _constraints(model._meta.db_table).values() if c["foreign_key"]]
    for constraint in foreign:
        target_table, _column = constraint["foreign_key"]
        if target_table in tenant_tables:
            assert constraint["columns"][0] == "organization_id", constraint
