"""The root-cause taxonomy (add, edit, deactivate, load a starter list) and improvement items
(list with case counts, create, edit, the page listing an item's cases)."""

from itertools import groupby

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts import page_selectors, selectors
from alerts.forms import (
    ImprovementForm,
    RootCauseEditForm,
    RootCauseForm,
    StarterListForm,
    add_service_error,
)
from alerts.services import rules as taxonomy_services
from alerts.views._base import TAXONOMY_EDIT, AlertsView, local_time
from core.exceptions import ApplicationError


class RootCauseListView(AlertsView):
    """The taxonomy grouped by category (inactive causes too, marked), the add form and the
    starter lists."""

    template_name = "alerts/root_causes.html"

    def page(self, request, form=None, starter_form=None, status=200):
        causes = selectors.root_cause_list(organization=self.organization).order_by(
            "category", "name", "id"
        )
        groups = [
            (category, list(items)) for category, items in groupby(causes, lambda c: c.category)
        ]
        context = {"groups": groups, "can_handle": self.can_handle}
        if self.can_handle:
            context["form"] = form or RootCauseForm()
            context["starter_form"] = starter_form or StarterListForm()
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self.page(request)

    def post(self, request, **kwargs):
        form = RootCauseForm(request.POST)
        if form.is_valid():
            try:
                taxonomy_services.root_cause_create(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Root cause added."))
                return redirect("alerts:root_causes", self.organization.slug)
        return self.page(request, form=form, status=400)


class RootCauseStarterView(RootCauseListView):
    def get(self, request, **kwargs):
        return redirect("alerts:root_causes", self.organization.slug)

    def post(self, request, **kwargs):
        form = StarterListForm(request.POST)
        if form.is_valid():
            try:
                added = taxonomy_services.root_causes_load_starter(
                    actor=self.actor,
                    organization=self.organization,
                    industry=form.cleaned_data["industry"],
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request,
                    ngettext("%(count)s root cause added.", "%(count)s root causes added.", added)
                    % {"count": added},
                )
                return redirect("alerts:root_causes", self.organization.slug)
        return self.page(request, starter_form=form, status=400)


class RootCauseEditView(AlertsView):
    policy = TAXONOMY_EDIT
    template_name = "alerts/root_cause_form.html"

    def cause(self, public_id: str):
        return selectors.access_root_cause(organization=self.organization, public_id=public_id)

    def get(self, request, public_id: str, **kwargs):
        cause = self.cause(public_id)
        form = RootCauseEditForm(
            initial={
                "category": cause.category,
                "name": cause.name,
                "controllable": cause.controllable,
                "is_active": cause.is_active,
            }
        )
        return render(request, self.template_name, {"form": form, "cause": cause})

    def post(self, request, public_id: str, **kwargs):
        cause = self.cause(public_id)
        form = RootCauseEditForm(request.POST)
        if form.is_valid():
            try:
                taxonomy_services.root_cause_update(
                    actor=self.actor, cause=cause, **form.cleaned_data
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Root cause saved."))
                return redirect("alerts:root_causes", self.organization.slug)
        cause = self.cause(public_id)
        return render(request, self.template_name, {"form": form, "cause": cause}, status=400)


class RootCauseDeactivateView(AlertsView):
    """Deactivate a cause (it stays on the cases that name it), or activate it again."""

    policy = TAXONOMY_EDIT

    def post(self, request, public_id: str, **kwargs):
        cause = selectors.access_root_cause(organization=self.organization, public_id=public_id)
        active = request.POST.get("is_active") == "1"
        taxonomy_services.root_cause_update(actor=self.actor, cause=cause, is_active=active)
        if active:
            messages.success(request, _("“%(name)s” is offered again.") % {"name": cause.name})
        else:
            messages.success(request, _("“%(name)s” is no longer offered.") % {"name": cause.name})
        return redirect("alerts:root_causes", self.organization.slug)


# --- improvement items ------------------------------------------------------------------------


class _ImprovementView(AlertsView):
    def form(self, data=None, initial=None) -> ImprovementForm:
        return ImprovementForm(
            data,
            initial=initial,
            members=self.members(),
            causes=selectors.root_cause_list(organization=self.organization, active_only=True),
        )


class ImprovementListView(_ImprovementView):
    template_name = "alerts/improvement_list.html"

    def form(self, data=None, initial=None) -> ImprovementForm:
        form = super().form(data, initial)
        del form.fields["status"]  # a new item starts open
        return form

    def page(self, request, form=None, status=200):
        context = {
            "items": list(selectors.improvement_list(organization=self.organization)),
            "form": (form or self.form()) if self.can_handle else None,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self.page(request)

    def post(self, request, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                item = taxonomy_services.improvement_create(
                    actor=self.actor, organization=self.organization, **form.cleaned_data
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Improvement item added."))
                return redirect("alerts:improvement", self.organization.slug, item.public_id)
        return self.page(request, form, status=400)


class ImprovementDetailView(_ImprovementView):
    """One improvement item: its cases, and its editor for those who handle cases."""

    template_name = "alerts/improvement_detail.html"

    def item(self, public_id: str):
        return selectors.access_improvement(organization=self.organization, public_id=public_id)

    def page(self, request, item, form=None, status=200):
        cases = page_selectors.improvement_cases(organization=self.organization, item=item)
        context = {
            "item": item,
            "cases": list(cases[:200]),
            "form": (form or self.form(initial=ImprovementForm.initial_for(item)))
            if self.can_handle
            else None,
        }
        with local_time(self.organization):
            return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        return self.page(request, self.item(public_id))

    def post(self, request, public_id: str, **kwargs):
        item = self.item(public_id)
        form = self.form(request.POST)
        if form.is_valid():
            try:
                taxonomy_services.improvement_update(
                    actor=self.actor, item=item, **form.cleaned_data
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Improvement item saved."))
                return redirect("alerts:improvement", self.organization.slug, item.public_id)
        return self.page(request, self.item(public_id), form, status=400)
