"""Surveys, their immutable published versions, questions, responses and answers.

A response points at the version it answered (PROTECT), so publishing a new version never
changes what an old answer meant. Texts are JSON objects keyed by language code
({"fi": "...", "sv": "...", "en": "..."}); which languages must be present is checked by
`surveys.services.survey_validate`, not by the database.
"""

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import ALPHABET
from core.models import (
    HandleKind,
    HandleOwner,
    ImportProgress,
    PublicIdField,
    TenantModel,
    TimeStampedModel,
)
from surveys.enums import Channel, ImportStatus, QuestionType, SurveyStatus, VersionStatus
from tenancy.enums import Language

LINK_SLUG_LENGTH = 10  # ~49 bits: short enough to type from a poster, too many to enumerate
TOKEN_LENGTH = 12  # ~71 bits of base62: fits an SMS and cannot be guessed
BASE62 = string.ascii_letters + string.digits


def new_link_slug() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LINK_SLUG_LENGTH))


def new_token() -> str:
    return "".join(secrets.choice(BASE62) for _ in range(TOKEN_LENGTH))


def default_languages() -> list[str]:
    return ["fi", "sv", "en"]


class Survey(TenantModel, HandleOwner, TimeStampedModel):
    """A questionnaire at a touchpoint. `current_version` is what respondents answer now."""

    handle_kind = HandleKind.SURVEY_LINK
    handle_field = "link_slug"

    public_id = PublicIdField(prefix="srv", unique=False)
    name = models.CharField(_("name"), max_length=200)
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surveys",
        db_constraint=False,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    link_slug = models.CharField(max_length=32, default=new_link_slug, editable=False)
    languages = models.JSONField(_("languages offered"), default=default_languages)
    default_language = models.CharField(
        _("default language"), max_length=2, choices=Language.choices, default=Language.FINNISH
    )
    current_version = models.ForeignKey(
        "SurveyVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Kept by the response path (`response_submit` adds one with F(), a post_delete receiver
    # takes one away), so the survey list reads a column instead of counting responses: counting
    # cost 1.6 s at a million responses. Bulk writers call `survey_response_counts_refresh`.
    response_count = models.PositiveIntegerField(_("responses"), default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "link_slug"], name="survey_link_slug"),
            models.UniqueConstraint(fields=["organization", "public_id"], name="survey_public_id"),
        ]
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "status", "name"], name="survey_org_status"),
            models.Index(fields=["organization", "touchpoint"], name="survey_org_touchpoint"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # A full save of a row read earlier would write back a stale count and lose the
        # responses submitted meanwhile: only F() updates ever write `response_count`.
        full_update = not (self._state.adding or args or kwargs.get("force_insert"))
        if full_update and kwargs.get("update_fields") is None:
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name != "response_count"
                and field.attname not in deferred
            ]
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.PUBLISHED and self.current_version_id is not None


