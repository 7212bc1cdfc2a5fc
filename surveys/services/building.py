"""Building and versioning surveys: the services behind every builder action.

Versioning: a survey has at most one draft version and any number of published ones. Published
versions are immutable: every question service refuses to touch one and works on the draft
instead (making it from the current version when there is none), so "edit" on a published
survey always means "the next version". Responses keep the version they answered.
"""

from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ConflictError
from core.services import activity_record
from surveys import definitions
from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import Question, Survey, SurveyVersion
from surveys.templates_library import TEMPLATES
from tenancy.actors import Actor
from tenancy.models import Organization

# --- surveys ---------------------------------------------------------------------------------


def _check_languages(
    organization: Organization, languages: list[str] | None, default_language: str | None
) -> tuple[list[str], str]:
    offered = list(organization.languages)
    languages = list(languages) if languages is not None else offered
    if not languages or not isinstance(languages, list) or not set(languages) <= set(offered):
        raise ApplicationError(
            _("Choose one or more of your organization's languages: %(offered)s.")
            % {"offered": ", ".join(offered)},
            code="invalid_languages",
            extra={"field": "languages"},
        )
    languages = [language for language in offered if language in languages]
    if default_language is None:
        default_language = (
            organization.default_language
            if organization.default_language in languages
            else languages[0]
        )
    if default_language not in languages:
        raise ApplicationError(
            _("The default language must be one of the survey's languages."),
            code="invalid_default_language",
            extra={"field": "default_language"},
        )
    return languages, default_language


def _check_touchpoint(organization: Organization, touchpoint) -> None:
    if touchpoint is not None and touchpoint.organization_id != organization.pk:
        raise ApplicationError(
            _("No such touchpoint."), code="invalid_touchpoint", extra={"field": "touchpoint"}
        )


