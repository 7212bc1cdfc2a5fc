"""Choices of the surveys app. Metrics and distribution depend on these values: keep them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.channels import ResponseChannel


class QuestionType(models.TextChoices):
    NPS = "nps", _("NPS (0-10 likelihood to recommend)")
    CSAT = "csat", _("CSAT (1-5 satisfaction)")
    CES = "ces", _("CES 2.0 (1-7 agreement)")
    CES_LEGACY = "ces_legacy", _("CES legacy (1-5 effort)")
    WOMI = "womi", _("WOMI (recommend and discourage)")
    YES_NO = "yes_no", _("Yes / no")
    SMILEY = "smiley", _("Smiley (four faces)")
    RATING = "rating", _("Rating scale")
    SINGLE_CHOICE = "single_choice", _("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    TEXT = "text", _("Open text")


# How an answer came in; values and labels from the one vocabulary in core.
Channel = ResponseChannel


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", _("Closed")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ConditionOp(models.TextChoices):
    LTE = "lte", _("at most")
    GTE = "gte", _("at least")
    EQ = "eq", _("equals")
    IN = "in", _("is one of")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
