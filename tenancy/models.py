import zoneinfo

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
    public_id = PublicIdField(prefix="mem")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique_user_per_org"
            )
        ]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