@transaction.atomic
def survey_create(
    *,
    actor: Actor,
    organization: Organization,
    name: str,
    touchpoint=None,
    languages: list[str] | None = None,
    default_language: str | None = None,
) -> Survey:
    """A new survey with an empty draft version 1. Languages default to the organization's."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            _("Give the survey a name."), code="invalid", extra={"field": "name"}
        )
    _check_touchpoint(organization, touchpoint)
    languages, default_language = _check_languages(organization, languages, default_language)
    survey = Survey.objects.create(
        organization=organization,
        name=name[:200],
        touchpoint=touchpoint,
        languages=languages,
        default_language=default_language,
    )
    SurveyVersion.objects.create(organization=organization, survey=survey, number=1)
    activity_record(
        organization=organization, actor=actor, action="surveys.survey.created", target=survey
    )
    return survey


@transaction.atomic
def survey_update(*, actor: Actor, survey: Survey, **changes: Any) -> Survey:
    """Change name, touchpoint, languages or default language (not versioned: they are the
    survey's settings; published versions keep the languages they were published in)."""
    allowed = {"name", "touchpoint", "languages", "default_language"}
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here."), code="invalid")
    organization = survey.organization
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ApplicationError(
                _("Give the survey a name."), code="invalid", extra={"field": "name"}
            )
        changes["name"] = name[:200]
    if "touchpoint" in changes:
        _check_touchpoint(organization, changes["touchpoint"])
    if "languages" in changes or "default_language" in changes:
        languages = changes.get("languages", survey.languages)
        default_language = changes.get("default_language", survey.default_language)
        if "default_language" not in changes and default_language not in (languages or []):
            default_language = None  # dropped with its language: pick the next best
        changes["languages"], changes["default_language"] = _check_languages(
            organization, languages, default_language
        )
    diff = {}
    for field, value in changes.items():
        old = getattr(survey, field)
        if old != value:
            diff[field] = [getattr(old, "public_id", old), getattr(value, "public_id", value)]
            setattr(survey, field, value)
    if diff:
        survey.save()
        activity_record(
            organization=organization,
            actor=actor,
            action="surveys.survey.updated",
            target=survey,
            data=diff,
        )
    return survey


def _copy_questions(source: SurveyVersion, target: SurveyVersion) -> None:
    Question.objects.bulk_create(
        [
            Question(
                organization_id=target.organization_id,
                version=target,
                position=question.position,
                key=question.key,
                type=question.type,
                texts=question.texts,
                texts_secondary=question.texts_secondary,
                scale_min=question.scale_min,
                scale_max=question.scale_max,
                labels=question.labels,
                choices=question.choices,
                required=question.required,
                condition=question.condition,
                metric=question.metric,
            )
            for question in source.questions.order_by("position", "id")
        ]
    )


def _locked_survey(survey: Survey) -> Survey:
    """Lock the survey row: two editors making the next draft at once must make one."""
    return Survey.objects.select_for_update().get(
        organization_id=survey.organization_id, pk=survey.pk
    )


@transaction.atomic
def survey_new_draft(*, actor: Actor, survey: Survey) -> SurveyVersion:
    """The survey's draft version: the existing one, or the next number with the current
    version's questions and texts copied. Idempotent: calling twice returns the same draft."""
    _locked_survey(survey)
    draft = survey.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    source = survey.current_version or survey.versions.order_by("-number").first()
    number = (survey.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    draft = SurveyVersion.objects.create(
        organization=survey.organization,
        survey=survey,
        number=number,
        intro=source.intro if source else {},
        thank_you=source.thank_you if source else {},
    )
    if source is not None:
        _copy_questions(source, draft)
    activity_record(
        organization=survey.organization,
        actor=actor,
        action="surveys.version.drafted",
        target=survey,
        data={"version": number},
    )
    return draft


def _draft_for(actor: Actor, survey: Survey) -> SurveyVersion:
    return survey_new_draft(actor=actor, survey=survey)


def _draft_question(actor: Actor, question: Question) -> Question:
    """The question itself when it is on the draft, else its twin (same key) on the draft."""
    if question.version.status == VersionStatus.DRAFT:
        return question
    draft = _draft_for(actor, question.version.survey)
    twin = draft.questions.filter(key=question.key).first()
    if twin is None:
        raise ConflictError(
            _("This question was removed from the draft of the next version."),
            code="question_not_in_draft",
        )
    return twin


@transaction.atomic
def version_update_texts(
    *, actor: Actor, survey: Survey, intro: dict | None = None, thank_you: dict | None = None
) -> SurveyVersion:
    """Set the intro and thank-you texts ({"fi": "..."}) on the draft."""
    draft = _draft_for(actor, survey)
    for field, value in (("intro", intro), ("thank_you", thank_you)):
        if value is None:
            continue
        if not definitions._is_texts(value):
            raise ApplicationError(
                _('Give texts per language, e.g. {"fi": "...", "en": "..."}.'),
                code="invalid",
                extra={"field": field},
            )
        setattr(draft, field, {lang: text.strip() for lang, text in value.items()})
    draft.save()
    activity_record(
        organization=survey.organization,
        actor=actor,
        action="surveys.version.texts_updated",
        target=survey,
        data={"version": draft.number},
    )
    return draft


# --- questions -------------------------------------------------------------------------------


def _raise_first(errors: list[tuple[str, str]]) -> None:
    if errors:
        field, message = errors[0]
        raise ApplicationError(message, code="invalid_question", extra={"field": field})


def _unique_key(version: SurveyVersion, wanted: str, question_type: str) -> str:
    taken = set(version.questions.values_list("key", flat=True))
    base = slugify(wanted)[:44] or question_type.replace("_", "-")
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


@transaction.atomic
def question_add(
    *,
    actor: Actor,
    survey: Survey,
    type: str,
    texts: dict,
    key: str = "",
    texts_secondary: dict | None = None,
    scale_min: int | None = None,
    scale_max: int | None = None,
    labels: dict | None = None,
    choices: list | None = None,
    required: bool = False,
    condition: dict | None = None,
) -> Question:
    """Append a question to the survey's draft (made from the current version if needed).

    A blank key is made from the type; a given key must be free in the version.
    Raises ApplicationError naming the field that is malformed.
    """
    draft = _draft_for(actor, survey)
    if key and draft.questions.filter(key=key).exists():
        raise ApplicationError(
            _("Another question uses this key."), code="key_taken", extra={"field": "key"}
        )
    key = key or _unique_key(draft, "", type)
    clean, errors = definitions.clean_question(
        {
            "key": key,
            "type": type,
            "texts": texts,
            "texts_secondary": texts_secondary,
            "scale_min": scale_min,
            "scale_max": scale_max,
            "labels": labels,
            "choices": choices,
            "required": required,
            "condition": condition,
        }
    )
    _raise_first(errors)
    position = draft.questions.count()
    question = Question.objects.create(
        organization=survey.organization, version=draft, position=position, **clean
    )
    activity_record(
        organization=survey.organization,
        actor=actor,
        action="surveys.question.added",
        target=question,
        data={"version": draft.number, "type": type},
    )
    return question


@transaction.atomic
def question_update(*, actor: Actor, question: Question, **changes: Any) -> Question:
    """Change a question on the draft. A question of a published version is changed on the
    draft's twin instead (the draft is made when missing), which is returned."""
    question = _draft_question(actor, question)
    unknown = set(changes) - set(definitions.QUESTION_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))}, code="invalid"
        )
    data = {field: getattr(question, field) for field in definitions.QUESTION_FIELDS}
    data.update(changes)
    if data["key"] != question.key and question.version.questions.filter(key=data["key"]).exists():
        raise ApplicationError(
            _("Another question uses this key."), code="key_taken", extra={"field": "key"}
        )
    clean, errors = definitions.clean_question(data)
    _raise_first(errors)
    diff = {f: True for f, v in clean.items() if getattr(question, f) != v}
    for field, value in clean.items():
        setattr(question, field, value)
    question.save()
    if diff:
        activity_record(
            organization=question.organization,
            actor=actor,
            action="surveys.question.updated",
            target=question,
            data={"fields": sorted(diff)},
        )
    return question


