import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import HandleKind, HandleOwner, PublicIdField, TenantModel, TimeStampedModel
from tenancy.enums import Language, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Users are not tenant-owned: one person may belong to several organizations."""

    public_id = PublicIdField(prefix="usr")
    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


def hash_secret(secret: str) -> str:
    # Keys are long random strings, so one round of SHA-256 is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiKey(TenantModel, HandleOwner, TimeStampedModel):
    """A key for integrations. Only its hash is stored; the prefix stays visible to tell keys apart."""

    handle_kind = HandleKind.API_KEY
    handle_field = "prefix"

    public_id = PublicIdField(prefix="key", unique=False)
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(
        _("scope"), max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Empty: settings.API_RATE_LIMIT_PER_MINUTE. A busy integration may be given more.
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the site's default limit."),
    )

    is_api_key = True

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "prefix"], name="apikey_prefix"),
            models.UniqueConstraint(fields=["organization", "public_id"], name="apikey_public_id"),
        ]
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new key as (full key, prefix, secret hash); the full key is shown once and never stored."""
        prefix = "cxk_" + secrets.token_hex(4)
        full_key = f"{prefix}.{secrets.token_urlsafe(32)}"
        return full_key, prefix, hash_secret(full_key)


class MemberInvitation(TenantModel, HandleOwner, TimeStampedModel):
    """An invitation for a colleague to join with a role; the emailed link expires."""

    handle_kind = HandleKind.MEMBER_INVITATION
    handle_field = "token_hash"

    public_id = PublicIdField(prefix="inv", unique=False)
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Set once the email is out; an invitation left without it (the broker was down) is sent
    # again by the periodic sweep with a fresh token, since only the token's hash is stored.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "token_hash"], name="memberinvitation_token_hash"
            ),
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="memberinvitation_public_id"
            ),
        ]
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return self.email

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
