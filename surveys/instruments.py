"""What each question type is: its scale, its metric, and how a raw answer becomes stored values.

Pure functions (no ORM, no request): the submission service, the respondent pages and the CSV
import all clean answers here, so a value means the same wherever it came from. Nothing is ever
coerced: 7.5, "7.0" and True are refused for a scale, never rounded or cast (docs/METRICS.md).
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from core.text import unstorable
from surveys.enums import ConditionOp, QuestionType

TEXT_MAX_LENGTH = 5000
RATING_LIMITS = (0, 10)  # a generic rating scale lies within 0..10 so it fits a row of buttons


@dataclass(frozen=True)
class Instrument:
    metric: str  # "" for questions that feed no score
    scale: tuple[int, int] | None  # fixed scale; None for free (rating) or no scale
    needs_labels: bool = False  # the two ends of the scale are labelled in every language


INSTRUMENTS: dict[str, Instrument] = {
    QuestionType.NPS: Instrument("nps", (0, 10), needs_labels=True),
    QuestionType.CSAT: Instrument("csat", (1, 5), needs_labels=True),
    QuestionType.CES: Instrument("ces", (1, 7), needs_labels=True),
    QuestionType.CES_LEGACY: Instrument("ces_legacy", (1, 5), needs_labels=True),
    QuestionType.WOMI: Instrument("womi", (0, 10), needs_labels=True),
    QuestionType.YES_NO: Instrument("yes_no", (0, 1)),
    QuestionType.SMILEY: Instrument("smiley", (1, 4)),
    QuestionType.RATING: Instrument("rating", None, needs_labels=True),
    QuestionType.SINGLE_CHOICE: Instrument("", None),
    QuestionType.MULTIPLE_CHOICE: Instrument("", None),
    QuestionType.TEXT: Instrument("", None),
}

SCALE_TYPES = frozenset(
    {
        QuestionType.NPS,
        QuestionType.CSAT,
        QuestionType.CES,
        QuestionType.CES_LEGACY,
        QuestionType.WOMI,
        QuestionType.SMILEY,
        QuestionType.RATING,
    }
)
# The first of these on a page is the one an emailed `?score=N` link pre-selects.
SCORE_TYPES = frozenset(SCALE_TYPES - {QuestionType.WOMI})
CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
# Types whose answer a condition can test (a text answer cannot be compared).
CONDITIONABLE_TYPES = frozenset(set(QuestionType.values) - {QuestionType.TEXT})

_INTEGER = re.compile(r"^[+-]?\d{1,9}$")
YES_VALUES = {"yes", "kyllä", "ja", "1"}
NO_VALUES = {"no", "ei", "nej", "0"}


@dataclass
class Cleaned:
    """The stored values of one answer (see surveys.models.Answer)."""

    value_int: int | None = None
    value_int_2: int | None = None
    value_text: str = ""
    value_choices: list[str] = field(default_factory=list)

    def comparable(self, question_type: str) -> Any:
        """The value a condition compares: the integer, the choice or the chosen list."""
        if question_type == QuestionType.SINGLE_CHOICE:
            return self.value_text
        if question_type == QuestionType.MULTIPLE_CHOICE:
            return self.value_choices
        return self.value_int


class AnswerInvalid(ValueError):
    pass


def instrument_for(question_type: str) -> Instrument:
    return INSTRUMENTS[question_type]


def scale_of(question) -> tuple[int, int] | None:
    """(min, max) of a question; fixed instruments ignore what is stored."""
    fixed = INSTRUMENTS[question.type].scale
    if fixed is not None:
        return fixed
    if question.type == QuestionType.RATING:
        return (question.scale_min, question.scale_max)
    return None


def is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip() == ""
    if isinstance(raw, list | tuple | dict):
        return all(is_blank(item) for item in (raw.values() if isinstance(raw, dict) else raw))
    return False


def parse_integer(raw: Any) -> int:
    """An integer from an int or a string of digits; floats, "7.0" and booleans are refused."""
    if isinstance(raw, bool):
        raise AnswerInvalid(_("Enter a whole number."))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and _INTEGER.match(raw.strip()):
        return int(raw.strip())
    raise AnswerInvalid(_("Enter a whole number."))


def _in_scale(value: int, scale: tuple[int, int]) -> int:
    low, high = scale
    if not low <= value <= high:
        raise AnswerInvalid(
            _("Choose a value from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return value


def _yes_no(raw: Any) -> int:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int) and raw in (0, 1):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in YES_VALUES:
            return 1
        if word in NO_VALUES:
            return 0
    raise AnswerInvalid(_("Answer yes or no."))


def _womi(raw: Any, scale: tuple[int, int]) -> tuple[int, int]:
    if isinstance(raw, dict):
        parts = [raw.get("recommend"), raw.get("discourage")]
    elif isinstance(raw, list | tuple) and len(raw) == 2:
        parts = list(raw)
    else:
        raise AnswerInvalid(_('Give both values: {"recommend": 0-10, "discourage": 0-10}.'))
    if any(is_blank(part) for part in parts):
        raise AnswerInvalid(_("Answer both questions."))
    recommend, discourage = (_in_scale(parse_integer(part), scale) for part in parts)
    return recommend, discourage


def clean_answer(question, raw: Any) -> Cleaned:
    """Turn one raw answer into stored values, or raise AnswerInvalid with a message.

    `question` needs type, scale_min/scale_max and choices; a blank raw value must be handled by
    the caller (required check) before calling this.
    """
    question_type = question.type
    if question_type == QuestionType.WOMI:
        recommend, discourage = _womi(raw, scale_of(question))
        return Cleaned(value_int=recommend, value_int_2=discourage)
    if question_type == QuestionType.YES_NO:
        return Cleaned(value_int=_yes_no(raw))
    if question_type in SCALE_TYPES:
        return Cleaned(value_int=_in_scale(parse_integer(raw), scale_of(question)))
    if question_type == QuestionType.TEXT:
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise AnswerInvalid(_("Enter text."))
        text = str(raw).strip()
        if reason := unstorable(text):
            raise AnswerInvalid(reason)
        if len(text) > TEXT_MAX_LENGTH:
            raise AnswerInvalid(
                _("Keep the answer under %(count)s characters.") % {"count": TEXT_MAX_LENGTH}
            )
        return Cleaned(value_text=text)
    values = {choice["value"] for choice in question.choices}
    if question_type == QuestionType.SINGLE_CHOICE:
        if not isinstance(raw, str) or raw not in values:
            raise AnswerInvalid(_("Choose one of the options."))
        return Cleaned(value_text=raw)
    if question_type == QuestionType.MULTIPLE_CHOICE:
        chosen = [raw] if isinstance(raw, str) else raw
        if not isinstance(chosen, list | tuple) or not all(isinstance(c, str) for c in chosen):
            raise AnswerInvalid(_("Choose from the options."))
        chosen = [c for c in chosen if c != ""]
        unknown = [c for c in chosen if c not in values]
        if unknown:
            raise AnswerInvalid(_("Not an option: %(values)s.") % {"values": ", ".join(unknown)})
        # Keep the order of the options, once each, so equal answers are stored alike.
        ordered = [choice["value"] for choice in question.choices if choice["value"] in chosen]
        return Cleaned(value_choices=ordered)
    raise AnswerInvalid(_("Unknown question type."))


def condition_holds(condition: dict | None, answers: dict[str, tuple[str, Cleaned]]) -> bool:
    """Whether a question with this condition is shown, given the cleaned earlier answers.

    `answers` maps a question key to (type, cleaned). A condition on an unanswered or hidden
    question is false: the follow-up stays hidden.
    """
    if not condition:
        return True
    found = answers.get(condition.get("question", ""))
    if found is None:
        return False
    question_type, cleaned = found
    actual = cleaned.comparable(question_type)
    op, expected = condition.get("op"), condition.get("value")
    if actual is None or actual == "" or actual == []:
        return False
    if question_type == QuestionType.MULTIPLE_CHOICE:
        wanted = expected if isinstance(expected, list) else [expected]
        return op in (ConditionOp.EQ, ConditionOp.IN) and any(item in actual for item in wanted)
    if op == ConditionOp.EQ:
        return actual == expected
    if op == ConditionOp.IN:
        return isinstance(expected, list) and actual in expected
    if not isinstance(actual, int) or not isinstance(expected, int) or isinstance(expected, bool):
        return False
    if op == ConditionOp.LTE:
        return actual <= expected
    if op == ConditionOp.GTE:
        return actual >= expected
    return False


@dataclass
class Evaluation:
    """The outcome of checking a set of raw answers against a version's questions."""

    cleaned: dict[str, Cleaned]  # answers of shown questions, in question order
    errors: dict[str, list[str]]
    shown: list[str]  # keys of the questions shown (conditions hold), in order