@transaction.atomic
def question_move(*, actor: Actor, question: Question, position: int) -> Question:
    """Move a draft question to `position` (0-based, clamped); the others close up.

    Conditions that now point at a later question are reported by `survey_validate`.
    """
    question = _draft_question(actor, question)
    rows = list(
        Question.objects.select_for_update()
        .filter(organization_id=question.organization_id, version_id=question.version_id)
        .order_by("position", "id")
    )
    rows = [row for row in rows if row.pk != question.pk]
    position = max(0, min(int(position), len(rows)))
    rows.insert(position, question)
    for index, row in enumerate(rows):
        if row.position != index:
            Question.objects.filter(pk=row.pk).update(position=index)
            row.position = index
    activity_record(
        organization=question.organization,
        actor=actor,
        action="surveys.question.moved",
        target=question,
        data={"position": position},
    )
    return question


@transaction.atomic
def question_remove(*, actor: Actor, question: Question) -> None:
    """Remove a question from the draft (published versions keep theirs)."""
    question = _draft_question(actor, question)
    version_id = question.version_id
    activity_record(
        organization=question.organization,
        actor=actor,
        action="surveys.question.removed",
        target=question,
    )
    question.delete()
    Question.objects.filter(version_id=version_id, position__gt=question.position).update(
        position=F("position") - 1
    )


# --- validation, publishing, status ----------------------------------------------------------


def survey_validate(version: SurveyVersion) -> list[definitions.Problem]:
    """What stops this version from being published, for the survey's offered languages."""
    return definitions.version_problems(
        questions=list(version.questions.order_by("position", "id")),
        languages=version.languages if version.is_published else version.survey.languages,
        intro=version.intro,
        thank_you=version.thank_you,
    )


@transaction.atomic
def survey_publish(*, actor: Actor, survey: Survey) -> SurveyVersion:
    """Publish the draft: it becomes immutable and what respondents answer from now on.

    Raises ApplicationError `survey_invalid` with `extra["problems"]` when the draft is not
    complete, and ConflictError `nothing_to_publish` when there is no draft.
    """
    locked = _locked_survey(survey)
    survey.status, survey.current_version = locked.status, locked.current_version
    draft = survey.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is None:
        raise ConflictError(
            _("There are no unpublished changes to publish."), code="nothing_to_publish"
        )
    problems = survey_validate(draft)
    if problems:
        raise ApplicationError(
            _("The survey cannot be published until these problems are fixed."),
            code="survey_invalid",
            extra={"problems": [problem.as_dict() for problem in problems]},
        )
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = timezone.now()
    draft.languages = list(survey.languages)
    draft.save()
    survey.current_version = draft
    if survey.status == SurveyStatus.DRAFT:
        survey.status = SurveyStatus.PUBLISHED
    survey.save()
    activity_record(
        organization=survey.organization,
        actor=actor,
        action="surveys.survey.published",
        target=survey,
        data={"version": draft.number},
    )
    return draft


