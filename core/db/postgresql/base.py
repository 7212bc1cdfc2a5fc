"""Django's PostgreSQL backend, told that tenant tables are keyed by `(organization_id, id)`.

Django groups an aggregate query by a model's primary key alone when it selects the whole row,
counting on PostgreSQL to see that the other columns depend on that key. At the database a
tenant table's primary key is `(organization_id, id)` (core.tenant_keys) while Django's `pk` is
`id`, so PostgreSQL would refuse such a query: for tenant models every selected column is
grouped by instead.
"""

from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model) -> bool:
        keyed_by_organization = any(
            field.attname == "organization_id" for field in model._meta.concrete_fields
        )
        return not keyed_by_organization and super().allows_group_by_selected_pks_on_model(model)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
