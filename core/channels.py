"""The one vocabulary of channels: how a customer meets the company and how an answer comes in.

Each model offers the part that fits it (a touchpoint is not answered by "import", an invitation
goes out only by email or SMS), but a value means the same everywhere and is labelled once, so
a touchpoint's "email" and a response's "email" can be joined and read alike.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE_APP = "mobile_app", _("Mobile app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMBED = "embed", _("Embedded on a site")
    QR = "qr", _("QR code")
    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    PHYSICAL_STORE = "physical_store", _("Physical store")
    FIELD_SERVICE = "field_service", _("Field service")
    OTHER = "other", _("Other")


def channel_subset(name: str, *members: Channel) -> type[models.TextChoices]:
    """Choices of some channels, with the values and labels of `Channel`."""
    return models.TextChoices(name, [(m.name, (m.value, m.label)) for m in members])


TouchpointChannel = channel_subset(
    "TouchpointChannel",
    Channel.WEB,
    Channel.MOBILE_APP,
    Channel.EMAIL,
    Channel.PHONE,
    Channel.CHAT,
    Channel.PHYSICAL_STORE,
    Channel.FIELD_SERVICE,
    Channel.OTHER,
)

ResponseChannel = channel_subset(
    "ResponseChannel",
    Channel.WEB,
    Channel.EMAIL,
    Channel.SMS,
    Channel.EMBED,
    Channel.QR,
    Channel.API,
    Channel.IMPORT,
    Channel.KIOSK,
    Channel.PHONE,
)

InvitationChannel = channel_subset("InvitationChannel", Channel.EMAIL, Channel.SMS)
