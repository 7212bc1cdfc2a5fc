"""Survey definitions as data: the shape checks for a question, the completeness checks that
stop a broken survey from being published, and the portable JSON format.

Pure (no ORM): services apply these to model rows, the importer to uploaded JSON, and the
templates library is written in the same format.
"""

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from surveys.enums import ConditionOp, QuestionType
from surveys.instruments import (
    CHOICE_TYPES,
    CONDITIONABLE_TYPES,
    INSTRUMENTS,
    RATING_LIMITS,
    SCALE_TYPES,
)
from tenancy.enums import Language

FORMAT = "cxplatform.survey"
FORMAT_VERSION = 1
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
QUESTION_FIELDS = (
    "key",
    "type",
    "texts",
    "texts_secondary",
    "scale_min",
    "scale_max",
    "labels",
    "choices",
    "required",
    "condition",
)
MAX_QUESTIONS = 100
MAX_CHOICES = 50
MAX_TEXT = 2000


@dataclass(frozen=True)
class Problem:
    """Why a version cannot be published; `question` is a key, `field` a question field."""

    code: str
    message: str
    question: str = ""
    field: str = ""
    language: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _is_texts(value: Any) -> bool:
    return isinstance(value, dict) and all(
        lang in Language.values and isinstance(text, str) and len(text) <= MAX_TEXT
        for lang, text in value.items()
    )


