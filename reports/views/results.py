"""Survey results: the figures per question, the responses list with comment search, and one
response's page. Read-only pages: every member may read them, other organizations get 404."""

from __future__ import annotations

import re

from django import forms
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from alerts.selectors import CaseFilters, case_list
from metrics import registry
from reports import charts, results
from reports.filters import ReportFilterForm, ReportFilters
from surveys import wording
from surveys.enums import QuestionType
from surveys.instruments import scale_of
from surveys.selectors import access_survey
from tenancy import policies
from tenancy.views import OrganizationView


def survey_filters(request, organization) -> tuple[ReportFilterForm, ReportFilters]:
    """The shared report filters without the survey choice (on these pages the survey is the
    one in the address) and without the period length (they show totals, not trends)."""
    form = ReportFilterForm(request.GET, organization=organization)
    form.fields.pop("survey")
    form.fields.pop("period")
    return form, form.report_filters()


class SurveyResultsView(OrganizationView):
    """Each question of the survey's published versions (by key) over the chosen range: the
    distribution and score (n, 95 % interval, change) of scored questions from rollups, choice
    counts, and the number of open answers with a link to them."""

    policy = policies.REPORTS

    def get(self, request, public_id: str, **kwargs):
        survey = access_survey(organization=self.organization, public_id=public_id)
        form, filters = survey_filters(request, self.organization)
        languages = ((get_language() or "")[:2], survey.default_language)
        questions = results.survey_results(
            organization=self.organization, survey=survey, filters=filters, languages=languages
        )
        context = {
            "survey": survey,
            "filter_form": form,
            "filters": filters,
            "questions": [_question_view(result, languages) for result in questions],
        }
        status = 400 if form.errors else 200
        return render(request, "reports/results/survey_results.html", context, status=status)


def _question_view(result: results.QuestionResult, languages: tuple[str, ...]) -> dict:
    """What the page shows for one question: its figures rounded once, and its charts."""
    view: dict = {"result": result, "charts": [], "score": None, "change": None}
    title = result.text
    if result.is_scored:
        metric = result.metric
        total, change = result.series["total"], result.series["change"]
        digits = registry.digits(metric)
        view["metric_label"] = registry.label(metric)
        view["score"] = {
            "n": total["n"],
            "hidden": total["hidden"] or total["score"] is None,
            "low_precision": total["low_precision"],
            "value": charts.rounded(total["score"], digits),
            "low": charts.rounded(total["ci_low"], digits),
            "high": charts.rounded(total["ci_high"], digits),
            "unit": getattr(registry.get(metric), "unit", ""),
        }
        if change["delta"] is not None:
            view["change"] = {
                "delta": charts.rounded(change["delta"], digits),
                "significant": change["significant"],
                "previous_n": change["previous_n"],
                "previous_start": change["previous_start"],
                "previous_end": change["previous_end"],
            }
        if total["counts"] is not None:  # None while the score is hidden: it would show it
            view["charts"] = _score_charts(result, total["counts"], title, languages)
    elif result.is_choice:
        caption = None
        if result.question.type == QuestionType.MULTIPLE_CHOICE:
            caption = _(
                "How often each choice was picked; one answer may pick several, %(n)s answers "
                "in all."
            ) % {"n": result.answered}
        view["charts"] = [
            charts.distribution_chart(
                key=f"q-{result.key}",
                title=title,
                counts=result.choices,
                value_label=_("Choice"),
                caption=caption,
            )
        ]
    return view