def _set_status(actor: Actor, survey: Survey, status: str, action: str) -> Survey:
    survey.status = status
    survey.save(update_fields=["status", "updated_at"])
    activity_record(organization=survey.organization, actor=actor, action=action, target=survey)
    return survey


@transaction.atomic
def survey_close(*, actor: Actor, survey: Survey) -> Survey:
    """Stop taking responses; links show a friendly "closed" page. Closing twice is a no-op."""
    if survey.status == SurveyStatus.CLOSED:
        return survey
    if survey.current_version_id is None:
        raise ConflictError(_("Only a published survey can be closed."), code="not_published")
    return _set_status(actor, survey, SurveyStatus.CLOSED, "surveys.survey.closed")


@transaction.atomic
def survey_reopen(*, actor: Actor, survey: Survey) -> Survey:
    """Take responses again with the current version."""
    if survey.status != SurveyStatus.CLOSED:
        return survey
    return _set_status(actor, survey, SurveyStatus.PUBLISHED, "surveys.survey.reopened")


# --- portable definitions --------------------------------------------------------------------


def survey_export(survey: Survey) -> dict[str, Any]:
    """The latest version (draft or published) as portable JSON (see surveys.definitions)."""
    version = survey.versions.order_by("-number").first()
    questions = list(version.questions.order_by("position", "id")) if version else []
    return {
        "format": definitions.FORMAT,
        "format_version": definitions.FORMAT_VERSION,
        "name": survey.name,
        "languages": list(survey.languages),
        "default_language": survey.default_language,
        "intro": version.intro if version else {},
        "thank_you": version.thank_you if version else {},
        "questions": [
            {field: getattr(question, field) for field in definitions.QUESTION_FIELDS}
            for question in questions
        ],
    }


@transaction.atomic
def survey_import(
    *,
    actor: Actor,
    organization: Organization,
    data: Any,
    name: str = "",
    touchpoint=None,
    action: str = "surveys.survey.imported",
) -> Survey:
    """A new draft survey from portable JSON. Languages the organization does not offer are
    dropped. Raises ApplicationError `invalid_survey_file` with `extra["errors"]` listing
    every problem as {"path", "message"}; nothing is saved then."""
    errors = definitions.definition_errors(data, organization_languages=organization.languages)
    if errors:
        raise ApplicationError(
            _("The survey file is not valid."), code="invalid_survey_file", extra={"errors": errors}
        )
    languages = [lang for lang in data["languages"] if lang in organization.languages]
    default_language = data.get("default_language")
    survey = survey_create(
        actor=actor,
        organization=organization,
        name=name or data.get("name") or _("Imported survey"),
        touchpoint=touchpoint,
        languages=languages,
        default_language=default_language if default_language in languages else None,
    )
    version = survey.versions.get()
    version.intro = data.get("intro") or {}
    version.thank_you = data.get("thank_you") or {}
    version.save()
    rows = []
    for position, raw in enumerate(data["questions"]):
        clean, _errors = definitions.clean_question(raw)
        rows.append(
            Question(organization=organization, version=version, position=position, **clean)
        )
    Question.objects.bulk_create(rows)
    activity_record(
        organization=organization,
        actor=actor,
        action=action,
        target=survey,
        data={"questions": len(rows)},
    )
    return survey


def survey_create_from_template(
    *, actor: Actor, organization: Organization, template_key: str, name: str, touchpoint=None
) -> Survey:
    """A draft survey from the ready-made library (surveys.templates_library), in the
    organization's languages. Raises ApplicationError `unknown_template`."""
    template = TEMPLATES.get(template_key)
    if template is None:
        raise ApplicationError(
            _("No such template."), code="unknown_template", extra={"field": "template_key"}
        )
    return survey_import(
        actor=actor,
        organization=organization,
        data=template.definition,
        name=name,
        touchpoint=touchpoint,
        action="surveys.survey.created_from_template",
    )
