"""The dashboards: organization overview (the home page), touchpoint dashboard, journey heatmap
and ranking. Thin views: parse the shared filters (reports/filters.py), ask reports.dashboards
(which reads metrics' selectors), render. Bad filter values give the page with a form error and
status 400, computed with the defaults; never a 500.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.selectors import open_cases_for_touchpoint
from journeys import selectors as journey_selectors
from metrics import registry
from metrics.kpis import significance_level
from metrics.selectors import HIDDEN_FIELD_NAME
from reports import dashboards
from reports.filters import filters_from_request
from tenancy import policies
from tenancy.enums import Role
from tenancy.views import OrganizationView

COMMENTS_PER_PAGE = 20


class _DashboardView(OrganizationView):
    policy = policies.REPORTS

    def read_filters(self, request):
        return filters_from_request(request, self.organization)

    def page(self, request, template: str, context: dict, *forms_: forms.Form):
        status = 400 if any(form.errors for form in forms_) else 200
        return render(request, template, context, status=status)


class OverviewView(_DashboardView):
    """The organization's home page: key metrics per journey, movers, low-score comments and,
    while the organization is new, the getting-started checklist."""

    def get(self, request, **kwargs):
        form, filters = self.read_filters(request)
        context = {
            "filter_form": form,
            "filters": filters,
            "overview": dashboards.overview(
                organization=self.organization, filters=filters, level=significance_level()
            ),
            "role_label": Role(self.actor.role).label,
            "clear_url": request.path,
        }
        return self.page(request, "reports/dashboards/overview.html", context, form)


class CommentGroupForm(forms.Form):
    """Which comments to list: all, or those whose score lies in a group of a planned metric
    (`group=nps:detractors`)."""

    group = forms.ChoiceField(label=_("Comments from"), required=False)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, metrics: list[str]):
        super().__init__(data)
        choices = [("", _("Everyone"))]
        self.groups: dict[str, tuple] = {}
        for name in metrics:
            definition = registry.get(name)
            if not definition or not definition.scorable:
                continue
            for group in definition.groups:
                value = f"{name}:{group.key}"
                self.groups[value] = (definition, group)
                choices.append((value, f"{definition.short_label}: {group.label}"))
        self.fields["group"].choices = choices

    def chosen(self):
        if not self.is_valid():
            return None
        return self.groups.get(self.cleaned_data.get("group") or "")


class TouchpointDashboardView(_DashboardView):
    """Each planned metric's trend, distribution and period comparison, and the newest comments
    with their scores (filtered by score group, 20 to a page)."""

    def get(self, request, public_id: str, **kwargs):
        touchpoint = journey_selectors.access_touchpoint(
            organization=self.organization, public_id=public_id
        )
        plans = list(touchpoint.measurement_plans.all())
        form, filters = self.read_filters(request)
        rows = dashboards.touchpoint_rows(
            organization=self.organization,
            touchpoint=touchpoint,
            plans=plans,
            filters=filters,
            level=significance_level(),
        )
        group_form = CommentGroupForm(request.GET, metrics=[plan.metric for plan in plans])
        comments = dashboards.comment_queryset(
            organization=self.organization,
            filters=filters,
            touchpoint=touchpoint,
            group=group_form.chosen(),
        )
        page = dashboards.comment_page(
            comments, after=request.GET.get("after", ""), size=COMMENTS_PER_PAGE
        )
        page.comments = dashboards.attach_scores(
            organization=self.organization, answers=page.answers
        )
        chosen_group = group_form.cleaned_data.get("group") if group_form.is_valid() else ""
        context = {
            "open_cases": list(
                open_cases_for_touchpoint(organization=self.organization, touchpoint=touchpoint)
            ),
            "cases_url": "{}?{}".format(
                reverse("alerts:cases", args=[self.organization.slug]),
                urlencode({"tab": "team", "touchpoint": touchpoint.public_id}),
            ),
            "now": timezone.now(),
            "tp": touchpoint,
            "rows": rows,
            "filter_form": form,
            "filters": filters,
            "group_form": group_form,
            "comments_page": page,
            "comments_query": filters.querystring(group=chosen_group or None),
            "keep_group": [("group", chosen_group)],
            "clear_url": request.path,
        }
        return self.page(request, "reports/dashboards/touchpoint.html", context, form, group_form)


class MetricChoiceForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), required=False)

    def __init__(self, data, *, choices: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["metric"].choices = choices

    def chosen(self, default: str) -> str:
        if self.is_valid() and self.cleaned_data.get("metric"):
            return self.cleaned_data["metric"]
        return default


class JourneyHeatmapView(_DashboardView):
    """The journey map with each touchpoint's status against target, the stage figures that pool
    the stage's answers, and the stage-by-stage curve of the chosen metric."""

    def get(self, request, public_id: str, **kwargs):
        journey = journey_selectors.access_journey(
            organization=self.organization, public_id=public_id
        )
        stages = journey_selectors.journey_map(organization=self.organization, journey=journey)
        form, filters = self.read_filters(request)
        choices = dashboards.heatmap_metric_choices(stages)
        metric_form = MetricChoiceForm(request.GET, choices=choices)
        metric = metric_form.chosen(default=choices[0][0])
        context = {
            "journey": journey,
            "filter_form": form,
            "filters": filters,
            "metric_form": metric_form,
            "metric": metric,
            "heatmap": dashboards.heatmap(
                organization=self.organization,
                journey=journey,
                stages=stages,
                metric=metric,
                filters=filters,
            ),
            "metric_keep": [("metric", metric)],
            "clear_url": f"{request.path}?metric={metric}",
        }
        return self.page(request, "reports/dashboards/heatmap.html", context, form, metric_form)


