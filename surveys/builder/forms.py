"""Forms of the survey builder. They only validate and shape; the services in
surveys.services.building save (and refuse, with the field named, which the views put back on
the form with core.forms.add_application_error).

Texts are edited per language side by side: a field per language named `<part>_<lang>`
(`text_fi`, `label_min_sv`, `intro_en`...), grouped into columns by `language_columns()`.
"""

import json
import re
from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from surveys.definitions import KEY_PATTERN
from surveys.enums import ConditionOp, QuestionType
from surveys.instruments import CHOICE_TYPES, CONDITIONABLE_TYPES, RATING_LIMITS, SCALE_TYPES
from surveys.templates_library import TEMPLATES
from tenancy.enums import Language

LANGUAGE_NAMES = dict(Language.choices)
EXTRA_CHOICE_ROWS = 3
MAX_UPLOAD_BYTES = 1_000_000
_INTEGER = re.compile(r"^[+-]?\d{1,9}$")

# Sensible starting texts for a new question of a standard type: the first of that type in the
# templates library (wording, labels), so "add an NPS question" starts with the standard wording.
STARTERS: dict[str, dict[str, Any]] = {}
for _template in TEMPLATES.values():
    for _question in _template.definition["questions"]:
        STARTERS.setdefault(_question["type"], _question)
del _template, _question


def touchpoint_choices(touchpoints) -> list:
    """("", none) then the touchpoints grouped by journey (optgroups), by their public ids."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for touchpoint in touchpoints:
        groups.setdefault(touchpoint.journey.name, []).append(
            (touchpoint.public_id, f"{touchpoint.stage.name}: {touchpoint.name}")
        )
    return [("", _("No touchpoint yet")), *groups.items()]


class TouchpointMixin:
    """A `touchpoint` select of the organization's active touchpoints; `cleaned_touchpoint`."""

    def setup_touchpoints(self, touchpoints) -> None:
        self.touchpoints = {touchpoint.public_id: touchpoint for touchpoint in touchpoints}
        self.fields["touchpoint"].choices = touchpoint_choices(touchpoints)

    @property
    def cleaned_touchpoint(self):
        return self.touchpoints.get(self.cleaned_data.get("touchpoint") or "")


class SurveyCreateForm(TouchpointMixin, forms.Form):
    template = forms.ChoiceField(
        label=_("Start from"),
        widget=forms.RadioSelect,
        initial="nps",
        help_text=_("Templates come with the standard wording in Finnish, Swedish and English."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the template's name."),
    )
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), required=False)

    def __init__(self, *args, touchpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [
            *((t.key, f"{t.name}: {t.description}") for t in TEMPLATES.values()),
            ("", _("Blank survey: add the questions yourself")),
        ]
        self.fields["template"].required = False
        self.setup_touchpoints(touchpoints)

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("name") or "").strip():
            self.add_error("name", _("Give a blank survey a name."))
        return data


class SurveySettingsForm(TouchpointMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages offered"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every offered language needs every text before the survey can be published."),
    )
    default_language = forms.ChoiceField(
        label=_("Default language"),
        help_text=_("Shown when the respondent's browser asks for none of the offered languages."),
    )

    def __init__(self, *args, organization, touchpoints, **kwargs):
        super().__init__(*args, **kwargs)
        offered = [(code, LANGUAGE_NAMES.get(code, code)) for code in organization.languages]
        self.fields["languages"].choices = offered
        self.fields["default_language"].choices = offered
        self.setup_touchpoints(touchpoints)

    @classmethod
    def initial_for(cls, survey) -> dict:
        return {
            "name": survey.name,
            "touchpoint": survey.touchpoint.public_id if survey.touchpoint else "",
            "languages": list(survey.languages),
            "default_language": survey.default_language,
        }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "touchpoint": self.cleaned_touchpoint,
            "languages": data["languages"],
            "default_language": data["default_language"],
        }


def _language_columns(form, languages: list[str], parts: list[str]) -> list[dict]:
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, code),
            "fields": [form[f"{part}_{code}"] for part in parts if f"{part}_{code}" in form.fields],
        }
        for code in languages
    ]


