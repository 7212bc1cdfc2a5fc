"""Stage pages: add, rename (inline with HTMX), move, delete."""

from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from journeys import services
from journeys.forms import (
    MoveForm,
    StageForm,
)
from journeys.models import Stage
from journeys.views.map import (
    BUILD,
    _JourneysView,
    _redirect_to_map,
)


class StageCreateView(_JourneysView):
    policy = BUILD
    template_name = "journeys/stage_form.html"

    def get(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        return render(request, self.template_name, {"form": StageForm(), "journey": journey})

    def post(self, request, public_id: str, **kwargs):
        journey = self.journey(public_id)
        form = StageForm(request.POST)
        if form.is_valid():
            stage = services.stage_create(actor=self.actor, journey=journey, **form.cleaned_data)
            messages.success(request, _("Stage added."))
            return _redirect_to_map(journey, f"stage-{stage.public_id}")
        context = {"form": form, "journey": journey}
        return render(request, self.template_name, context, status=400)


class StageEditView(_JourneysView):
    """Rename a stage: inline on the map with HTMX, or as a page without JavaScript."""

    policy = BUILD

    def _render(self, request, stage: Stage, form, status=200):
        if request.htmx:
            template, status = "journeys/partials/stage_edit.html", 200
        else:
            template = "journeys/stage_form.html"
        context = {"form": form, "stage": stage, "journey": stage.journey}
        return render(request, template, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        form = StageForm(instance=stage, auto_id=f"stage-{stage.public_id}-%s")
        return self._render(request, stage, form)

    def post(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        form = StageForm(request.POST, instance=stage, auto_id=f"stage-{stage.public_id}-%s")
        if not form.is_valid():
            return self._render(request, stage, form, status=400)
        services.stage_update(actor=self.actor, stage=stage, **form.cleaned_data)
        if request.htmx:
            context = {"stage": stage, "journey": stage.journey, "can_write": True}
            return render(request, "journeys/partials/stage_head.html", context)
        messages.success(request, _("Stage saved."))
        return _redirect_to_map(stage.journey, f"stage-{stage.public_id}")


class StageMoveView(_JourneysView):
    def post(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        form = MoveForm(request.POST)
        if form.is_valid():
            services.stage_move(actor=self.actor, stage=stage, **form.cleaned_data)
        message = _("%(name)s is now stage %(position)s.") % {
            "name": stage.name,
            "position": stage.position + 1,
        }
        if request.htmx:
            context = self.map_context(stage.journey, status_message=message)
            return render(request, "journeys/partials/board.html", context)
        messages.success(request, message)
        return _redirect_to_map(stage.journey, f"stage-{stage.public_id}")


class StageDeleteView(_JourneysView):
    policy = BUILD
    template_name = "journeys/confirm.html"

    def _context(self, stage: Stage) -> dict:
        return {
            "title": _("Delete the stage %(name)s?") % {"name": stage.name},
            "explanation": _(
                "The stage and its touchpoints are deleted for good. A stage whose touchpoints "
                "have collected feedback cannot be deleted: archive those touchpoints instead."
            ),
            "button": _("Delete for good"),
            "danger": True,
            "back_to": stage.journey,
        }

    def get(self, request, public_id: str, **kwargs):
        return render(request, self.template_name, self._context(self.stage(public_id)))

    def post(self, request, public_id: str, **kwargs):
        stage = self.stage(public_id)
        try:
            services.stage_delete(actor=self.actor, stage=stage)
        except ApplicationError as error:
            context = self._context(stage) | {"error": error.message}
            return render(request, self.template_name, context, status=error.status_code)
        messages.success(request, _("Stage %(name)s was deleted.") % {"name": stage.name})
        return _redirect_to_map(stage.journey)
