import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import PublicIdField, TenantModel, TimeStampedModel
from tenancy.enums import Language, Role


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_languages(value: list) -> None:
    known = set(Language.values)
    if not value or not isinstance(value, list) or not set(value) <= known:
        raise ValidationError(
            _("Choose one or more of: %(known)s."), params={"known": ", ".join(sorted(known))}
        )


MAX_EMBED_ORIGINS = 20


def web_origin(value: str) -> str | None:
    """`https://shop.example` (scheme, host and port, lower case) from what was typed, or None
    when it is not an http(s) origin: no path, query, user or wildcard."""
    parts = urlsplit((value or "").strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or "*" in parts.netloc:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def validate_embed_origins(value: list) -> None:
    if not isinstance(value, list) or len(value) > MAX_EMBED_ORIGINS:
        raise ValidationError(_("List at most %(n)s websites."), params={"n": MAX_EMBED_ORIGINS})
    for origin in value:
        if not isinstance(origin, str) or web_origin(origin) != origin:
            raise ValidationError(
                _("%(value)s is not a website address like https://shop.example."),
                params={"value": origin},
            )


def default_languages() -> list[str]:
    return ["fi", "sv", "en"]


class Organization(TimeStampedModel):
    """The tenant: everything else belongs to exactly one organization."""

    public_id = PublicIdField(prefix="org")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=50, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Helsinki", validators=[validate_time_zone]
    )
    default_language = models.CharField(
        _("default language"), max_length=2, choices=Language.choices, default=Language.FINNISH
    )
    languages = models.JSONField(
        _("languages offered"), default=default_languages, validators=[validate_languages]
    )
    brand_color = models.CharField(_("brand colour"), max_length=7, default="#1f5f8b")
    # Websites whose pages may show the organization's surveys (the embed script, CSP
    # frame-ancestors of the framed survey), as origins: "https://shop.example".
    embed_allowed_origins = models.JSONField(
        _("websites allowed to embed surveys"),
        default=list,
        blank=True,
        validators=[validate_embed_origins],
    )
    store_respondent_metadata = models.BooleanField(
        _("store respondents' IP address and browser"),
        default=False,
        help_text=_(
            "Off by default: responses keep no IP address or user agent unless this is on."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def clean(self) -> None:
        if self.languages and self.default_language not in self.languages:
            raise ValidationError({"default_language": _("The default language must be offered.")})


class Membership(TenantModel, TimeStampedModel):
    public_id = PublicIdField(prefix="mem", unique=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="membership_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique_user_per_org"
            ),
        ]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
