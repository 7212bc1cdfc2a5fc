"""Pages of segments: saved filters over contacts."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.forms import add_application_error
from distribution import selectors, services
from distribution.forms import SegmentForm
from tenancy import policies
from tenancy.views import OrganizationView


class SegmentListView(OrganizationView):
    policy = policies.CONTACTS
    template_name = "distribution/segment_list.html"

    def _render(self, request, form, status=200):
        context = {
            "segments": selectors.segment_list(organization=self.organization),
            "form": form,
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        return self._render(request, SegmentForm())

    def post(self, request, **kwargs):
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = services.segment_create(
                    actor=self.actor,
                    organization=self.organization,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=form.cleaned_data["rules"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect(
                    "distribution:segment",
                    org_slug=self.organization.slug,
                    public_id=segment.public_id,
                )
        return self._render(request, form, status=400)


class SegmentDetailView(OrganizationView):
    """A segment: how many contacts match now, the first 20 of them, and its rules."""

    policy = policies.CONTACTS
    template_name = "distribution/segment_detail.html"
    PREVIEW = 20

    def _render(self, request, segment, form, status=200):
        contacts = selectors.segment_contacts(segment)
        context = {
            "segment": segment,
            "count": contacts.count(),
            "preview": contacts[: self.PREVIEW],
            "form": form,
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        return self._render(request, segment, SegmentForm(initial=SegmentForm.initial_for(segment)))

    def post(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment = services.segment_update(
                    actor=self.actor,
                    organization=self.organization,
                    segment=segment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    rules=form.cleaned_data["rules"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, _("Segment saved."))
                return redirect(
                    "distribution:segment", org_slug=self.organization.slug, public_id=public_id
                )
        return self._render(request, segment, form, status=400)


class SegmentDeleteView(OrganizationView):
    policy = policies.Policy(read=policies.Permission.BUILD, write=policies.Permission.BUILD)

    def post(self, request, public_id: str, **kwargs):
        segment = selectors.access_segment(organization=self.organization, public_id=public_id)
        services.segment_delete(actor=self.actor, organization=self.organization, segment=segment)
        messages.success(request, _("Segment deleted."))
        return redirect("distribution:segments", org_slug=self.organization.slug)
