from django.urls import path

from distribution import views

app_name = "distribution"

contact = "o/<slug:org_slug>/contacts/<str:public_id>/"
imports = "o/<slug:org_slug>/contacts/imports/"
segments = "o/<slug:org_slug>/segments/"
campaigns = "o/<slug:org_slug>/campaigns/"

urlpatterns = [
    path("o/<slug:org_slug>/contacts/", views.ContactListView.as_view(), name="contacts"),
    path("o/<slug:org_slug>/contacts/new/", views.ContactCreateView.as_view(), name="contact_new"),
    path(imports, views.ImportListView.as_view(), name="imports"),
    path(imports + "<str:public_id>/", views.ImportDetailView.as_view(), name="import"),
    path(
        imports + "<str:public_id>/errors.csv",
        views.ImportErrorsView.as_view(),
        name="import_errors",
    ),
    path(contact, views.ContactDetailView.as_view(), name="contact"),
    path(contact + "edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path(contact + "export/", views.ContactExportView.as_view(), name="contact_export"),
    path(contact + "erase/", views.ContactEraseView.as_view(), name="contact_erase"),
    path(segments, views.SegmentListView.as_view(), name="segments"),
    path(segments + "<str:public_id>/", views.SegmentDetailView.as_view(), name="segment"),
    path(
        segments + "<str:public_id>/delete/",
        views.SegmentDeleteView.as_view(),
        name="segment_delete",
    ),
    # Invitations: campaign pages, the unsubscribe link and the Twilio webhooks.
    path(campaigns, views.CampaignListView.as_view(), name="campaigns"),
    path(campaigns + "new/", views.CampaignCreateView.as_view(), name="campaign_new"),
    path(campaigns + "<str:public_id>/", views.CampaignDetailView.as_view(), name="campaign"),
    path(
        campaigns + "<str:public_id>/send/",
        views.CampaignSendView.as_view(),
        name="campaign_send",
    ),
    path("u/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("hooks/twilio/sms/", views.TwilioInboundView.as_view(), name="twilio_inbound"),
    path("hooks/twilio/status/", views.TwilioStatusView.as_view(), name="twilio_status"),
    # The email provider's bounce and complaint reports (only the configured provider's URL answers).
    path("hooks/email/<str:provider>/tracking/", views.tracking_webhook, name="email_tracking"),
    # Sending settings and a survey's invitation email texts.
    path(
        "o/<slug:org_slug>/distribution/settings/",
        views.DistributionSettingsView.as_view(),
        name="sending_settings",
    ),
    path(
        "o/<slug:org_slug>/surveys/<str:public_id>/invitation-email/",
        views.SurveyEmailView.as_view(),
        name="survey_email",
    ),
]
