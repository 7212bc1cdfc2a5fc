"""factory_boy factories of the journeys app (rows are created unscoped, like the shared ones)."""

import factory

from journeys.enums import Channel, Metric
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint


class _Unscoped(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.all_objects.create(*args, **kwargs)


class JourneyFactory(_Unscoped):
    class Meta:
        model = Journey

    name = factory.Sequence(lambda n: f"Journey {n}")
    segment = "B2C web shop"


class StageFactory(_Unscoped):
    class Meta:
        model = Stage

    journey = factory.SubFactory(JourneyFactory)
    organization = factory.SelfAttribute("journey.organization")
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.LazyAttribute(lambda o: Stage.all_objects.filter(journey=o.journey).count())


class TouchpointFactory(_Unscoped):
    class Meta:
        model = Touchpoint

    stage = factory.SubFactory(StageFactory)
    journey = factory.SelfAttribute("stage.journey")
    organization = factory.SelfAttribute("stage.organization")
    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    channel = Channel.WEB
    is_digital = True
    position = factory.LazyAttribute(lambda o: Touchpoint.all_objects.filter(stage=o.stage).count())


class MeasurementPlanFactory(_Unscoped):
    class Meta:
        model = MeasurementPlan

    touchpoint = factory.SubFactory(TouchpointFactory)
    organization = factory.SelfAttribute("touchpoint.organization")
    metric = Metric.NPS