def _int_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def clean_question(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalise one question's fields and list what is malformed as (field, message).

    Shape only: whether texts exist for every offered language, labels are there and
    conditions point backwards is for `version_problems`, since the builder saves work
    in progress that is not complete yet.
    """
    errors: list[tuple[str, str]] = []
    question_type = data.get("type")
    if question_type not in QuestionType.values:
        return data, [("type", _("Unknown question type."))]
    clean = {field: data.get(field) for field in QUESTION_FIELDS}
    key = data.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        errors.append(
            (
                "key",
                _("Use 1-50 lower-case letters, digits, - or _, starting with a letter or digit."),
            )
        )
    for field in ("texts", "texts_secondary"):
        clean[field] = data.get(field) or {}
        if not _is_texts(clean[field]):
            errors.append((field, _('Give texts per language, e.g. {"fi": "...", "en": "..."}.')))
    if question_type != QuestionType.WOMI:
        clean["texts_secondary"] = {}
    clean["required"] = data.get("required", False)
    if not isinstance(clean["required"], bool):
        errors.append(("required", _("Say true or false.")))

    fixed = INSTRUMENTS[question_type].scale
    if question_type == QuestionType.RATING:
        low, high = data.get("scale_min"), data.get("scale_max")
        if not (_int_or_none(low) and _int_or_none(high)) or low is None or high is None:
            errors.append(("scale_min", _("A rating scale needs whole numbers for both ends.")))
        elif not RATING_LIMITS[0] <= low < high <= RATING_LIMITS[1]:
            errors.append(
                (
                    "scale_min",
                    _("A rating scale runs from %(low)s to at most %(high)s, low end first.")
                    % {"low": RATING_LIMITS[0], "high": RATING_LIMITS[1]},
                )
            )
    elif fixed is not None:
        clean["scale_min"], clean["scale_max"] = fixed
    else:
        clean["scale_min"] = clean["scale_max"] = None

    labels = data.get("labels") or {}
    clean["labels"] = labels if question_type in SCALE_TYPES else {}
    if question_type in SCALE_TYPES and not (
        isinstance(labels, dict)
        and all(
            lang in Language.values
            and isinstance(ends, dict)
            and set(ends) <= {"min", "max"}
            and all(isinstance(text, str) and len(text) <= MAX_TEXT for text in ends.values())
            for lang, ends in labels.items()
        )
    ):
        errors.append(
            ("labels", _('Give end labels per language: {"fi": {"min": "...", "max": "..."}}.'))
        )

    choices = data.get("choices") or []
    clean["choices"] = choices if question_type in CHOICE_TYPES else []
    if question_type in CHOICE_TYPES:
        values = []
        if not isinstance(choices, list) or len(choices) > MAX_CHOICES:
            errors.append(
                ("choices", _("Give at most %(n)s choices as a list.") % {"n": MAX_CHOICES})
            )
        else:
            for choice in choices:
                if (
                    not isinstance(choice, dict)
                    or not isinstance(choice.get("value"), str)
                    or not KEY_PATTERN.match(choice["value"])
                    or not _is_texts(choice.get("texts") or {})
                ):
                    errors.append(
                        (
                            "choices",
                            _('Each choice is {"value": "short-id", "texts": {"fi": "..."}}.'),
                        )
                    )
                    break
                values.append(choice["value"])
            if len(values) != len(set(values)):
                errors.append(("choices", _("Two choices have the same value.")))
            clean["choices"] = (
                [{"value": c["value"], "texts": c.get("texts") or {}} for c in choices]
                if not errors
                else choices
            )

    condition = data.get("condition")
    if condition in (None, {}):
        clean["condition"] = None
    elif not (
        isinstance(condition, dict)
        and isinstance(condition.get("question"), str)
        and condition.get("op") in ConditionOp.values
        and "value" in condition
        and set(condition) == {"question", "op", "value"}
    ):
        errors.append(
            (
                "condition",
                _('A condition is {"question": "<key>", "op": "lte|gte|eq|in", "value": ...}.'),
            )
        )
    else:
        value = condition["value"]
        if isinstance(value, bool):  # yes/no answers are stored as 1 and 0
            value = int(value)
        if condition["op"] == ConditionOp.IN and not isinstance(value, list):
            errors.append(("condition", _("The value of 'in' is a list.")))
        elif condition["op"] in (ConditionOp.LTE, ConditionOp.GTE) and not _int_or_none(value):
            errors.append(("condition", _("Compare at most / at least with a whole number.")))
        clean["condition"] = {**condition, "value": value}
    clean["metric"] = INSTRUMENTS[question_type].metric
    return clean, errors


def _missing(texts: dict, language: str) -> bool:
    return not (texts or {}).get(language, "").strip()


def version_problems(
    *, questions: list, languages: list[str], intro: dict, thank_you: dict
) -> list[Problem]:
    """Everything that stops a version from being published (empty list: it can be).

    `questions` are objects or dicts with the question fields, in position order.
    """

    def get(question, field):
        return question[field] if isinstance(question, dict) else getattr(question, field)

    problems: list[Problem] = []
    if not questions:
        problems.append(Problem("no_questions", _("Add at least one question.")))
    for field, texts in (("intro", intro), ("thank_you", thank_you)):
        if any((texts or {}).values()):
            for language in languages:
                if _missing(texts, language):
                    problems.append(
                        Problem(
                            "missing_translation",
                            _("The %(field)s text has no %(language)s translation.")
                            % {"field": field.replace("_", "-"), "language": language},
                            field=field,
                            language=language,
                        )
                    )
    earlier: dict[str, str] = {}
    for question in questions:
        key, question_type = get(question, "key"), get(question, "type")
        for language in languages:
            fields = [("texts", get(question, "texts"))]
            if question_type == QuestionType.WOMI:
                fields.append(("texts_secondary", get(question, "texts_secondary")))
            for field, texts in fields:
                if _missing(texts, language):
                    problems.append(
                        Problem(
                            "missing_translation",
                            _("Question %(key)s has no %(language)s text.")
                            % {"key": key, "language": language},
                            question=key,
                            field=field,
                            language=language,
                        )
                    )
            for choice in get(question, "choices") or []:
                if _missing(choice.get("texts"), language):
                    problems.append(
                        Problem(
                            "missing_translation",
                            _("Choice %(value)s of question %(key)s has no %(language)s text.")
                            % {"value": choice.get("value"), "key": key, "language": language},
                            question=key,
                            field="choices",
                            language=language,
                        )
                    )
        if INSTRUMENTS[question_type].needs_labels:
            labels = get(question, "labels") or {}
            if not any(labels.values()):
                problems.append(
                    Problem(
                        "scale_without_labels",
                        _("Question %(key)s needs labels for both ends of its scale.")
                        % {"key": key},
                        question=key,
                        field="labels",
                    )
                )
            else:
                for language in languages:
                    ends = labels.get(language) or {}
                    if _missing(ends, "min") or _missing(ends, "max"):
                        problems.append(
                            Problem(
                                "missing_translation",
                                _("Question %(key)s has no %(language)s labels for its scale ends.")
                                % {"key": key, "language": language},
                                question=key,
                                field="labels",
                                language=language,
                            )
                        )
        if question_type in CHOICE_TYPES and not get(question, "choices"):
            problems.append(
                Problem(
                    "no_choices",
                    _("Question %(key)s has no choices.") % {"key": key},
                    question=key,
                    field="choices",
                )
            )
        condition = get(question, "condition")
        if condition:
            target = condition.get("question")
            if target not in earlier:
                problems.append(
                    Problem(
                        "condition_not_earlier",
                        _("Question %(key)s depends on %(target)s, which does not come before it.")
                        % {"key": key, "target": target},
                        question=key,
                        field="condition",
                    )
                )
            elif earlier[target] not in CONDITIONABLE_TYPES:
                problems.append(
                    Problem(
                        "condition_on_text",
                        _(
                            "Question %(key)s depends on an open text answer, which cannot be compared."
                        )
                        % {"key": key},
                        question=key,
                        field="condition",
                    )
                )
        earlier[key] = question_type
    return problems


def definition_errors(data: Any, *, organization_languages: list[str]) -> list[dict[str, str]]:
    """Everything wrong with a portable survey file, as [{"path", "message"}]."""
    errors: list[dict[str, str]] = []

    def add(path: str, message: str) -> None:
        errors.append({"path": path, "message": message})

    if not isinstance(data, dict):
        add("", _("The file must hold one JSON object."))
        return errors
    if data.get("format") != FORMAT:
        add("format", _("Not a survey file: format must be %(format)s.") % {"format": FORMAT})
    if data.get("format_version") != FORMAT_VERSION:
        add(
            "format_version",
            _("Unsupported format version; this installation reads version %(v)s.")
            % {"v": FORMAT_VERSION},
        )
    if not isinstance(data.get("name", ""), str) or len(data.get("name", "")) > 200:
        add("name", _("The name is text of at most 200 characters."))
    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not set(languages) <= set(Language.values)
    ):
        add("languages", _('List the languages, e.g. ["fi", "sv", "en"].'))
    elif not set(languages) & set(organization_languages):
        add("languages", _("None of these languages is offered by your organization."))
    elif data.get("default_language") not in languages:
        add("default_language", _("The default language must be one of the languages."))
    for field in ("intro", "thank_you"):
        if not _is_texts(data.get(field) or {}):
            add(field, _('Give texts per language, e.g. {"fi": "...", "en": "..."}.'))
    questions = data.get("questions")
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        add("questions", _("Give at most %(n)s questions as a list.") % {"n": MAX_QUESTIONS})
        return errors
    keys = set()
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            add(f"questions[{index}]", _("Each question is an object."))
            continue
        unknown = set(question) - set(QUESTION_FIELDS)
        if unknown:
            add(
                f"questions[{index}]",
                _("Unknown fields: %(f)s.") % {"f": ", ".join(sorted(unknown))},
            )
        _clean, problems = clean_question(question)
        for field, message in problems:
            add(f"questions[{index}].{field}", message)
        if question.get("key") in keys:
            add(f"questions[{index}].key", _("Two questions have the same key."))
        keys.add(question.get("key"))
    return errors
