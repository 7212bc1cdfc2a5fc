from django.urls import path

from distribution import views
from distribution.views import embed, kiosk, sharing

app_name = "distribution"

contact = "o/<slug:org_slug>/contacts/<str:public_id>/"
imports = "o/<slug:org_slug>/contacts/imports/"
segments = "o/<slug:org_slug>/segments/"
campaigns = "o/<slug:org_slug>/campaigns/"
share = "o/<slug:org_slug>/surveys/<str:public_id>/share/"
kiosks = "o/<slug:org_slug>/kiosks/"

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
    # Sharing: a survey's links, QR codes and posters; website embeds; kiosk devices.
    path(share, sharing.SurveyShareView.as_view(), name="survey_share"),
    path(share + "qr.svg", sharing.SurveyQrView.as_view(), {"kind": "svg"}, name="survey_qr_svg"),
    path(share + "qr.png", sharing.SurveyQrView.as_view(), {"kind": "png"}, name="survey_qr_png"),
    path(share + "poster.pdf", sharing.SurveyPosterView.as_view(), name="survey_poster"),
    path(
        "o/<slug:org_slug>/touchpoints/<str:public_id>/share/",
        sharing.TouchpointShareView.as_view(),
        name="touchpoint_share",
    ),
    path("embed.js", embed.embed_script, name="embed_script"),
    path("e/<str:slug>/config/", embed.embed_config, name="embed_config"),
    path(kiosks, kiosk.KioskDevicesView.as_view(), name="kiosks"),
    path(
        kiosks + "<str:public_id>/revoke/",
        kiosk.KioskDeviceRevokeView.as_view(),
        name="kiosk_revoke",
    ),
    path(
        kiosks + "<str:public_id>/new-link/",
        kiosk.KioskDeviceNewLinkView.as_view(),
        name="kiosk_new_link",
    ),
    path("k/<str:token>/", kiosk.KioskPageView.as_view(), name="kiosk"),
    path("k/<str:token>/answers/", kiosk.KioskSyncView.as_view(), name="kiosk_sync"),
    path("k/<str:token>/sw.js", kiosk.kiosk_worker, name="kiosk_worker"),
    path(
        "o/<slug:org_slug>/surveys/<str:public_id>/invitation-email/",
        views.SurveyEmailView.as_view(),
        name="survey_email",
    ),
]
