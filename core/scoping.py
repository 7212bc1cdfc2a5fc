"""Tenant scoping that fails closed (django-scopes behind our own names).

Inside `tenant_scope(organization)`, the default manager of every TenantModel filters by that
organization; outside any scope it raises, so a forgotten filter fails loudly instead of leaking.
`unscoped()` is for the few places that legitimately look across tenants (admin, migrations,
resolving an API key or a respondent token before the tenant is known).
"""

from contextlib import AbstractContextManager

from django_scopes import ScopeError, scope, scopes_disabled

__all__ = ["ScopeError", "no_rows", "tenant_scope", "unscoped"]


def tenant_scope(organization) -> AbstractContextManager:
    return scope(organization=organization)


def unscoped() -> AbstractContextManager:
    return scopes_disabled()


def no_rows(model):
    """An empty queryset of a tenant model where no tenant can be in scope: the OpenAPI schema
    is generated without a request, so a viewset's `get_queryset` cannot ask for its scope."""
    return model.all_objects.none()
