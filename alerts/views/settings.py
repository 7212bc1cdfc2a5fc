"""Case settings (service levels, the working week, holidays, default assignee, escalation), a
member's own alert settings, and the closed-loop measures."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alerts import page_selectors, selectors
from alerts.forms import (
    CaseSettingsForm,
    MeasuresForm,
    MemberAlertSettingsForm,
    add_service_error,
    local_today,
)
from alerts.service_levels import case_settings_read, case_settings_update
from alerts.services.member_settings import member_alert_settings_update
from alerts.views._base import CASE_SETTINGS, OWN_SETTINGS, AlertsView
from core.exceptions import ApplicationError


class CaseSettingsView(AlertsView):
    policy = CASE_SETTINGS
    template_name = "alerts/case_settings.html"

    def page(self, request, settings, form=None, status=200):
        can_write = self.actor.can(CASE_SETTINGS.write)
        if form is None:
            form = CaseSettingsForm(
                initial=CaseSettingsForm.initial_for(settings), members=self.members()
            )
        if not can_write:  # shown to everyone, changed by admins
            for field in form.fields.values():
                field.disabled = True
        context = {
            "settings": settings,
            "form": form,
            "can_write": can_write,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self.page(request, case_settings_read(organization=self.organization))

    def post(self, request, **kwargs):
        form = CaseSettingsForm(request.POST, members=self.members())
        if form.is_valid():
            try:
                case_settings_update(
                    actor=self.actor, organization=self.organization, **form.settings_changes()
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Case settings saved."))
                return redirect("alerts:case_settings", self.organization.slug)
        settings = case_settings_read(organization=self.organization)
        return self.page(request, settings, form, status=400)


class MyAlertSettingsView(AlertsView):
    """The signed-in member's own SMS number and escalation contact."""

    policy = OWN_SETTINGS
    template_name = "alerts/my_alert_settings.html"

    def form(self, data=None) -> MemberAlertSettingsForm:
        row = page_selectors.member_alert_settings_for(
            organization=self.organization, user=self.actor.user
        )
        initial = {}
        if row is not None:
            initial = {
                "sms_phone": row.sms_phone,
                "escalation_contact": (
                    row.escalation_contact.public_id if row.escalation_contact_id else None
                ),
            }
        members = self.members().exclude(pk=self.actor.user.pk)
        return MemberAlertSettingsForm(data, initial=initial, members=members)

    def get(self, request, **kwargs):
        return render(request, self.template_name, {"form": self.form()})

    def post(self, request, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                member_alert_settings_update(
                    actor=self.actor,
                    organization=self.organization,
                    user=self.actor.user,
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Your alert settings were saved."))
                return redirect("alerts:my_alert_settings", self.organization.slug)
        return render(request, self.template_name, {"form": form}, status=400)


class MeasuresView(AlertsView):
    """Closed-loop measures per touchpoint and per owner over the cases opened in a date range
    (the organization's days): two grouped queries and two for the names."""

    template_name = "alerts/measures.html"

    def get(self, request, **kwargs):
        organization = self.organization
        default = MeasuresForm.default_range(local_today(organization))
        form = MeasuresForm(request.GET if "start" in request.GET else None, initial=default)
        status = 200
        if form.is_bound and form.is_valid():
            start_day, end_day = form.cleaned_data["start"], form.cleaned_data["end"]
        else:
            start_day, end_day = default["start"], default["end"]
            status = 400 if form.is_bound else 200
        zone = organization.zone
        start = datetime.combine(start_day, time.min, tzinfo=zone)
        end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=zone)
        by_touchpoint = selectors.closed_loop_measures(
            organization=organization, by="touchpoint", start=start, end=end
        )
        by_owner = selectors.closed_loop_measures(
            organization=organization, by="assignee", start=start, end=end
        )
        touchpoints = page_selectors.touchpoint_names(
            organization=organization, ids=[m.key for m in by_touchpoint]
        )
        owners = page_selectors.user_names(ids=[m.key for m in by_owner])
        context = {
            "form": form,
            "start": start_day,
            "end": end_day,
            "by_touchpoint": [
                (touchpoints.get(m.key, _("No touchpoint")) if m.key else _("No touchpoint"), m)
                for m in by_touchpoint
            ],
            "by_owner": [
                (owners.get(m.key, _("Unassigned")) if m.key else _("Unassigned"), m)
                for m in by_owner
            ],
        }
        return render(request, self.template_name, context, status=status)
