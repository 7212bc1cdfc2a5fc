"""Campaign results: how far the invitations got (sent -> delivered -> opened -> answered), the
response rate, and the same per channel. Read-only; other organizations' campaigns answer 404."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from distribution.enums import Channel
from reports import charts, results
from tenancy import policies
from tenancy.views import OrganizationView


class CampaignResultsView(OrganizationView):
    """The funnel of one campaign from its invitations' statuses, in one aggregate query."""

    policy = policies.REPORTS

    def get(self, request, public_id: str, **kwargs):
        campaign = results.access_campaign(organization=self.organization, public_id=public_id)
        total, per_channel = results.campaign_funnel(
            organization=self.organization, campaign=campaign
        )
        channel_labels = dict(Channel.choices)
        context = {
            "campaign": campaign,
            "total": total,
            "rate": charts.share(total.answered, total.sent),
            "channels": [
                {
                    "label": channel_labels.get(funnel.channel, funnel.channel),
                    "funnel": funnel,
                    "rate": charts.share(funnel.answered, funnel.sent),
                }
                for funnel in per_channel
            ],
            "chart": charts.funnel_chart(
                key="campaign-funnel",
                title=_("From sent to answered"),
                steps=_steps(total),
            )
            if total.sent
            else None,
        }
        return render(request, "reports/campaigns/campaign_results.html", context)


def _steps(funnel: results.Funnel) -> list[tuple[str, int]]:
    return [
        (_("Sent"), funnel.sent),
        (_("Delivered"), funnel.delivered),
        (_("Opened"), funnel.opened),
        (_("Answered"), funnel.answered),
    ]
