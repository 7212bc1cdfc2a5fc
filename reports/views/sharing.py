"""Read-only share links: the management page (analysts and up: list, create, revoke) and the
public page `/share/<token>/`, which renders the dashboard's own template with `shared=True`."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.exceptions import ApplicationError
from core.forms import add_application_error
from core.scoping import tenant_scope
from journeys.selectors import access_touchpoint
from metrics.kpis import significance_level
from reports import dashboard_refs, dashboards, sharing
from reports.filters import ReportFilterForm
from reports.models import DashboardType
from reports.views.dashboards import CommentGroupForm
from tenancy import policies
from tenancy.views import OrganizationView

SHARE_POLICY = policies.SHARE_LINKS


class ShareLinkForm(forms.Form):
    dashboard = forms.ChoiceField(label=gettext_lazy("Dashboard"))
    label = forms.CharField(
        label=gettext_lazy("Label"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("For your own list, e.g. who the link is for."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Works until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("At most a year from today. You can revoke the link any time."),
    )

    def __init__(self, data=None, *, organization, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["dashboard"].choices = dashboard_refs.dashboard_choices(organization)
        today = timezone.localdate(timezone=organization.zone)
        widget = self.fields["expires_on"].widget
        widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=sharing.MAX_DAYS)).isoformat(),
        )

    def clean_dashboard(self) -> tuple[str, str]:
        try:
            return dashboard_refs.from_choice(self.cleaned_data["dashboard"])
        except ValueError:
            raise forms.ValidationError(_("Choose a dashboard.")) from None


class ShareLinkListView(OrganizationView):
    """Links with their dashboard, expiry, state and number of views; the form for a new one.
    A new link's address is shown once, on the page that answers the form."""

    policy = SHARE_POLICY
    template_name = "reports/sharing/share_link_list.html"

    def _render(self, request, form, status=200, created_url: str = ""):
        context = {
            "rows": sharing.share_link_rows(organization=self.organization),
            "form": form,
            "created_url": created_url,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, **kwargs):
        initial = {
            "dashboard": DashboardType.OVERVIEW.value,
            "expires_on": sharing.default_expiry_date(self.organization),
        }
        return self._render(request, ShareLinkForm(organization=self.organization, initial=initial))

    def post(self, request, **kwargs):
        form = ShareLinkForm(request.POST, organization=self.organization)
        if form.is_valid():
            dashboard_type, public_id = form.cleaned_data["dashboard"]
            try:
                created = sharing.share_link_create(
                    actor=self.actor,
                    organization=self.organization,
                    dashboard_type=dashboard_type,
                    dashboard_public_id=public_id,
                    expires_on=form.cleaned_data["expires_on"],
                    label=form.cleaned_data["label"],
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                url = request.build_absolute_uri(
                    reverse("reports:shared_dashboard", args=[created.token])
                )
                fresh = ShareLinkForm(
                    organization=self.organization,
                    initial={
                        "dashboard": DashboardType.OVERVIEW.value,
                        "expires_on": sharing.default_expiry_date(self.organization),
                    },
                )
                response = self._render(request, fresh, status=201, created_url=url)
                response["Cache-Control"] = "no-store"
                return response
        return self._render(request, form, status=400)


class ShareLinkRevokeView(OrganizationView):
    policy = SHARE_POLICY

    def post(self, request, public_id: str, **kwargs):
        link = sharing.access_share_link(organization=self.organization, public_id=public_id)
        sharing.share_link_revoke(actor=self.actor, organization=self.organization, link=link)
        messages.success(request, _("The link was revoked; it no longer opens the dashboard."))
        return redirect("reports:share_links", org_slug=self.organization.slug)


# The public page


def _overview_context(request, organization) -> tuple[dict, str, forms.Form]:
    form = ReportFilterForm(request.GET, organization=organization)
    filters = form.report_filters()
    overview = dashboards.overview(
        organization=organization, filters=filters, level=significance_level(), shared=True
    )
    context = {
        "filter_form": form,
        "filters": filters,
        "overview": overview,
        "clear_url": request.path,
    }
    return context, "reports/dashboards/overview.html", form


def _touchpoint_context(request, organization, touchpoint) -> tuple[dict, str, forms.Form]:
    form = ReportFilterForm(request.GET, organization=organization)
    filters = form.report_filters()
    plans = list(touchpoint.measurement_plans.all())
    rows = dashboards.touchpoint_rows(
        organization=organization,
        touchpoint=touchpoint,
        plans=plans,
        filters=filters,
        level=significance_level(),
    )
    # What respondents wrote stays with the members: a shared page lists no comments.
    comments_page = dashboards.CommentPage(answers=[], next_cursor=None, is_first=True)
    comments_page.comments = []
    return (
        {
            "tp": touchpoint,
            "rows": rows,
            "filter_form": form,
            "filters": filters,
            "group_form": CommentGroupForm(None, metrics=[]),
            "comments_page": comments_page,
            "comments_query": "",
            "clear_url": request.path,
        },
        "reports/dashboards/touchpoint.html",
        form,
    )


class SharedDashboardView(View):
    """`/share/<token>/`: the dashboard without signing in, read-only, for as long as the link
    lives (404 once expired or revoked). Every view is logged; nothing of other organizations
    can be reached from here, and search engines are asked not to index it."""

    http_method_names = ["get", "head"]

    def get(self, request, token: str):
        shared = sharing.shared_dashboard_for_token(token)
        organization = shared.organization
        request.organization = organization  # templates name it; no actor, so no navigation
        with tenant_scope(organization):
            if shared.dashboard.touchpoint is not None:
                touchpoint = access_touchpoint(
                    organization=organization, public_id=shared.dashboard.public_id
                )
                context, template, form = _touchpoint_context(request, organization, touchpoint)
            else:
                context, template, form = _overview_context(request, organization)
            context.update(shared=True, share_link=shared.link, organization=organization)
            response = render(request, template, context, status=400 if form.errors else 200)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "private, no-store"
        return response