def evaluate(questions, raw_answers: dict[str, Any], *, strict_keys: bool = True) -> Evaluation:
    """Clean every answer in question order, evaluating conditions on the answers before it.

    Answers to hidden questions are dropped; a required shown question left blank is an error;
    with `strict_keys`, a key the version does not have is an error too.
    """
    cleaned: dict[str, Cleaned] = {}
    by_key: dict[str, tuple[str, Cleaned]] = {}
    errors: dict[str, list[str]] = {}
    shown: list[str] = []
    known = set()
    for question in questions:
        known.add(question.key)
        if not condition_holds(question.condition, by_key):
            continue
        shown.append(question.key)
        raw = raw_answers.get(question.key)
        if is_blank(raw):
            if question.required:
                errors[question.key] = [_("This question needs an answer.")]
            continue
        try:
            result = clean_answer(question, raw)
        except AnswerInvalid as invalid:
            errors[question.key] = [str(invalid)]
            continue
        if question.type == QuestionType.MULTIPLE_CHOICE and not result.value_choices:
            if question.required:
                errors[question.key] = [_("This question needs an answer.")]
            continue
        if question.type == QuestionType.TEXT and not result.value_text:
            continue
        cleaned[question.key] = result
        by_key[question.key] = (question.type, result)
    if strict_keys:
        for key in raw_answers:
            if key not in known:
                errors[key] = [_("This survey version has no such question.")]
    return Evaluation(cleaned=cleaned, errors=errors, shown=shown)
