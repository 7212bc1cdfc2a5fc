"""Pages of journeys: the list, the journey map, the touchpoint page and their forms.

These pages edit; they show no scores. Current values, trends and the heatmap are pages of
`reports` (which may import metrics), linked from here.
HTMX enhances the map (inline edits, moves) and every request also works as a plain form post.
HTMX fragments that carry form errors answer 200, because htmx 2 does not swap 4xx answers;
the same forms posted without JavaScript answer 400.
"""

from django.shortcuts import redirect, render

from journeys import selectors
from journeys.forms import (
    StageForm,
)
from journeys.models import Journey, MeasurementPlan, Stage, Touchpoint
from tenancy import policies
from tenancy.views import OrganizationView

# Forms and confirmation pages are for builders only: a viewer gets 403 on GET as well as POST.
BUILD = policies.Policy(read=policies.Permission.BUILD, write=policies.Permission.BUILD)


def _redirect_to_map(journey: Journey, anchor: str = ""):
    response = redirect(
        "journeys:journey", org_slug=journey.organization.slug, public_id=journey.public_id
    )
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


class _JourneysView(OrganizationView):
    policy = policies.JOURNEYS

    @property
    def can_write(self) -> bool:
        return self.actor.can(policies.JOURNEYS.write)

    # The scope guarantees these rows belong to self.organization; caching it on them saves a
    # query wherever a URL or an audit row needs the organization.
    def journey(self, public_id: str) -> Journey:
        journey = selectors.access_journey(organization=self.organization, public_id=public_id)
        journey.organization = self.organization
        return journey

    def stage(self, public_id: str) -> Stage:
        stage = selectors.access_stage(organization=self.organization, public_id=public_id)
        stage.organization = stage.journey.organization = self.organization
        return stage

    def touchpoint(self, public_id: str) -> Touchpoint:
        tp = selectors.access_touchpoint(organization=self.organization, public_id=public_id)
        tp.organization = tp.journey.organization = tp.stage.organization = self.organization
        return tp

    def plan(self, public_id: str) -> MeasurementPlan:
        plan = selectors.access_measurement_plan(
            organization=self.organization, public_id=public_id
        )
        plan.organization = plan.touchpoint.organization = self.organization
        return plan

    def owners(self):
        return selectors.owner_candidates(organization=self.organization)

    def map_context(self, journey: Journey, status_message: str = "") -> dict:
        stages = selectors.journey_map(organization=self.organization, journey=journey)
        return {
            "journey": journey,
            "stages": stages,
            "archived_touchpoints": [t for s in stages for t in s.archived_touchpoints],
            "can_write": self.can_write,
            "status_message": status_message,
        }

    def card(self, request, touchpoint: Touchpoint):
        plans = list(touchpoint.measurement_plans.all())
        context = {"tp": touchpoint, "plans": plans, "can_write": self.can_write}
        return render(request, "journeys/partials/touchpoint_card.html", context)


class JourneyMapView(_JourneysView):
    """The journey map: stages as columns, touchpoints as cards with their planned metrics,
    baselines and targets. Scores are on the heatmap, `reports:journey`."""

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        context = self.map_context(journey)
        context["stage_form"] = StageForm()
        return render(request, "journeys/journey_map.html", context)
