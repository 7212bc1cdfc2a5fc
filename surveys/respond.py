"""The respondent form as data: form fields <-> raw answers, language choice, and what the
template needs for each question. No queries and no writes (the views call the services).

Form field names: a question's key; WOMI's discourage value is `<key>__discourage`; a multiple
choice posts its key once per ticked option. Partial answers are kept in this form shape.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

from surveys.enums import QuestionType
from surveys.instruments import SCORE_TYPES, AnswerInvalid, clean_answer, is_blank, scale_of

SECONDARY_SUFFIX = "__discourage"
HIDDEN_PREFIX = "hidden_"
SUBMISSION_PATTERN = re.compile(r"^[0-9a-f]{32}$")
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#1f5f8b"
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
SMILEY_FACES = [
    (1, "😞", gettext_lazy("Very unhappy")),
    (2, "🙁", gettext_lazy("Unhappy")),
    (3, "🙂", gettext_lazy("Happy")),
    (4, "😀", gettext_lazy("Very happy")),
]


def form_values(questions, data) -> dict[str, Any]:
    """The question fields of a POST (a QueryDict), in the shape kept as partial answers."""
    values: dict[str, Any] = {}
    for question in questions:
        if question.type == QuestionType.MULTIPLE_CHOICE:
            values[question.key] = [value for value in data.getlist(question.key) if value]
        else:
            values[question.key] = data.get(question.key, "")
        if question.type == QuestionType.WOMI:
            name = question.key + SECONDARY_SUFFIX
            values[name] = data.get(name, "")
    return values


def raw_answers(questions, values: dict[str, Any]) -> dict[str, Any]:
    """Form values -> the answers `response_submit` takes (blank ones left out)."""
    answers: dict[str, Any] = {}
    for question in questions:
        value = values.get(question.key)
        if question.type == QuestionType.WOMI:
            secondary = values.get(question.key + SECONDARY_SUFFIX)
            if not (is_blank(value) and is_blank(secondary)):
                answers[question.key] = {"recommend": value or "", "discourage": secondary or ""}
        elif not is_blank(value):
            answers[question.key] = value
    return answers


def score_preselection(questions, score: str | None) -> dict[str, str]:
    """`?score=N` from an emailed one-link-per-value: the first score question, if N fits."""
    if not score:
        return {}
    for question in questions:
        if question.type in SCORE_TYPES:
            try:
                clean_answer(question, score)
            except AnswerInvalid:
                return {}
            return {question.key: score}
    return {}


def choose_language(
    *,
    requested: str | None,
    link_language: str | None,
    accept: str,
    offered: list[str],
    default: str,
) -> str:
    """?lang= first, then the invitation's language, then the browser's, then the default."""
    for candidate in (requested, link_language):
        if candidate in offered:
            return candidate
    for code, _quality in parse_accept_lang_header(accept or ""):
        base = code.split("-")[0].lower()
        if base in offered:
            return base
    return default if default in offered else offered[0]


def brand_colour(value: str) -> str:
    """The organization's colour when it is a plain #rrggbb (it lands in a style attribute)."""
    return value if COLOUR_PATTERN.match(value or "") else DEFAULT_COLOUR


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def brand_ink(colour: str) -> str:
    """White or near-black, whichever contrasts more with the brand colour (WCAG ratio), so text
    on an organization's own colour stays readable whatever colour it chose."""
    dark = "#1a1a1a"
    luminance = _luminance(brand_colour(colour))
    on_white = 1.05 / (luminance + 0.05)
    on_dark = (luminance + 0.05) / (_luminance(dark) + 0.05)
    return "#ffffff" if on_white >= on_dark else dark


def hidden_fields_from(data) -> dict[str, str]:
    """`hidden_<name>=value` parameters of an anonymous link (order id, store, agent...)."""
    return {
        name[len(HIDDEN_PREFIX) :]: value
        for name, value in data.items()
        if name.startswith(HIDDEN_PREFIX) and len(name) > len(HIDDEN_PREFIX)
    }


def texts_in(texts: dict, language: str, fallback: str) -> str:
    return (texts or {}).get(language) or (texts or {}).get(fallback) or ""


@dataclass
class Option:
    value: str
    label: str
    checked: bool
    icon: str = ""


@dataclass
class QuestionView:
    key: str
    type: str
    number: int
    text: str
    required: bool
    shown: bool
    condition_json: str
    options: list[Option] = field(default_factory=list)
    low_label: str = ""
    high_label: str = ""
    secondary_text: str = ""
    secondary_options: list[Option] = field(default_factory=list)
    value: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return f"q-{self.key}"

    @property
    def error_id(self) -> str:
        return f"q-{self.key}-error"

    @property
    def ends_id(self) -> str:
        return f"q-{self.key}-ends"

    @property
    def secondary_name(self) -> str:
        return self.key + SECONDARY_SUFFIX

    @property
    def is_scale(self) -> bool:
        return bool(self.low_label or self.high_label) or self.type in (
            QuestionType.NPS,
            QuestionType.CSAT,
            QuestionType.CES,
            QuestionType.CES_LEGACY,
            QuestionType.RATING,
            QuestionType.WOMI,
        )


def _scale_options(question, selected: Any) -> list[Option]:
    low, high = scale_of(question)
    return [
        Option(value=str(n), label=str(n), checked=str(selected) == str(n))
        for n in range(low, high + 1)
    ]


def question_views(
    questions,
    *,
    language: str,
    fallback: str,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    shown: list[str],
) -> list[QuestionView]:
    views = []
    for number, question in enumerate(questions, start=1):
        selected = values.get(question.key, "")
        ends = (question.labels or {}).get(language) or (question.labels or {}).get(fallback) or {}
        view = QuestionView(
            key=question.key,
            type=question.type,
            number=number,
            text=texts_in(question.texts, language, fallback),
            required=question.required,
            shown=question.key in shown,
            condition_json=json.dumps(question.condition) if question.condition else "",
            low_label=ends.get("min", ""),
            high_label=ends.get("max", ""),
            errors=errors.get(question.key, []),
        )
        if question.type == QuestionType.YES_NO:
            view.options = [
                Option("yes", _("Yes"), selected in ("yes", "1")),
                Option("no", _("No"), selected in ("no", "0")),
            ]
        elif question.type == QuestionType.SMILEY:
            view.options = [
                Option(str(n), str(label), str(selected) == str(n), icon)
                for n, icon, label in SMILEY_FACES
            ]
        elif question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            chosen = selected if isinstance(selected, list) else [selected]
            view.options = [
                Option(
                    choice["value"],
                    texts_in(choice.get("texts"), language, fallback),
                    choice["value"] in chosen,
                )
                for choice in question.choices
            ]
        elif question.type == QuestionType.TEXT:
            view.value = selected if isinstance(selected, str) else ""
        else:
            view.options = _scale_options(question, selected)
        if question.type == QuestionType.WOMI:
            view.secondary_text = texts_in(question.texts_secondary, language, fallback)
            view.secondary_options = _scale_options(
                question, values.get(question.key + SECONDARY_SUFFIX, "")
            )
        views.append(view)
    # Number only what the respondent sees, so hidden follow-ups leave no gaps.
    for number, view in enumerate((v for v in views if v.shown), start=1):
        view.number = number
    return views
