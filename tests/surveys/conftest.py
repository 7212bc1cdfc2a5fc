import time
import types

import django_ratelimit.core
import pytest

from surveys.signals import response_submitted
from tenancy.actors import Actor
from tenancy.models import Membership


@pytest.fixture
def cx_actor(personas, org) -> Actor:
    membership = Membership.all_objects.get(user=personas.cx_manager, organization=org)
    return Actor.for_membership(membership)


@pytest.fixture
def submitted_signals():
    """Every `response_submitted` sent during the test, as (organization_id, response_id)."""
    received: list[tuple[int, int]] = []

    def listener(sender, organization_id, response_id, **kwargs):
        received.append((organization_id, response_id))

    response_submitted.connect(listener, dispatch_uid="tests.surveys.listener")
    yield received
    response_submitted.disconnect(dispatch_uid="tests.surveys.listener")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas' passwords are hashed for every test; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def one_rate_window(monkeypatch):
    """django-ratelimit counts in fixed one-minute windows, so a slow run of posts could straddle
    two and never reach the limit. Its clock stands still (it reads the clock for nothing else)."""
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))
