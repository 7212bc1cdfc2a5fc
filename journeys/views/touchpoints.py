"""Touchpoint pages and their measurement plans: add, edit (inline with HTMX), move, archive,
restore, delete; the touchpoint page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from journeys import selectors, services
from journeys.enums import Direction
from journeys.forms import (
    MeasurementPlanForm,
    MoveForm,
    TouchpointForm,
)
from journeys.models import Touchpoint
from journeys.views.map import (
    BUILD,
    _JourneysView,
    _redirect_to_map,
)


class TouchpointCreateView(_JourneysView):
    policy = BUILD
    template_name = "journeys/touchpoint_form.html"

    def get(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        form = TouchpointForm(owners=self.owners())
        return render(request, self.template_name, {"form": form, "stage": stage, "tp": None})

    def post(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        form = TouchpointForm(request.POST, owners=self.owners())
        if form.is_valid():
            try:
                touchpoint = services.touchpoint_create(
                    actor=self.actor, stage=stage, **form.service_kwargs()
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Touchpoint added."))
                return _redirect_to_map(stage.journey, f"tp-{touchpoint.public_id}")
        context = {"form": form, "stage": stage, "tp": None}
        return render(request, self.template_name, context, status=400)


class TouchpointDetailView(_JourneysView):
    """Details, owner and the measurement plan with baselines and targets; the current values
    are on the touchpoint dashboard (`reports:touchpoint`), linked from here."""

    def get(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        plans = list(touchpoint.measurement_plans.all())
        context = {
            "tp": touchpoint,
            "plans": plans,
            "plan_form": MeasurementPlanForm() if self.can_write else None,
            "can_write": self.can_write,
        }
        return render(request, "journeys/touchpoint_detail.html", context)


class TouchpointEditView(_JourneysView):
    """Edit a touchpoint: inside its card on the map with HTMX, or as a page."""

    policy = BUILD

    def _form(self, touchpoint: Touchpoint, data=None) -> TouchpointForm:
        stages = selectors.stage_list(organization=self.organization, journey=touchpoint.journey)
        initial = {"stage": touchpoint.stage.public_id}
        if touchpoint.owner:
            initial["owner"] = touchpoint.owner.public_id
        return TouchpointForm(
            data,
            instance=touchpoint,
            initial=initial,
            owners=self.owners(),
            stages=stages,
            auto_id=f"tp-{touchpoint.public_id}-%s",  # several cards may be open at once
        )

    def _render(self, request, touchpoint: Touchpoint, form, status=200):
        if request.htmx:
            template, status = "journeys/partials/touchpoint_edit.html", 200
        else:
            template = "journeys/touchpoint_form.html"
        context = {"form": form, "tp": touchpoint, "stage": touchpoint.stage}
        return render(request, template, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        return self._render(request, touchpoint, self._form(touchpoint))

    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        form = self._form(touchpoint, request.POST)
        if form.is_valid():
            old_stage_id = touchpoint.stage_id
            try:
                services.touchpoint_update(
                    actor=self.actor, touchpoint=touchpoint, **form.service_kwargs()
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                if request.htmx and touchpoint.stage_id != old_stage_id:
                    context = self.map_context(touchpoint.journey, _("Touchpoint moved."))
                    response = render(request, "journeys/partials/board.html", context)
                    response["HX-Retarget"] = "#journey-board"
                    response["HX-Reswap"] = "outerHTML"
                    return response
                if request.htmx:
                    return self.card(request, touchpoint)
                messages.success(request, _("Touchpoint saved."))
                if request.POST.get("next") == "map":
                    return _redirect_to_map(touchpoint.journey, f"tp-{touchpoint.public_id}")
                return redirect(
                    "journeys:touchpoint",
                    org_slug=self.organization.slug,
                    public_id=touchpoint.public_id,
                )
        return self._render(request, touchpoint, form, status=400)


class TouchpointMoveView(_JourneysView):
    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        form = MoveForm(request.POST)
        if form.is_valid():
            services.touchpoint_move(actor=self.actor, touchpoint=touchpoint, **form.cleaned_data)
            direction = form.cleaned_data["direction"]
            message = (
                _("%(name)s moved up.") if direction == Direction.UP else _("%(name)s moved down.")
            ) % {"name": touchpoint.name}
        else:
            message = _("Choose up or down.")
        if request.htmx:
            context = self.map_context(touchpoint.journey, status_message=message)
            return render(request, "journeys/partials/board.html", context)
        messages.success(request, message)
        return _redirect_to_map(touchpoint.journey, f"tp-{touchpoint.public_id}")


class TouchpointArchiveView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def get(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        context = {
            "title": _("Archive the touchpoint %(name)s?") % {"name": touchpoint.name},
            "explanation": _(
                "It leaves the journey map and its measurement stops; its feedback and history "
                "stay, and you can restore it at any time."
            ),
            "button": _("Archive"),
            "danger": False,
            "back_to": touchpoint,
        }
        return render(request, self.template_name, context)

    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        services.touchpoint_archive(actor=self.actor, touchpoint=touchpoint)
        messages.success(request, _("%(name)s was archived.") % {"name": touchpoint.name})
        return _redirect_to_map(touchpoint.journey)


class TouchpointRestoreView(_JourneysView):
    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        services.touchpoint_restore(actor=self.actor, touchpoint=touchpoint)
        messages.success(request, _("%(name)s is back on the map.") % {"name": touchpoint.name})
        return _redirect_to_map(touchpoint.journey, f"tp-{touchpoint.public_id}")


class TouchpointDeleteView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def _context(self, touchpoint: Touchpoint) -> dict:
        return {
            "title": _("Delete the touchpoint %(name)s?") % {"name": touchpoint.name},
            "explanation": _(
                "The touchpoint and its measurement plan are deleted for good. A touchpoint "
                "that has collected feedback cannot be deleted: archive it instead."
            ),
            "button": _("Delete for good"),
            "danger": True,
            "back_to": touchpoint,
            "archive_touchpoint": touchpoint,
        }

    def get(self, request, public_id: str, **kwargs):
        return render(request, self.template_name, self._context(self.touchpoint(public_id)))

    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        try:
            services.touchpoint_delete(actor=self.actor, touchpoint=touchpoint)
        except ApplicationError as error:
            context = self._context(touchpoint) | {"error": error.message}
            return render(request, self.template_name, context, status=error.status_code)
        messages.success(request, _("%(name)s was deleted.") % {"name": touchpoint.name})
        return _redirect_to_map(touchpoint.journey)


def _redirect_to_touchpoint(touchpoint: Touchpoint):
    return redirect(
        "journeys:touchpoint",
        org_slug=touchpoint.organization.slug,
        public_id=touchpoint.public_id,
    )


class MeasurementPlanCreateView(_JourneysView):
    policy = BUILD
    template_name = "journeys/plan_form.html"

    def get(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        context = {"form": MeasurementPlanForm(), "tp": touchpoint, "plan": None}
        return render(request, self.template_name, context)

    def post(self, request, public_id: str, **kwargs):
        touchpoint = self.touchpoint(public_id)
        form = MeasurementPlanForm(request.POST)
        if form.is_valid():
            try:
                services.measurement_plan_create(
                    actor=self.actor, touchpoint=touchpoint, **form.cleaned_data
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Metric added to the measurement plan."))
                return _redirect_to_touchpoint(touchpoint)
        context = {"form": form, "tp": touchpoint, "plan": None}
        return render(request, self.template_name, context, status=400)


class MeasurementPlanEditView(_JourneysView):
    policy = BUILD
    template_name = "journeys/plan_form.html"

    def get(self, request, public_id: str, **kwargs):
        plan = self.plan(public_id)
        context = {"form": MeasurementPlanForm(instance=plan), "tp": plan.touchpoint, "plan": plan}
        return render(request, self.template_name, context)

    def post(self, request, public_id: str, **kwargs):
        plan = self.plan(public_id)
        form = MeasurementPlanForm(request.POST, instance=plan)
        if form.is_valid():
            try:
                services.measurement_plan_update(actor=self.actor, plan=plan, **form.cleaned_data)
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Measurement plan saved."))
                return _redirect_to_touchpoint(plan.touchpoint)
        context = {"form": form, "tp": plan.touchpoint, "plan": plan}
        return render(request, self.template_name, context, status=400)


class MeasurementPlanDeleteView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def get(self, request, public_id: str, **kwargs):
        plan = self.plan(public_id)
        context = {
            "title": _("Stop measuring %(metric)s at %(name)s?")
            % {"metric": plan.get_metric_display(), "name": plan.touchpoint.name},
            "explanation": _("The metric, its baseline and target leave the measurement plan."),
            "button": _("Remove"),
            "danger": True,
            "back_to": plan.touchpoint,
        }
        return render(request, self.template_name, context)

    def post(self, request, public_id: str, **kwargs):
        plan = self.plan(public_id)
        touchpoint = plan.touchpoint
        services.measurement_plan_delete(actor=self.actor, plan=plan)
        messages.success(request, _("Metric removed from the measurement plan."))
        return _redirect_to_touchpoint(touchpoint)