def _score_charts(
    result: results.QuestionResult, counts: dict, title: str, languages: tuple[str, ...]
) -> list:
    """The answers per scale value; WOMI's two questions as two charts."""
    question = result.question
    low, high = scale_of(question) or (None, None)
    if result.metric == "womi":
        recommend: dict[int, int] = {}
        discourage: dict[int, int] = {}
        for pair, n in counts.items():
            # Keys are (recommend, discourage) pairs, spelt "(10, 0)" in metric_series' answer.
            first, second = (int(part) for part in re.findall(r"-?\d+", str(pair)))
            recommend[first] = recommend.get(first, 0) + n
            discourage[second] = discourage.get(second, 0) + n
        return [
            _scale_chart(f"q-{result.key}", title, result.metric, recommend, low, high),
            _scale_chart(
                f"q-{result.key}-discourage",
                wording.text_in(question.texts_secondary, languages) or _("Discourage"),
                "",
                discourage,
                low,
                high,
            ),
        ]
    histogram = {int(value): n for value, n in counts.items()}
    return [_scale_chart(f"q-{result.key}", title, result.metric, histogram, low, high)]


def _scale_chart(key, title, metric, histogram: dict[int, int], low, high) -> charts.Chart:
    values = sorted(histogram) if low is None or high is None else range(low, high + 1)
    definition = registry.get(metric)
    groups = None
    if definition is not None and definition.groups:
        groups = []
        for value in values:
            group = next((g for g in definition.groups if g.contains(value)), None)
            groups.append(str(group.label) if group else "")
    labels = [_value_label(metric, value) for value in values]
    return charts.distribution_chart(
        key=key,
        title=title,
        counts=[
            (label, histogram.get(value, 0)) for label, value in zip(labels, values, strict=True)
        ],
        groups=groups,
    )


def _value_label(metric: str, value: int) -> str:
    if metric == "yes_no":
        return _("Yes") if value else _("No")
    return str(value)


# --- responses ------------------------------------------------------------------------------


class ResponseSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search the comments"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    comment = forms.SlugField(required=False, max_length=50, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


class SurveyResponsesView(OrganizationView):
    """The survey's responses newest first, 50 to a page (keyset: "older responses" continues
    after the last one shown), every answer in words, hidden fields, channel, language and
    touchpoint; comment search and the report filters. The same few queries for any number."""

    policy = policies.RESPONSES

    def get(self, request, public_id: str, **kwargs):
        survey = access_survey(organization=self.organization, public_id=public_id)
        form, filters = survey_filters(request, self.organization)
        search = ResponseSearchForm(request.GET)
        data = search.cleaned_data if search.is_valid() else {}
        responses = results.survey_responses(
            organization=self.organization,
            survey=survey,
            filters=filters,
            search=data.get("q", ""),
            comment_key=data.get("comment", ""),
        )
        page = results.response_page(
            responses, organization=self.organization, after=data.get("after", "")
        )
        query = {"q": data.get("q") or None, "comment": data.get("comment") or None}
        context = {
            "survey": survey,
            "filter_form": form,
            "filters": filters,
            "search_form": search,
            "search": data.get("q", ""),
            "comment_key": data.get("comment", ""),
            "rows": [wording.response_in_words(response) for response in page.responses],
            "page": page,
            "next_query": filters.querystring(**query, after=page.next_cursor),
            "first_query": filters.querystring(**query),
            "keep": [("q", data.get("q")), ("comment", data.get("comment"))],
        }
        status = 400 if form.errors or search.errors else 200
        return render(request, "reports/results/responses.html", context, status=status)


class ResponseDetailView(OrganizationView):
    """One response: every answer with its question, scores in words, hidden fields, channel,
    language, version, touchpoint, the contact (when it came through an invitation and the
    viewer may see contacts) and the respondent metadata the organization chose to store."""

    policy = policies.RESPONSES

    def get(self, request, public_id: str, **kwargs):
        detail = results.response_detail(organization=self.organization, public_id=public_id)
        invitation = detail.invitation
        contact = invitation.contact if invitation is not None else None
        context = {
            "response": detail.response,
            "row": wording.response_in_words(detail.response),
            "invitation": invitation,
            "contact": contact if self.actor.can(policies.CONTACTS.read) else None,
            "hidden_fields": sorted(detail.response.hidden_fields.items()),
            "cases": list(
                case_list(
                    organization=self.organization,
                    filters=CaseFilters(response_id=detail.response.pk),
                )
            ),
        }
        return render(request, "reports/results/response_detail.html", context)
