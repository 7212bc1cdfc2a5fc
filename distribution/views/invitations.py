"""Campaign pages, the email unsubscribe page, the Twilio webhooks and the email provider's
tracking webhook."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import ApplicationError
from core.forms import add_application_error
from core.scoping import tenant_scope
from distribution import selectors, services
from distribution.enums import CampaignStatus, Channel, InvitationStatus, SkipReason
from distribution.forms import CampaignForm
from distribution.models import Campaign, Contact, Invitation
from distribution.services import invitations, sms
from distribution.services.messaging import read_unsubscribe_token
from surveys.enums import SurveyStatus
from surveys.models import Survey
from tenancy import policies
from tenancy.views import OrganizationView

logger = logging.getLogger(__name__)


def _access_campaign(organization, public_id: str) -> Campaign:
    campaign = (
        Campaign.objects.filter(organization=organization, public_id=public_id)
        .select_related("survey", "segment")
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


class CampaignListView(OrganizationView):
    policy = policies.CONTACTS

    def get(self, request, **kwargs):
        campaigns = Campaign.objects.filter(organization=self.organization).select_related(
            "survey", "segment"
        )[:200]
        context = {"campaigns": campaigns, "can_write": self.actor.can(policies.CONTACTS.write)}
        return render(request, "distribution/campaign_list.html", context)


class CampaignCreateView(OrganizationView):
    policy = policies.CONTACTS
    template_name = "distribution/campaign_form.html"

    def _form(self, data=None) -> CampaignForm:
        surveys = Survey.objects.filter(
            organization=self.organization, status=SurveyStatus.PUBLISHED
        ).order_by("name")
        segments = selectors.segment_list(organization=self.organization)
        return CampaignForm(data, surveys=surveys, segments=segments)

    def get(self, request, **kwargs):
        if not self.actor.can(policies.CONTACTS.write):
            raise PermissionDenied
        return render(request, self.template_name, {"form": self._form()})

    def post(self, request, **kwargs):
        form = self._form(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            survey = Survey.objects.get(
                organization=self.organization, public_id=data.pop("survey")
            )
            segment_id = data.pop("segment")
            segment = (
                selectors.access_segment(organization=self.organization, public_id=segment_id)
                if segment_id
                else None
            )
            try:
                campaign = invitations.campaign_create(
                    actor=self.actor,
                    organization=self.organization,
                    survey=survey,
                    segment=segment,
                    **data,
                )
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                return redirect(
                    "distribution:campaign",
                    org_slug=self.organization.slug,
                    public_id=campaign.public_id,
                )
        return render(request, self.template_name, {"form": form}, status=400)


class CampaignDetailView(OrganizationView):
    """A campaign: what the rules will skip (before sending) and its invitations by status."""

    policy = policies.CONTACTS

    def get(self, request, public_id: str, **kwargs):
        campaign = _access_campaign(self.organization, public_id)
        preview = None
        if campaign.status == CampaignStatus.DRAFT:
            preview = invitations.campaign_preview(
                organization=self.organization, campaign=campaign
            )
        counts = invitations.campaign_status_counts(
            organization=self.organization, campaign=campaign
        )
        recent = (
            Invitation.objects.filter(organization=self.organization, campaign=campaign)
            .select_related("contact")
            .order_by("-created_at", "-id")[:50]
        )
        context = {
            "campaign": campaign,
            "preview": [
                (SkipReason(key).label, value)
                for key, value in (preview or {}).items()
                if key in SkipReason.values
            ],
            "preview_send": (preview or {}).get("send"),
            "preview_total": (preview or {}).get("total"),
            "counts": [(InvitationStatus(key).label, value) for key, value in counts.items()],
            "invitations": recent,
            "can_write": self.actor.can(policies.CONTACTS.write),
        }
        return render(request, "distribution/campaign_detail.html", context)


class CampaignSendView(OrganizationView):
    policy = policies.CONTACTS

    def post(self, request, public_id: str, **kwargs):
        campaign = _access_campaign(self.organization, public_id)
        try:
            campaign = invitations.campaign_send(
                actor=self.actor, organization=self.organization, campaign=campaign
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            if campaign.status == CampaignStatus.SCHEDULED:
                messages.success(request, _("Campaign scheduled."))
            else:
                messages.success(request, _("Campaign is being sent."))
        return redirect(
            "distribution:campaign", org_slug=self.organization.slug, public_id=public_id
        )


# --- public endpoints ------------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """One-click unsubscribe (RFC 8058): POST with a signed token records the email opt-out;
    GET shows a page with the button, for people who follow the link in the message."""

    def _contact(self, token: str) -> Contact | None:
        try:
            public_id = read_unsubscribe_token(token)
        except signing.BadSignature:  # forged, altered, expired or of the old format
            return None
        contacts = Contact.all_objects.select_related("organization")
        return contacts.filter(public_id=public_id).first()

    def _invalid(self, request):
        return render(request, "distribution/unsubscribe.html", {"invalid": True}, status=404)

    def get(self, request, token: str):
        contact = self._contact(token)
        if contact is None:
            return self._invalid(request)
        return render(
            request,
            "distribution/unsubscribe.html",
            {
                "organization_name": contact.organization.name,
                "done": contact.email_opted_out_at is not None,
            },
        )

    def post(self, request, token: str):
        contact = self._contact(token)
        if contact is None:
            return self._invalid(request)
        organization = contact.organization
        with tenant_scope(organization):
            services.contact_opt_out(
                actor=None,
                organization=organization,
                contact=contact,
                channel=Channel.EMAIL,
                reason="Unsubscribe link",
            )
        return render(
            request,
            "distribution/unsubscribe.html",
            {"organization_name": organization.name, "done": True},
        )


def _twilio_signed(request) -> bool:
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
        url, request.POST.dict(), signature
    )


@method_decorator(csrf_exempt, name="dispatch")
class TwilioInboundView(View):
    """Inbound SMS (Twilio's messaging webhook): signed, idempotent per MessageSid."""

    def post(self, request):
        from twilio.twiml.messaging_response import MessagingResponse

        if not _twilio_signed(request):
            return HttpResponseForbidden("invalid signature")
        reply, _replayed = sms.inbound_sms(
            message_sid=request.POST.get("MessageSid", ""),
            from_number=request.POST.get("From", ""),
            to_number=request.POST.get("To", ""),
            body=request.POST.get("Body", ""),
        )
        twiml = MessagingResponse()
        if reply:
            twiml.message(reply)
        return HttpResponse(str(twiml), content_type="application/xml")


@method_decorator(csrf_exempt, name="dispatch")
class TwilioStatusView(View):
    """Twilio's delivery status callback for one invitation (signed)."""

    def post(self, request):
        if not _twilio_signed(request):
            return HttpResponseForbidden("invalid signature")
        sms.status_callback(
            invitation_public_id=request.GET.get("ivt", ""),
            message_sid=request.POST.get("MessageSid", ""),
            status=request.POST.get("MessageStatus", ""),
            error=request.POST.get("ErrorCode", ""),
        )
        return HttpResponse(status=204)


@csrf_exempt
def tracking_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """`/hooks/email/<provider>/tracking/`: anymail's tracking view of the configured provider
    (`settings.EMAIL_WEBHOOK_PROVIDER`); any other provider is 404."""
    if not provider or provider != settings.EMAIL_WEBHOOK_PROVIDER:
        raise Http404
    try:
        match = resolve(f"/{provider}/tracking/", urlconf="anymail.urls")
    except Resolver404:
        raise Http404 from None
    return match.func(request, *match.args, **match.kwargs)
