"""Pages of journeys: editing the map; the scores are on the pages of `reports`."""

from journeys.views.journeys import (
    JourneyArchiveView,
    JourneyCopyView,
    JourneyCreateView,
    JourneyDeleteView,
    JourneyEditView,
    JourneyListView,
    JourneyRestoreView,
)
from journeys.views.map import JourneyMapView
from journeys.views.stages import StageCreateView, StageDeleteView, StageEditView, StageMoveView
from journeys.views.touchpoints import (
    MeasurementPlanCreateView,
    MeasurementPlanDeleteView,
    MeasurementPlanEditView,
    TouchpointArchiveView,
    TouchpointCreateView,
    TouchpointDeleteView,
    TouchpointDetailView,
    TouchpointEditView,
    TouchpointMoveView,
    TouchpointRestoreView,
)

__all__ = [
    "JourneyArchiveView",
    "JourneyCopyView",
    "JourneyCreateView",
    "JourneyDeleteView",
    "JourneyEditView",
    "JourneyListView",
    "JourneyMapView",
    "JourneyRestoreView",
    "MeasurementPlanCreateView",
    "MeasurementPlanDeleteView",
    "MeasurementPlanEditView",
    "StageCreateView",
    "StageDeleteView",
    "StageEditView",
    "StageMoveView",
    "TouchpointArchiveView",
    "TouchpointCreateView",
    "TouchpointDeleteView",
    "TouchpointDetailView",
    "TouchpointEditView",
    "TouchpointMoveView",
    "TouchpointRestoreView",
]
