import pytest

from tenancy.actors import Actor
from tenancy.models import Membership
from tests.journeys.factories import (
    JourneyFactory,
    MeasurementPlanFactory,
    StageFactory,
    TouchpointFactory,
)


@pytest.fixture
def cx_actor(personas, org) -> Actor:
    membership = Membership.all_objects.get(user=personas.cx_manager, organization=org)
    return Actor.for_membership(membership)


@pytest.fixture
def journey(org):
    return JourneyFactory(organization=org, name="B2C web shop")


@pytest.fixture
def stages(journey):
    """Three stages of `journey`: awareness, purchase, support."""
    return [StageFactory(journey=journey, name=n) for n in ("Awareness", "Purchase", "Support")]


@pytest.fixture
def touchpoint(stages, personas):
    tp = TouchpointFactory(stage=stages[1], name="Web shop checkout", is_key=True)
    MeasurementPlanFactory(touchpoint=tp, metric="ces", target_value="5.5")
    return tp


@pytest.fixture
def foreign_touchpoint(other_org):
    """A touchpoint of the other organization: everyone in `org` must get 404 for it."""
    return TouchpointFactory(stage=StageFactory(journey=JourneyFactory(organization=other_org)))
