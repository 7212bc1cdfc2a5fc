"""Endpoints pointing at the local receiving server (tests.plugins.webhook_receiver)."""

import pytest

from tenancy.actors import Actor
from tenancy.models import Membership
from webhooks.services import endpoint_create


@pytest.fixture
def owner_actor(org, personas) -> Actor:
    return Actor.for_membership(Membership.all_objects.get(user=personas.owner, organization=org))


@pytest.fixture
def make_endpoint(org, owner_actor, receiver, loopback_allowed, django_capture_on_commit_callbacks):
    def make(events=("response.submitted",), **fields):
        with django_capture_on_commit_callbacks(execute=True):  # refreshes the subscriptions
            return endpoint_create(
                actor=owner_actor,
                organization=org,
                url=fields.pop("url", receiver.url),
                events=list(events),
                **fields,
            )

    return make
