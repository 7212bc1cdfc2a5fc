"""Alert rules: the list, the editor with its "would have fired N times" preview, delete."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alerts import page_selectors, selectors
from alerts.explain import preview_example_in_words
from alerts.forms import RuleForm, add_service_error
from alerts.preview import rule_preview
from alerts.services import rules as rule_services
from alerts.views._base import RULE_EDIT, RULES, AlertsView, local_time
from core.exceptions import ApplicationError

PREVIEW_DAYS = 30


def preview_context(preview) -> dict:
    examples = (
        [preview_example_in_words(example) for example in preview.examples] if preview else []
    )
    return {"preview": preview, "preview_days": PREVIEW_DAYS, "examples": examples}


class RuleListView(AlertsView):
    policy = RULES

    def get(self, request, **kwargs):
        context = {
            "rules": list(selectors.rule_list(organization=self.organization)),
            "can_write": self.actor.can(RULES.write),
        }
        return render(request, "alerts/rule_list.html", context)


class _RuleFormView(AlertsView):
    """The editor of a new or an existing rule. "Preview" (a plain POST, or an HTMX request
    for the fragment alone) replays the rule as the form stands, unsaved."""

    policy = RULE_EDIT
    template_name = "alerts/rule_form.html"

    def form(self, data=None, rule=None) -> RuleForm:
        organization = self.organization
        return RuleForm(
            data,
            initial=RuleForm.initial_for(rule),
            journeys=page_selectors.journey_choices(organization=organization),
            touchpoints=page_selectors.touchpoint_choices(organization=organization),
            surveys=page_selectors.survey_choices(organization=organization),
        )

    def preview(self, form: RuleForm):
        """The preview of a valid form, or None with the rule's problems on the form."""
        if not form.is_valid():
            return None
        rule = form.unsaved_rule(self.organization)
        errors = rule_services.rule_validate(rule)
        if errors:
            add_service_error(
                form, ApplicationError(_("Check the rule."), "invalid", {"fields": errors})
            )
            return None
        return rule_preview(rule=rule, days=PREVIEW_DAYS)

    def page(self, request, form, rule=None, preview=None, status=200):
        context = {
            "form": form,
            "rule": rule,
            "previewed": "preview" in request.POST or request.htmx,
            **preview_context(preview),
        }
        with local_time(self.organization):
            return render(request, self.template_name, context, status=status)


class RuleCreateView(_RuleFormView):
    def get(self, request, **kwargs):
        return self.page(request, self.form())

    def post(self, request, **kwargs):
        form = self.form(request.POST)
        if "preview" in request.POST:
            preview = self.preview(form)
            return self.page(request, form, preview=preview, status=200 if preview else 400)
        if form.is_valid():
            try:
                rule = rule_services.rule_create(
                    actor=self.actor, organization=self.organization, **form.rule_fields()
                )
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("alerts:rules", self.organization.slug)
        return self.page(request, form, status=400)


class RuleEditView(_RuleFormView):
    def get(self, request, public_id: str, **kwargs):
        rule = selectors.access_rule(organization=self.organization, public_id=public_id)
        return self.page(request, self.form(rule=rule), rule=rule)

    def post(self, request, public_id: str, **kwargs):
        rule = selectors.access_rule(organization=self.organization, public_id=public_id)
        form = self.form(request.POST, rule=rule)
        if "preview" in request.POST:
            preview = self.preview(form)
            return self.page(request, form, rule, preview, status=200 if preview else 400)
        if form.is_valid():
            try:
                rule_services.rule_update(actor=self.actor, rule=rule, **form.rule_fields())
            except ApplicationError as error:
                add_service_error(form, error)
                # The service changed the instance before refusing; show the saved rule's name.
                rule = selectors.access_rule(organization=self.organization, public_id=public_id)
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("alerts:rules", self.organization.slug)
        return self.page(request, form, rule, status=400)


class RulePreviewView(_RuleFormView):
    """The preview alone: HTMX posts the editor's fields here and swaps in the fragment."""

    def post(self, request, **kwargs):
        form = self.form(request.POST)
        preview = self.preview(form)
        if not request.htmx:
            return self.page(request, form, preview=preview, status=200 if preview else 400)
        context = {"form": form, "previewed": True, **preview_context(preview)}
        with local_time(self.organization):
            return render(request, "alerts/partials/rule_preview.html", context)


class RuleDeleteView(AlertsView):
    policy = RULE_EDIT

    def get(self, request, public_id: str, **kwargs):
        rule = selectors.access_rule(organization=self.organization, public_id=public_id)
        return render(request, "alerts/rule_delete.html", {"rule": rule})

    def post(self, request, public_id: str, **kwargs):
        rule = selectors.access_rule(organization=self.organization, public_id=public_id)
        name = rule.name
        rule_services.rule_delete(actor=self.actor, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
        return redirect("alerts:rules", self.organization.slug)