class VersionTextsForm(forms.Form):
    """The introduction and thank-you texts of the draft, one column per offered language."""

    PARTS = ("intro", "thank_you")

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = languages
        for code in languages:
            name = LANGUAGE_NAMES.get(code, code)
            self.fields[f"intro_{code}"] = forms.CharField(
                label=_("Introduction (%(language)s)") % {"language": name},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3, "lang": code}),
            )
            self.fields[f"thank_you_{code}"] = forms.CharField(
                label=_("Thank-you text (%(language)s)") % {"language": name},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
            )

    @classmethod
    def initial_for(cls, version) -> dict:
        initial = {}
        for part in cls.PARTS:
            for code, text in (getattr(version, part) or {}).items():
                initial[f"{part}_{code}"] = text
        return initial

    def language_columns(self) -> list[dict]:
        return _language_columns(self, self.languages, list(self.PARTS))

    def service_kwargs(self, version) -> dict:
        """Texts of the offered languages; texts of other languages on the version are kept."""
        result = {}
        for part in self.PARTS:
            texts = dict(getattr(version, part) or {})
            for code in self.languages:
                texts[code] = self.cleaned_data[f"{part}_{code}"]
            result[part] = {code: text for code, text in texts.items() if text.strip()}
        return result


class QuestionAddForm(forms.Form):
    type = forms.ChoiceField(label=_("Question type"), choices=QuestionType.choices)

    def service_kwargs(self, languages: list[str]) -> dict:
        """A new question of the chosen type with its standard starting texts, if any."""
        question_type = self.cleaned_data["type"]
        starter = STARTERS.get(question_type, {})

        def only(texts):
            return {code: texts[code] for code in languages if code in (texts or {})}

        kwargs: dict[str, Any] = {
            "type": question_type,
            "texts": only(starter.get("texts")),
            "required": question_type in SCALE_TYPES,
        }
        if question_type == QuestionType.WOMI:
            kwargs["texts_secondary"] = only(starter.get("texts_secondary"))
        if question_type in SCALE_TYPES:
            kwargs["labels"] = only(starter.get("labels"))
        if question_type == QuestionType.RATING:
            kwargs["scale_min"], kwargs["scale_max"] = 1, 5
        return kwargs


def _condition_value(raw: str, target_type: str | None, op: str) -> Any:
    """The typed value of a condition from what was typed: integers stay integers, yes/no
    become 1/0 (how yes/no answers are stored), `in` takes a comma-separated list."""

    def one(text: str) -> Any:
        text = text.strip()
        if target_type == QuestionType.YES_NO and text.lower() in (
            "yes",
            "kyllä",
            "ja",
            "no",
            "ei",
            "nej",
        ):
            return 1 if text.lower() in ("yes", "kyllä", "ja") else 0
        if _INTEGER.match(text):
            return int(text)
        return text

    if op == ConditionOp.IN:
        return [one(part) for part in raw.split(",") if part.strip()]
    return one(raw)


def _condition_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


