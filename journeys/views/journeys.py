"""Pages of journeys: the list, create, edit, copy, archive, restore and delete."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from journeys import selectors, services
from journeys.enums import JourneyStatus
from journeys.forms import (
    JourneyCopyForm,
    JourneyForm,
)
from journeys.models import Journey
from journeys.views.map import (
    BUILD,
    _JourneysView,
    _redirect_to_map,
)


class JourneyListView(_JourneysView):
    """Active journeys, then archived ones, each with its numbers of stages and touchpoints."""

    def get(self, request, **kwargs):
        journeys = list(selectors.journey_list(organization=self.organization))
        context = {
            "active": [j for j in journeys if j.status == JourneyStatus.ACTIVE],
            "archived": [j for j in journeys if j.status == JourneyStatus.ARCHIVED],
            "can_write": self.can_write,
        }
        return render(request, "journeys/journey_list.html", context)


class JourneyCreateView(_JourneysView):
    policy = BUILD
    template_name = "journeys/journey_form.html"

    def get(self, request, **kwargs):
        return render(request, self.template_name, {"form": JourneyForm(), "journey": None})

    def post(self, request, **kwargs):
        form = JourneyForm(request.POST)
        if form.is_valid():
            journey = services.journey_create(
                actor=self.actor, organization=self.organization, **form.cleaned_data
            )
            messages.success(request, _("Journey created. Add its stages next."))
            return _redirect_to_map(journey)
        return render(request, self.template_name, {"form": form, "journey": None}, status=400)


class JourneyEditView(_JourneysView):
    policy = BUILD
    template_name = "journeys/journey_form.html"

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        form = JourneyForm(instance=journey)
        return render(request, self.template_name, {"form": form, "journey": journey})

    def post(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        form = JourneyForm(request.POST, instance=journey)
        if form.is_valid():
            services.journey_update(actor=self.actor, journey=journey, **form.cleaned_data)
            messages.success(request, _("Journey saved."))
            return _redirect_to_map(journey)
        return render(request, self.template_name, {"form": form, "journey": journey}, status=400)


class JourneyCopyView(_JourneysView):
    policy = BUILD
    template_name = "journeys/journey_copy.html"

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        form = JourneyCopyForm(
            initial={"name": _("Copy of %(name)s") % {"name": journey.name}, "segment": ""}
        )
        return render(request, self.template_name, {"form": form, "journey": journey})

    def post(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        form = JourneyCopyForm(request.POST)
        if form.is_valid():
            copy = services.journey_copy(actor=self.actor, journey=journey, **form.cleaned_data)
            messages.success(request, _("Journey copied. Set owners and references as needed."))
            return _redirect_to_map(copy)
        return render(request, self.template_name, {"form": form, "journey": journey}, status=400)


class JourneyArchiveView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        return render(request, self.template_name, _confirm_journey_archive(journey))

    def post(self, request, public_id: str, **kwargs):
        journey = services.journey_archive(actor=self.actor, journey=self.journey(public_id))
        messages.success(request, _("%(name)s was archived.") % {"name": journey.name})
        return redirect("journeys:journeys", org_slug=self.organization.slug)


class JourneyRestoreView(_JourneysView):
    def post(self, request, public_id: str, **kwargs):
        journey = services.journey_restore(actor=self.actor, journey=self.journey(public_id))
        messages.success(request, _("%(name)s is active again.") % {"name": journey.name})
        return _redirect_to_map(journey)


class JourneyDeleteView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        return render(request, self.template_name, _confirm_journey_delete(journey))

    def post(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        try:
            services.journey_delete(actor=self.actor, journey=journey)
        except ApplicationError as error:
            context = _confirm_journey_delete(journey) | {"error": error.message}
            return render(request, self.template_name, context, status=error.status_code)
        messages.success(request, _("%(name)s was deleted.") % {"name": journey.name})
        return redirect("journeys:journeys", org_slug=self.organization.slug)


def _confirm_journey_archive(journey: Journey) -> dict:
    return {
        "title": _("Archive %(name)s?") % {"name": journey.name},
        "explanation": _(
            "The journey moves to the archived list. Its stages, touchpoints and history stay, "
            "and you can restore it at any time."
        ),
        "button": _("Archive"),
        "danger": False,
        "back_to": journey,
    }


def _confirm_journey_delete(journey: Journey) -> dict:
    return {
        "title": _("Delete %(name)s?") % {"name": journey.name},
        "explanation": _(
            "The journey, its stages, touchpoints and measurement plans are deleted for good. "
            "Journeys whose touchpoints have collected feedback cannot be deleted: archive them."
        ),
        "button": _("Delete for good"),
        "danger": True,
        "back_to": journey,
    }
