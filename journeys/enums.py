"""Choices of the journeys app, and the scale of each metric a measurement plan can name."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE_APP = "mobile_app", _("Mobile app")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    PHYSICAL_STORE = "physical_store", _("Physical store")
    FIELD_SERVICE = "field_service", _("Field service")
    OTHER = "other", _("Other")


# Used when a touchpoint is created without saying whether it is digital: the channel decides.
DIGITAL_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE_APP, Channel.EMAIL, Channel.CHAT})


class Metric(models.TextChoices):
    """Instruments a touchpoint can be measured with (definitions in docs/METRICS.md).

    New instruments are added here as they arrive; add their scale to METRIC_SCALES too.
    """

    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT %")
    CES = "ces", _("CES 2.0 (1-7)")
    CES_LEGACY = "ces_legacy", _("CES legacy (1-5, lower is better)")
    WOMI = "womi", _("WOMI")
    YES_NO = "yes_no", _("Content feedback (% yes)")
    SMILEY = "smiley", _("Smiley happy index")
    EMOTION = "emotion", _("Emotion index")
    EXQ = "exq", _("EXQ")
    MYSTERY_SHOPPING = "mystery_shopping", _("Mystery shopping score")


class KpiKind(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    TACTICAL = "tactical", _("Tactical")


class Direction(models.TextChoices):
    UP = "up", _("Move up")
    DOWN = "down", _("Move down")


class TargetStatus(models.TextChoices):
    """What a current-value provider reports per plan; the map shows the label as text."""

    ON_TARGET = "on_target", _("On target")
    BELOW = "below", _("Below target")
    NO_TARGET = "no_target", _("No target set")
    NO_DATA = "no_data", _("No data yet")


@dataclass(frozen=True)
class Scale:
    low: Decimal
    high: Decimal
    higher_is_better: bool = True


METRIC_SCALES: dict[str, Scale] = {
    Metric.NPS: Scale(Decimal(-100), Decimal(100)),
    Metric.CSAT: Scale(Decimal(0), Decimal(100)),
    Metric.CES: Scale(Decimal(1), Decimal(7)),
    Metric.CES_LEGACY: Scale(Decimal(1), Decimal(5), higher_is_better=False),
    Metric.WOMI: Scale(Decimal(-100), Decimal(100)),
    Metric.YES_NO: Scale(Decimal(0), Decimal(100)),
    Metric.SMILEY: Scale(Decimal(0), Decimal(100)),
    Metric.EMOTION: Scale(Decimal(-100), Decimal(100)),
    Metric.EXQ: Scale(Decimal(1), Decimal(7)),
    Metric.MYSTERY_SHOPPING: Scale(Decimal(0), Decimal(100)),
}


def target_status(*, metric: str, value: Decimal | float | None, target: Decimal | None) -> str:
    """On target or below, honouring metrics where lower is better (legacy CES).

    Meant for the provider that supplies current values to the journey map (see
    journeys.views.JourneyMapView.current_values), so every page judges targets alike.
    """
    if value is None:
        return TargetStatus.NO_DATA
    if target is None:
        return TargetStatus.NO_TARGET
    scale = METRIC_SCALES.get(metric)
    value = Decimal(str(value))
    if scale is not None and not scale.higher_is_better:
        return TargetStatus.ON_TARGET if value <= target else TargetStatus.BELOW
    return TargetStatus.ON_TARGET if value >= target else TargetStatus.BELOW