class QuestionForm(forms.Form):
    """Every editable field of one question; which fields exist depends on its type."""

    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        help_text=_(
            "A short id that stays the same across versions, used in exports and reports: "
            "lower-case letters, digits, - and _."
        ),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    scale_min = forms.IntegerField(
        label=_("Scale from"), min_value=RATING_LIMITS[0], max_value=RATING_LIMITS[1]
    )
    scale_max = forms.IntegerField(
        label=_("Scale to"), min_value=RATING_LIMITS[0], max_value=RATING_LIMITS[1]
    )
    condition_question = forms.ChoiceField(label=_("Show only when the answer to"), required=False)
    condition_op = forms.ChoiceField(
        label=_("is"), choices=[("", "—"), *ConditionOp.choices], required=False
    )
    condition_value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=200,
        help_text=_("A number, a choice's value, yes or no; for 'is one of' separate with commas."),
    )

    def __init__(self, *args, question, languages: list[str], earlier: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.question = question
        self.languages = languages
        self.earlier_types = {q.key: q.type for q in earlier}
        question_type = question.type
        if question_type != QuestionType.RATING:
            del self.fields["scale_min"], self.fields["scale_max"]
        conditionable = [q for q in earlier if q.type in CONDITIONABLE_TYPES]
        choices = [("", _("Always show this question"))] + [
            (q.key, f"{q.position + 1}. {q.text(languages[0]) or q.key}") for q in conditionable
        ]
        target = (question.condition or {}).get("question")
        if target and target not in {q.key for q in conditionable}:
            choices.append((target, _("%(key)s (not an earlier question)") % {"key": target}))
        self.fields["condition_question"].choices = choices
        for code in languages:
            name = LANGUAGE_NAMES.get(code, code)
            attrs = {"lang": code}
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("Question (%(language)s)") % {"language": name},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3, **attrs}),
            )
            if question_type == QuestionType.WOMI:
                self.fields[f"secondary_{code}"] = forms.CharField(
                    label=_("Discourage question (%(language)s)") % {"language": name},
                    required=False,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 3, **attrs}),
                )
            if question_type in SCALE_TYPES:
                for end, label in (("min", _("Low end label")), ("max", _("High end label"))):
                    self.fields[f"label_{end}_{code}"] = forms.CharField(
                        label=f"{label} ({name})",
                        required=False,
                        max_length=2000,
                        widget=forms.TextInput(attrs=attrs),
                    )
        self.choice_count = 0
        if question_type in CHOICE_TYPES:
            existing = len(question.choices or [])
            posted = self._posted_choice_rows()
            self.choice_count = max(existing, posted) + EXTRA_CHOICE_ROWS
            for index in range(self.choice_count):
                self.fields[f"choice_{index}_value"] = forms.CharField(
                    label=_("Value of option %(n)s") % {"n": index + 1},
                    required=False,
                    max_length=50,
                )
                for code in languages:
                    self.fields[f"choice_{index}_{code}"] = forms.CharField(
                        label=_("Option %(n)s (%(language)s)")
                        % {"n": index + 1, "language": LANGUAGE_NAMES.get(code, code)},
                        required=False,
                        max_length=2000,
                        widget=forms.TextInput(attrs={"lang": code}),
                    )
        if not self.is_bound:
            self.initial.update(self._initial())

    def _posted_choice_rows(self) -> int:
        if not self.is_bound:
            return 0
        indexes = [
            int(match.group(1))
            for name in self.data
            if (match := re.match(r"^choice_(\d{1,2})_", name))
        ]
        return min(max(indexes) + 1, 50) if indexes else 0

    def _initial(self) -> dict:
        question = self.question
        initial: dict[str, Any] = {
            "key": question.key,
            "required": question.required,
            "scale_min": question.scale_min,
            "scale_max": question.scale_max,
        }
        for code in self.languages:
            initial[f"text_{code}"] = (question.texts or {}).get(code, "")
            initial[f"secondary_{code}"] = (question.texts_secondary or {}).get(code, "")
            ends = (question.labels or {}).get(code) or {}
            initial[f"label_min_{code}"] = ends.get("min", "")
            initial[f"label_max_{code}"] = ends.get("max", "")
        for index, choice in enumerate(question.choices or []):
            initial[f"choice_{index}_value"] = choice.get("value", "")
            for code in self.languages:
                initial[f"choice_{index}_{code}"] = (choice.get("texts") or {}).get(code, "")
        condition = question.condition or {}
        if condition:
            initial["condition_question"] = condition.get("question", "")
            initial["condition_op"] = condition.get("op", "")
            initial["condition_value"] = _condition_text(condition.get("value"))
        return initial

    # --- layout helpers for the template ---

    def language_columns(self) -> list[dict]:
        return _language_columns(
            self, self.languages, ["text", "secondary", "label_min", "label_max"]
        )

    def choice_rows(self) -> list[dict]:
        return [
            {
                "number": index + 1,
                "value": self[f"choice_{index}_value"],
                "texts": [self[f"choice_{index}_{code}"] for code in self.languages],
            }
            for index in range(self.choice_count)
        ]

    def language_names(self) -> list[str]:
        return [LANGUAGE_NAMES.get(code, code) for code in self.languages]

    # --- cleaning ---

    def clean(self):
        data = super().clean()
        if self.question.type in CHOICE_TYPES:
            data["choices"] = self._clean_choices(data)
        target = data.get("condition_question")
        op = data.get("condition_op")
        if target:
            raw = (data.get("condition_value") or "").strip()
            if not op:
                self.add_error("condition_op", _("Choose how to compare the answer."))
            elif not raw:
                self.add_error("condition_value", _("Give the value to compare with."))
            else:
                value = _condition_value(raw, self.earlier_types.get(target), op)
                if op in (ConditionOp.LTE, ConditionOp.GTE) and not isinstance(value, int):
                    self.add_error(
                        "condition_value", _("Compare at most / at least with a whole number.")
                    )
                data["condition"] = {"question": target, "op": op, "value": value}
        else:
            data["condition"] = None
        return data

    def _clean_choices(self, data) -> list[dict]:
        choices, seen = [], set()
        for index in range(self.choice_count):
            texts = {
                code: data.get(f"choice_{index}_{code}", "").strip()
                for code in self.languages
                if data.get(f"choice_{index}_{code}", "").strip()
            }
            value = (data.get(f"choice_{index}_value") or "").strip()
            if not value and not texts:
                continue
            if not value:
                first = next(iter(texts.values()))
                value = slugify(first)[:50].strip("-_") or f"option-{index + 1}"
                base, number = value, 2
                while value in seen:
                    value, number = f"{base[:45]}-{number}", number + 1
            elif not KEY_PATTERN.match(value):
                self.add_error(
                    f"choice_{index}_value",
                    _("Use lower-case letters, digits, - or _, starting with a letter or digit."),
                )
            if value in seen:
                self.add_error(f"choice_{index}_value", _("Two options have the same value."))
            seen.add(value)
            # Keep texts of languages not offered now, so dropping a language loses nothing.
            old = next((c for c in self.question.choices or [] if c.get("value") == value), None)
            kept = {
                k: v for k, v in ((old or {}).get("texts") or {}).items() if k not in self.languages
            }
            choices.append({"value": value, "texts": {**kept, **texts}})
        return choices

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        question = self.question

        def texts(part: str, current: dict) -> dict:
            merged = {k: v for k, v in (current or {}).items() if k not in self.languages}
            for code in self.languages:
                text = data.get(f"{part}_{code}", "").strip()
                if text:
                    merged[code] = text
            return merged

        changes: dict[str, Any] = {
            "key": data["key"].strip(),
            "required": data["required"],
            "texts": texts("text", question.texts),
            "condition": data.get("condition"),
        }
        if question.type == QuestionType.WOMI:
            changes["texts_secondary"] = texts("secondary", question.texts_secondary)
        if question.type in SCALE_TYPES:
            labels = {k: v for k, v in (question.labels or {}).items() if k not in self.languages}
            for code in self.languages:
                ends = {
                    end: data.get(f"label_{end}_{code}", "").strip()
                    for end in ("min", "max")
                    if data.get(f"label_{end}_{code}", "").strip()
                }
                if ends:
                    labels[code] = ends
            changes["labels"] = labels
        if question.type == QuestionType.RATING:
            changes["scale_min"], changes["scale_max"] = data["scale_min"], data["scale_max"]
        if question.type in CHOICE_TYPES:
            changes["choices"] = data["choices"]
        return changes


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", _("Up")), ("down", _("Down"))])


class SurveyImportForm(TouchpointMixin, forms.Form):
    file = forms.FileField(
        label=_("Survey file (JSON)"),
        help_text=_(
            "A file exported from a survey's builder page, here or in another installation."
        ),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the name in the file."),
    )
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), required=False)

    def __init__(self, *args, touchpoints, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_touchpoints(touchpoints)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is too large: a survey file is at most 1 MB."))
        try:
            return json.loads(upload.read().decode("utf-8"))
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from error
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("The file is not valid JSON (line %(line)s, column %(column)s: %(msg)s).")
                % {"line": error.lineno, "column": error.colno, "msg": error.msg}
            ) from error
