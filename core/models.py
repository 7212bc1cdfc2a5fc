from functools import partial

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
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


def organization_key(*, db_index: bool = True) -> models.ForeignKey:
    """The owning organization of a tenant row. Tables written in bulk pass `db_index=False`:
    their `(organization_id, ...)` indexes serve every look-up, and each index slows each insert."""
    return models.ForeignKey(
        "tenancy.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
        db_index=db_index,
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

    public_id = PublicIdField(prefix="act")
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
