from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import MemberInvitation


def send_invitation_email(invitation: MemberInvitation, token: str) -> None:
    organization = invitation.organization
    with translation.override(organization.default_language):
        context = {
            "invitation": invitation,
            "organization": organization,
            "inviter": invitation.invited_by,
            "accept_url": settings.PUBLIC_BASE_URL
            + reverse("accounts:invitation_accept", args=[token]),
            "role": invitation.get_role_display(),
        }
        subject = _("You are invited to %(organization)s on cxplatform") % {
            "organization": organization.name
        }
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("accounts/email/invitation.txt", context),
            to=[invitation.email],
        )
        message.attach_alternative(
            render_to_string("accounts/email/invitation.html", context), "text/html"
        )
        message.send()
