from functools import partial

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from core.ids import new_public_id


class PublicIdField(models.CharField):
    """A unique, prefixed random id made when the row is created (`tp_k3m...`).

    Tables keyed by organization (see core.tenant_keys) pass `unique=False` and declare
    `UniqueConstraint(fields=["organization", "public_id"])` instead: a sharded database can only
    enforce uniqueness that includes the distribution column.
    """

    def __init__(self, *args, prefix: str, unique: bool = True, **kwargs):
        self.prefix = prefix
        kwargs.update(
            max_length=32, unique=unique, editable=False, default=partial(new_public_id, prefix)
        )
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for generated in ("max_length", "unique", "editable", "default"):
            kwargs.pop(generated, None)
        kwargs["prefix"] = self.prefix
        if not self.unique:
            kwargs["unique"] = False
        return name, path, args, kwargs


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ImportProgress(models.Model):
    """Progress of a file import run by a task in batches (contacts, responses): rows counted
    before the first batch, rows done, rows refused, and when it ran."""

    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == "done" else 0  # every import's statuses end in "done"
        return min(100, self.processed_rows * 100 // self.total_rows)


def organization_key() -> models.ForeignKey:
    """The owning organization of a tenant row. It gets no index of its own: the primary key at
    the database, `(organization_id, id)` (core.tenant_keys), serves every look-up by it."""
    return models.ForeignKey(
        "tenancy.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
        db_index=False,
    )


class TenantModel(models.Model):
    """Base of every row an organization owns.

    `objects` is scoped: outside `tenant_scope()` it raises instead of returning every tenant's
    rows. `all_objects` is the explicitly named unscoped manager for admin and migrations.
    """

    organization = organization_key()

    objects = ScopedManager(organization="organization")
    all_objects = models.Manager()  # noqa: DJ012 (ruff takes ScopedManager for a field)

    class Meta:
        abstract = True
        base_manager_name = "all_objects"


class ActivityLog(TenantModel):
    """Who did what to which object, when: written by services, read by admins."""

    public_id = PublicIdField(prefix="act", unique=False)
    created_at = models.DateTimeField(auto_now_add=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="activitylog_public_id"
            ),
        ]
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"


class IdempotencyKey(TenantModel):
    """The stored answer to a request sent with an `Idempotency-Key` header (see core.idempotency)."""

    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key


class OutboxMessage(TenantModel):
    """A task to send, written in the transaction of the change that calls for it.

    `core.outbox` publishes it right after the commit and deletes it; a row still here after
    `due_at` lost its publish (the process died, the broker was down) and the relay sends it.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.pk})"


class HandleKind(models.TextChoices):
    """What a handle names. Each is a value a request carries before its organization is known."""

    SURVEY_LINK = "survey_link", _("survey link")
    PERSONAL_LINK = "personal_link", _("personal link")
    API_KEY = "api_key", _("API key")
    MEMBER_INVITATION = "member_invitation", _("member invitation")
    KIOSK = "kiosk", _("kiosk")
    SHARE_LINK = "share_link", _("dashboard share link")
    PROVIDER_MESSAGE = "provider_message", _("provider message")
    INBOUND_SMS = "inbound_sms", _("inbound SMS")


class Handle(models.Model):
    """The directory of handles: a survey's link slug, a personal link's token, an API key's
    prefix, a member invitation's, kiosk's or dashboard share link's token hash, a provider's
    message id.

    Tenant tables keep such a value unique only within their organization (a sharded database
    enforces nothing wider); this table, keyed by the handle, makes it unique everywhere and
    says which organization's row it names, so a request that carries only the handle is routed
    to one organization (see core.handles)."""

    pk = models.CompositePrimaryKey("kind", "value")
    kind = models.CharField(max_length=20, choices=HandleKind.choices)
    value = models.CharField(max_length=100)
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField()

    class Meta:
        db_table = "core_handle"
        indexes = [models.Index(fields=["organization", "kind", "object_id"], name="handle_object")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"

    @classmethod
    def naming(cls, kind: str, value: str, row: models.Model) -> "Handle":
        """The (unsaved) handle that names a tenant row."""
        return cls(kind=kind, value=value, organization_id=row.organization_id, object_id=row.pk)


class HandleOwner(models.Model):
    """A tenant row named by a handle: saving it the first time claims `handle_field`'s value
    in the directory, in one transaction with the row. Rows made with `bulk_create` claim
    theirs with `core.handles.claim_many`."""

    handle_kind: str
    handle_field: str

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            return super().save(*args, **kwargs)
        # No savepoint of its own: a clash of random handles is rare enough to fail the caller's
        # whole transaction, and a savepoint costs two statements per row.
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            super().save(*args, **kwargs)
            Handle.naming(self.handle_kind, getattr(self, self.handle_field), self).save(
                using=self._state.db, force_insert=True
            )
