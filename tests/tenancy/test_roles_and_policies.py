"""What each role and key may do, and the architecture rule that keeps tenants apart."""

import itertools

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from tenancy import policies
from tenancy.actors import Actor
from tenancy.api import OrganizationAPIView
from tenancy.enums import Role
from tenancy.models import Membership, Organization
from tenancy.policies import API_KEY_SCOPE_PERMISSIONS, ROLE_PERMISSIONS, Permission
from tenancy.scoping import ScopeError, tenant_scope, unscoped
from tenancy.views import OrganizationView
from tests.factories import make_api_key

P = Permission


# The architecture rule


def tenant_models() -> list[type[models.Model]]:
    """Every installed model with an `organization` field, i.e. every row a tenant owns. The
    `*_handle` directories are not: they are read before the organization is known, to find it
    (ARCHITECTURE.md, "Growing past one machine")."""
    found = []
    for model in apps.get_models():
        if model._meta.db_table.endswith("_handle"):
            continue
        try:
            model._meta.get_field("organization")
        except FieldDoesNotExist:
            continue
        found.append(model)
    return found


def test_every_model_with_an_organization_has_a_scoped_default_manager():
    offenders = []
    for model in tenant_models():
        manager = model._default_manager
        scoped = hasattr(manager, "with_scopes_disabled") and hasattr(manager, "with_scope")
        if not scoped:
            offenders.append(model._meta.label)
    assert offenders == [], (
        "These models have an organization but their default manager is not django-scopes' "
        "ScopedManager (inherit core.models.TenantModel): " + ", ".join(offenders)
    )


@pytest.mark.django_db
def test_every_tenant_model_refuses_queries_outside_a_tenant_scope():
    leaky = []
    for model in tenant_models():
        try:
            list(model._default_manager.all()[:1])
        except ScopeError:
            continue
        leaky.append(model._meta.label)
    assert leaky == [], "queried without a tenant scope: " + ", ".join(leaky)


def test_the_architecture_rule_sees_the_platforms_own_tenant_models():
    labels = {model._meta.label for model in tenant_models()}
    assert {"tenancy.Membership", "accounts.ApiKey", "core.ActivityLog"} <= labels
    assert "tenancy.Organization" not in labels


def test_tenant_models_keep_an_explicit_unscoped_manager_for_admin_and_migrations():
    for model in tenant_models():
        assert hasattr(model, "all_objects"), model._meta.label
        assert not hasattr(model.all_objects, "with_scopes_disabled"), model._meta.label


@pytest.mark.django_db
def test_inside_a_scope_only_that_organizations_rows_are_seen(personas, org, other_org):
    with tenant_scope(org):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    assert personas.outsider.email not in emails
    assert len(emails) == 5
    with tenant_scope(other_org):
        assert list(Membership.objects.values_list("user__email", flat=True)) == [
            personas.outsider.email
        ]
    with unscoped():
        assert Membership.objects.count() == 6


# Policies: one place decides what each role may do


def test_viewers_only_read():
    assert ROLE_PERMISSIONS[Role.VIEWER] == {P.VIEW}


def test_analysts_read_export_and_share_dashboards():
    assert ROLE_PERMISSIONS[Role.ANALYST] == {P.VIEW, P.EXPORT, P.SHARE}


def test_cx_managers_build_and_handle_cases_but_manage_nobody():
    permissions = ROLE_PERMISSIONS[Role.CX_MANAGER]
    assert {P.VIEW, P.EXPORT, P.SHARE, P.BUILD, P.HANDLE_CASES} == permissions
    assert P.MANAGE_MEMBERS not in permissions


def test_admins_and_owners_manage_members_keys_and_the_organization():
    for role in (Role.ADMIN, Role.OWNER):
        assert ROLE_PERMISSIONS[role] == frozenset(Permission)


def test_every_role_has_its_permissions():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_roles_grow_monotonically_from_viewer_to_owner():
    order = [Role.VIEWER, Role.ANALYST, Role.CX_MANAGER, Role.ADMIN, Role.OWNER]
    for lower, higher in itertools.pairwise(order):
        assert ROLE_PERMISSIONS[lower] <= ROLE_PERMISSIONS[higher]


def test_api_keys_never_manage_people_keys_or_the_organization():
    for scope, permissions in API_KEY_SCOPE_PERMISSIONS.items():
        assert not permissions & {P.MANAGE_MEMBERS, P.MANAGE_KEYS, P.MANAGE_ORGANIZATION}, scope
    assert API_KEY_SCOPE_PERMISSIONS["read"] == {P.VIEW, P.EXPORT}
    assert {P.BUILD, P.SHARE} <= API_KEY_SCOPE_PERMISSIONS["write"]


@pytest.mark.parametrize(
    ("policy", "reader", "writer"),
    [
        (policies.SURVEYS, Role.VIEWER, Role.CX_MANAGER),
        (policies.JOURNEYS, Role.VIEWER, Role.CX_MANAGER),
        (policies.CASES, Role.VIEWER, Role.CX_MANAGER),
        (policies.MEMBERS, Role.VIEWER, Role.ADMIN),
        (policies.API_KEYS, Role.ADMIN, Role.ADMIN),
        (policies.ACTIVITY, Role.ADMIN, Role.ADMIN),
        (policies.ORGANIZATION, Role.VIEWER, Role.ADMIN),
        (policies.DIGESTS, Role.VIEWER, Role.ANALYST),
        (policies.SHARE_LINKS, Role.ANALYST, Role.ANALYST),
    ],
)
def test_each_resource_names_the_least_role_that_reads_and_writes_it(policy, reader, writer):
    order = [Role.VIEWER, Role.ANALYST, Role.CX_MANAGER, Role.ADMIN, Role.OWNER]
    readers = [role for role in order if policy.read in ROLE_PERMISSIONS[role]]
    writers = [role for role in order if policy.write in ROLE_PERMISSIONS[role]]
    assert readers[0] == reader
    assert writers[0] == writer


@pytest.mark.django_db
def test_actors_carry_the_permissions_of_their_role_or_key(org, personas):
    analyst = Actor.for_membership(
        Membership.all_objects.select_related("organization", "user").get(user=personas.analyst)
    )
    assert analyst.can(P.EXPORT) and not analyst.can(P.BUILD)
    assert analyst.role == Role.ANALYST and analyst.label == personas.analyst.email

    read_key, _ = make_api_key(org, scope="read", name="BI")
    key_actor = Actor.for_api_key(read_key)
    assert key_actor.can(P.VIEW) and not key_actor.can(P.BUILD)
    assert read_key.prefix in key_actor.label
    assert key_actor.user is None

    assert Actor.system(org).can(P.MANAGE_ORGANIZATION)


# Base classes cannot be bypassed


def test_a_page_cannot_override_dispatch_and_skip_the_membership_check():
    with pytest.raises(TypeError, match="dispatch"):

        class Sneaky(OrganizationView):
            policy = policies.ORGANIZATION

            def dispatch(self, request, *args, **kwargs):
                return super(OrganizationView, self).dispatch(request, *args, **kwargs)


@pytest.mark.parametrize("method", ["dispatch", "initial"])
def test_an_api_view_cannot_override_the_tenant_checks(method):
    with pytest.raises(TypeError, match=method):
        type("Sneaky", (OrganizationAPIView,), {method: lambda self, *a, **k: None})


def test_organizations_themselves_are_not_tenant_rows():
    with pytest.raises(FieldDoesNotExist):
        Organization._meta.get_field("organization")
