"""Alerts: the list, newest first, and one alert with its evidence in words and its case."""

from django.core.paginator import Paginator
from django.shortcuts import render

from alerts import page_selectors, selectors
from alerts.enums import AlertStatus
from alerts.explain import evidence_in_words
from alerts.views._base import PAGE_SIZE, AlertsView, local_time


class AlertListView(AlertsView):
    def get(self, request, **kwargs):
        status = request.GET.get("status", "")
        status = status if status in AlertStatus.values else ""
        alerts = selectors.alert_list(organization=self.organization, status=status)
        page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "status": status,
            "statuses": AlertStatus.choices,
            "query": f"status={status}" if status else "",
        }
        with local_time(self.organization):
            return render(request, "alerts/alert_list.html", context)


class AlertDetailView(AlertsView):
    def get(self, request, public_id: str, **kwargs):
        alert = selectors.access_alert(organization=self.organization, public_id=public_id)
        resolved_with = (alert.evidence or {}).get("resolved_with")
        response_row = page_selectors.response_in_words(
            organization=self.organization, response_id=alert.response_id
        )
        questions = response_row["questions"] if response_row else None
        context = {
            "alert": alert,
            "response_row": response_row,
            "evidence": evidence_in_words(alert.kind, alert.evidence, alert.rule, questions),
            "resolved_evidence": (
                evidence_in_words(alert.kind, resolved_with, alert.rule) if resolved_with else []
            ),
            "case": page_selectors.alert_case(organization=self.organization, alert=alert),
            "can_handle": self.can_handle,
        }
        with local_time(self.organization):
            return render(request, "alerts/alert_detail.html", context)
