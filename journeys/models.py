from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import PublicIdField, TenantModel, TimeStampedModel
from journeys.enums import Channel, JourneyStatus, KpiKind, Metric


class Journey(TenantModel, TimeStampedModel):
    """A customer journey of one segment (e.g. "B2C web shop"): stages hold its touchpoints."""

    public_id = PublicIdField(prefix="jny", unique=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    segment = models.CharField(
        _("segment"),
        max_length=200,
        blank=True,
        help_text=_("The customer group the journey describes, e.g. B2B key accounts."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=JourneyStatus.choices, default=JourneyStatus.ACTIVE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="journey_public_id"),
        ]
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "status", "name"], name="journey_org_status")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.status == JourneyStatus.ARCHIVED

    def get_absolute_url(self) -> str:
        return reverse("journeys:journey", args=[self.organization.slug, self.public_id])


class Stage(TenantModel, TimeStampedModel):
    """A column of the journey map. Positions are dense (0..n-1) within the journey."""

    public_id = PublicIdField(prefix="stg", unique=False)
    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="stages", db_constraint=False
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="stage_public_id"),
        ]
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["organization", "journey", "position"], name="stage_org_journey")
        ]

    def __str__(self) -> str:
        return self.name


class Touchpoint(TenantModel, TimeStampedModel):
    """A moment where the customer meets the company; feedback and alerts hang on it.

    `journey` repeats `stage.journey` (services keep them equal) so that filtering a journey's
    touchpoints, which responses and rollups do constantly, needs no join. Positions are dense
    within the stage, archived touchpoints included.
    """

    public_id = PublicIdField(prefix="tp", unique=False)
    journey = models.ForeignKey(
        Journey, on_delete=models.CASCADE, related_name="touchpoints", db_constraint=False
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="touchpoints", db_constraint=False
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.OTHER
    )
    is_digital = models.BooleanField(_("digital"), default=False)
    is_key = models.BooleanField(
        _("key touchpoint"),
        default=False,
        help_text=_("One of the moments with the most weight on conversion."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The member alerts and follow-up cases go to."),
    )
    external_ref = models.CharField(
        _("external reference"),
        max_length=200,
        blank=True,
        help_text=_("A store id or page URL pattern integrations use to attribute feedback."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="touchpoint_public_id"
            ),
        ]
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["organization", "external_ref"], name="touchpoint_org_ext_ref"),
            models.Index(
                fields=["organization", "journey", "stage"], name="touchpoint_org_journey"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def get_absolute_url(self) -> str:
        return reverse("journeys:touchpoint", args=[self.organization.slug, self.public_id])


class MeasurementPlan(TenantModel, TimeStampedModel):
    """One metric measured at a touchpoint, with where we stand (baseline) and want to be (target)."""

    public_id = PublicIdField(prefix="mp", unique=False)
    touchpoint = models.ForeignKey(
        Touchpoint,
        on_delete=models.CASCADE,
        related_name="measurement_plans",
        db_constraint=False,
    )
    metric = models.CharField(_("metric"), max_length=30, choices=Metric.choices)
    kpi_kind = models.CharField(
        _("KPI kind"), max_length=20, choices=KpiKind.choices, default=KpiKind.OPERATIONAL
    )
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    target_value = models.DecimalField(
        _("target"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)

    class Meta:
        ordering = ["metric", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="measurementplan_public_id"
            ),
            # organization leads so the constraint stays valid when tables shard by tenant.
            models.UniqueConstraint(
                fields=["organization", "touchpoint", "metric"],
                name="measurement_plan_one_per_metric",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} · {self.touchpoint.name}"
