"""Pages of the distribution app: contacts, imports, segments, campaigns, the sending settings and
the webhooks of Twilio and the email provider."""

from distribution.views.configuration import DistributionSettingsView, SurveyEmailView
from distribution.views.contacts import (
    ContactCreateView,
    ContactDetailView,
    ContactEditView,
    ContactEraseView,
    ContactExportView,
    ContactListView,
)
from distribution.views.imports import ImportDetailView, ImportErrorsView, ImportListView
from distribution.views.invitations import (
    CampaignCreateView,
    CampaignDetailView,
    CampaignListView,
    CampaignSendView,
    TwilioInboundView,
    TwilioStatusView,
    UnsubscribeView,
    tracking_webhook,
)
from distribution.views.segments import SegmentDeleteView, SegmentDetailView, SegmentListView

__all__ = [
    "CampaignCreateView",
    "CampaignDetailView",
    "CampaignListView",
    "CampaignSendView",
    "ContactCreateView",
    "ContactDetailView",
    "ContactEditView",
    "ContactEraseView",
    "ContactExportView",
    "ContactListView",
    "DistributionSettingsView",
    "ImportDetailView",
    "ImportErrorsView",
    "ImportListView",
    "SegmentDeleteView",
    "SegmentDetailView",
    "SegmentListView",
    "SurveyEmailView",
    "TwilioInboundView",
    "TwilioStatusView",
    "UnsubscribeView",
    "tracking_webhook",
]