class RankingForm(forms.Form):
    """`metric` and `by`: `touchpoint`, or `hidden:<field>` for a hidden field of the responses
    (a store, an agent). Without JavaScript the form sends `by=hidden` and the name in `field`."""

    BY_TOUCHPOINT = "touchpoint"
    BY_HIDDEN = "hidden"

    metric = forms.ChoiceField(label=_("Metric"), required=False)
    by = forms.CharField(label=_("Rank"), required=False)
    field = forms.CharField(
        label=_("Hidden field"),
        required=False,
        max_length=64,
        help_text=_("The name of a hidden field of the responses, e.g. store or agent."),
    )

    def __init__(self, data):
        data = dict(data.items())
        by = data.get("by") or ""
        if by.startswith(self.BY_HIDDEN + ":"):
            data["by"], data["field"] = self.BY_HIDDEN, by.split(":", 1)[1]
        super().__init__(data)
        self.fields["metric"].choices = dashboards.ranking_metric_choices()

    def clean_by(self):
        by = self.cleaned_data.get("by") or self.BY_TOUCHPOINT
        if by not in (self.BY_TOUCHPOINT, self.BY_HIDDEN):
            raise forms.ValidationError(_("Rank touchpoints or a hidden field."))
        return by

    def clean(self):
        data = super().clean()
        if data.get("by") == self.BY_HIDDEN:
            name = (data.get("field") or "").strip()
            if not HIDDEN_FIELD_NAME.match(name):
                self.add_error(
                    "field",
                    _("Give the hidden field's name: letters, digits, dots, dashes, underscores."),
                )
            data["field"] = name
        return data

    def choice(self) -> tuple[str, str, str]:
        """(metric, by, field) to show: the defaults stand in for what failed."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        metric = data.get("metric") or "nps"
        if self.has_error("field") or self.has_error("by") or data.get("by") != self.BY_HIDDEN:
            return metric, self.BY_TOUCHPOINT, ""
        return metric, self.BY_HIDDEN, data["field"]


class RankingView(_DashboardView):
    """Touchpoints, or the values of a hidden field, ranked honestly: on the lower bound of the
    95 % interval (score - 160/sqrt(n) for NPS-like scores); fewer than 5 answers are not ranked."""

    def get(self, request, **kwargs):
        form, filters = self.read_filters(request)
        ranking_form = RankingForm(request.GET)
        metric, by, field_name = ranking_form.choice()
        if by == RankingForm.BY_HIDDEN:
            ranking = dashboards.hidden_field_ranking(
                organization=self.organization,
                metric=metric,
                field_name=field_name,
                filters=filters,
            )
        else:
            slug = self.organization.slug
            ranking = dashboards.touchpoint_ranking(
                organization=self.organization,
                metric=metric,
                filters=filters,
                url_for=lambda tp: (
                    reverse("reports:touchpoint", args=[slug, tp.public_id])
                    + (f"?{filters.query}" if filters.query else "")
                ),
            )
        by_param = f"hidden:{field_name}" if by == RankingForm.BY_HIDDEN else ""
        context = {
            "filter_form": form,
            "filters": filters,
            "ranking_form": ranking_form,
            "ranking": ranking,
            "metric": metric,
            "by": by,
            "field_name": field_name,
            "keep": [("metric", metric), ("by", by_param)],
            "clear_url": request.path,
        }
        return self.page(request, "reports/dashboards/ranking.html", context, form, ranking_form)
