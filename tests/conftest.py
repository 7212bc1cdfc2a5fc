"""Fixtures every test module shares: two organizations and the personas of each.

`org` is the organization under test; `other_org` belongs to an outsider, whose objects must
answer 404 to everyone in `org`.
"""

from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.test import Client
from rest_framework.test import APIClient

from cxplatform.celery import app as celery_app
from tenancy.enums import Role
from tenancy.scoping import tenant_scope
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_api_key

pytest_plugins = [
    "tests.plugins.smtp",
    "tests.plugins.browser",
    "tests.plugins.fake_twilio",
    "tests.plugins.worker",
    "tests.plugins.private_postgres",
    "tests.plugins.webhook_receiver",
]


@receiver(setting_changed)
def _apply_celery_settings(setting: str, value, **kwargs) -> None:
    """Celery reads Django's settings once; keep it in step with pytest-django's `settings` fixture,
    which also restores the old value (and sends this signal again) after each test."""
    if not setting.startswith("CELERY_"):
        return
    key = setting.removeprefix("CELERY_").lower()
    if hasattr(django_settings, setting):
        celery_app.conf[key] = value
    else:  # the test added a setting Django never had: let Celery's default show through again
        celery_app.conf.changes.pop(key, None)
    if key.startswith("broker_"):
        # Pools keep connections to the old broker; drop them so the next send uses the new one.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


@dataclass
class Personas:
    owner: object
    admin: object
    cx_manager: object
    analyst: object
    viewer: object
    outsider: object  # a member of other_org only


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every test makes a dozen users; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    # Tests own Redis database 15 (REDIS_URL in `make test`); axes and rate limits live there.
    cache.clear()
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme Oy", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Rival Ab", slug="rival")


@pytest.fixture
def personas(org, other_org) -> Personas:
    def member(role: str, organization=org):
        return MembershipFactory(organization=organization, role=role, user=UserFactory()).user

    return Personas(
        owner=member(Role.OWNER),
        admin=member(Role.ADMIN),
        cx_manager=member(Role.CX_MANAGER),
        analyst=member(Role.ANALYST),
        viewer=member(Role.VIEWER),
        outsider=member(Role.OWNER, other_org),
    )


@pytest.fixture
def scoped(org):
    """Run the test body inside `org`'s tenant scope (for services and selectors)."""
    with tenant_scope(org):
        yield org


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(personas) -> Client:
    return client_for(personas.owner)


@pytest.fixture
def cx_client(personas) -> Client:
    return client_for(personas.cx_manager)


@pytest.fixture
def viewer_client(personas) -> Client:
    return client_for(personas.viewer)


@pytest.fixture
def outsider_client(personas) -> Client:
    return client_for(personas.outsider)


def api_client_with_key(full_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {full_key}")
    return client


@pytest.fixture
def write_api(org) -> APIClient:
    """An API client holding a read-write key of `org`."""
    return api_client_with_key(make_api_key(org, scope="write")[1])


@pytest.fixture
def read_api(org) -> APIClient:
    return api_client_with_key(make_api_key(org, scope="read")[1])


@pytest.fixture
def outsider_api(other_org) -> APIClient:
    """A read-write key of the other organization: everything of `org` must answer 404 to it."""
    return api_client_with_key(make_api_key(other_org, scope="write")[1])