class SurveyVersion(TenantModel, TimeStampedModel):
    """One numbered version of a survey's questions. Published versions are never edited."""

    public_id = PublicIdField(prefix="ver", unique=False)
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="versions", db_constraint=False
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # The languages the version was published in (copied from the survey at publish), so adding a
    # language to the survey cannot expose an untranslated published version.
    languages = models.JSONField(_("languages"), default=list, blank=True)
    intro = models.JSONField(_("introduction"), default=dict, blank=True)
    thank_you = models.JSONField(_("thank-you text"), default=dict, blank=True)

    class Meta:
        ordering = ["survey_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="surveyversion_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "survey", "number"], name="survey_version_number_unique"
            ),
            # At most one draft per survey: "edit" always lands on the same next version.
            models.UniqueConstraint(
                fields=["organization", "survey"],
                condition=Q(status=VersionStatus.DRAFT),
                name="survey_version_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(status=VersionStatus.DRAFT) | Q(published_at__isnull=False),
                name="survey_version_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey.name} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Question(TenantModel, TimeStampedModel):
    """One question of a version. `key` is stable across versions; positions are dense 0..n-1.

    Texts: `texts` {"fi": "..."}; for WOMI `texts` holds the recommend question and
    `texts_secondary` the discourage question. `labels` {"fi": {"min": "...", "max": "..."}}
    name the scale ends. `choices` [{"value": "...", "texts": {"fi": "..."}}]. `condition`
    {"question": "<earlier key>", "op": "lte"|"gte"|"eq"|"in", "value": ...} or null.
    """

    public_id = PublicIdField(prefix="q", unique=False)
    version = models.ForeignKey(
        SurveyVersion, on_delete=models.CASCADE, related_name="questions", db_constraint=False
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    key = models.SlugField(_("key"), max_length=50)
    type = models.CharField(_("type"), max_length=20, choices=QuestionType.choices)
    texts = models.JSONField(_("question"), default=dict)
    texts_secondary = models.JSONField(_("second question (WOMI)"), default=dict, blank=True)
    scale_min = models.IntegerField(_("scale from"), null=True, blank=True)
    scale_max = models.IntegerField(_("scale to"), null=True, blank=True)
    labels = models.JSONField(_("scale end labels"), default=dict, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    condition = models.JSONField(_("show only when"), null=True, blank=True)
    metric = models.CharField(_("metric"), max_length=20, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="question_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "version", "key"], name="question_key_unique_in_version"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "version", "position"], name="question_org_ver")
        ]

    def __str__(self) -> str:
        return self.key

    def text(self, language: str, fallback: str = "") -> str:
        return self.texts.get(language) or self.texts.get(fallback) or ""


class PersonalLink(TenantModel, HandleOwner, TimeStampedModel):
    """A personal `/r/<token>/` link (made for an invitation): answered at most once.

    Opening it (GET) changes nothing; `opened_at` is recorded on the first POST.
    """

    handle_kind = HandleKind.PERSONAL_LINK
    handle_field = "token"

    public_id = PublicIdField(prefix="pl", unique=False)
    token = models.CharField(max_length=32, default=new_token, editable=False)
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="personal_links", db_constraint=False
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    language = models.CharField(max_length=2, choices=Language.choices)
    # How the link reached the respondent; the response is recorded with this channel.
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    hidden_fields = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    partial_answers = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "token"], name="personallink_token"),
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="personallink_public_id"
            ),
        ]
        indexes = [models.Index(fields=["organization", "survey"], name="personal_link_org_srv")]

    def __str__(self) -> str:
        return self.public_id


class Response(TenantModel, TimeStampedModel):
    """One submitted questionnaire. Immutable once saved; metrics set `processed_at`."""

    public_id = PublicIdField(prefix="rsp", unique=False)
    # Written in bulk: the creation time gets no index of its own (see DropPatternIndex too).
    created_at = models.DateTimeField(auto_now_add=True)
    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", db_constraint=False
    )
    version = models.ForeignKey(
        SurveyVersion, on_delete=models.PROTECT, related_name="responses", db_constraint=False
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        db_constraint=False,
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    submitted_at = models.DateTimeField(_("submitted"))
    hidden_fields = models.JSONField(_("hidden fields"), default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    personal_link = models.ForeignKey(
        PersonalLink,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        related_query_name="response",
        # The unique (organization, personal_link) constraint is its index.
        db_index=False,
        db_constraint=False,
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "personal_link"], name="response_personal_link"
            ),
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="response_public_id"
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="response_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "submitted_at"], name="response_org_submitted"),
            models.Index(
                fields=["organization", "survey", "submitted_at"], name="response_org_srv_sub"
            ),
            models.Index(
                fields=["organization", "touchpoint", "submitted_at"], name="response_org_tp_sub"
            ),
            # The sweep for unprocessed responses runs across tenants; a partial index holds
            # only the few rows still waiting, so it stays tiny however many responses exist.
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="response_unprocessed",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class Answer(TenantModel):
    """One question's answer: the raw integer for scales (WOMI: recommend in `value_int`,
    discourage in `value_int_2`; yes = 1, no = 0), the text, or the chosen values."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_constraint=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", db_constraint=False
    )
    value_int = models.IntegerField(null=True, blank=True)
    value_int_2 = models.IntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    value_choices = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]  # answers are saved in question order
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "response", "question"], name="answer_one_per_question"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "question", "response"], name="answer_org_q_rsp")
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value_int if self.value_int is not None else ''}"


class ResponseImport(TenantModel, TimeStampedModel, ImportProgress):
    """A CSV file of historical responses and the progress of the task importing it
    (`surveys.importing`). Keyed by organization at the database (core.tenant_keys). The file
    lives in the database (the worker may run on another machine) until the import ends."""

    public_id = PublicIdField(prefix="rimp", unique=False)
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=200)
    content = models.TextField(blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    # The uploader's language: the per-row messages are written in it.
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "public_id"], name="response_import_public_id"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "survey", "-created_at"], name="response_import_org_srv"
            ),
            models.Index(fields=["status", "updated_at"], name="response_import_status"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ResponseImportError(TenantModel):
    """One problem of one row of a response import (the row was not saved); no cell values."""

    job = models.ForeignKey(
        ResponseImport, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [
            models.Index(
                fields=["organization", "job", "row_number"], name="response_import_err_row"
            )
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"
