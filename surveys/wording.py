"""Answers in words, as every page that shows a response says them (the contact 360 page, the
survey's responses list, one response's page).

Pure: it reads only what the caller loaded (a response with its answers and their questions
prefetched, e.g. by `surveys.selectors.response_list`), so it never queries.
"""

from django.utils.translation import gettext as _

from surveys.enums import QuestionType
from surveys.instruments import CHOICE_TYPES, scale_of


def text_in(texts: dict, languages: tuple[str, ...]) -> str:
    """The first of `languages` a multilingual text has, else any language it has."""
    for language in languages:
        if texts.get(language):
            return texts[language]
    return next((text for text in texts.values() if text), "")


def response_languages(response) -> tuple[str, str]:
    """The languages to word a response in: the one it was answered in, then the survey's."""
    return (response.language, response.survey.default_language)


def question_text(question, languages: tuple[str, ...]) -> str:
    return text_in(question.texts, languages) or question.key


def answer_in_words(answer, languages: tuple[str, ...]) -> str:
    """A scale, yes/no or choice answer as a reader says it: "9 / 10", "Yes", the chosen
    choices' texts; a dash when nothing was given."""
    question = answer.question
    if question.type in CHOICE_TYPES:
        chosen = answer.value_choices or ([answer.value_text] if answer.value_text else [])
        labels = {
            choice["value"]: text_in(choice.get("texts", {}), languages)
            for choice in question.choices
        }
        return ", ".join(labels.get(value) or value for value in chosen)
    if question.type == QuestionType.TEXT:
        return answer.value_text or "–"
    if answer.value_int is None:
        return "–"
    if question.type == QuestionType.YES_NO:
        return _("Yes") if answer.value_int else _("No")
    high = (scale_of(question) or (None, None))[1]
    if question.type == QuestionType.WOMI:
        return _("recommend %(recommend)s, discourage %(discourage)s (0–%(high)s)") % {
            "recommend": answer.value_int,
            "discourage": answer.value_int_2,
            "high": high,
        }
    return f"{answer.value_int} / {high}" if high is not None else str(answer.value_int)


def response_in_words(response) -> dict:
    """A response as pages show it: `answers` (scale and choice answers in words), `comments`
    (open answers apart) and `items` (every answer in question order, each with `key`,
    `question`, `value` and `comment`: whether it is an open answer)."""
    languages = response_languages(response)
    row: dict = {"response": response, "answers": [], "comments": [], "items": []}
    for answer in response.answers.all():
        question = answer.question
        label = question_text(question, languages)
        if question.type == QuestionType.TEXT:
            if answer.value_text:
                row["comments"].append({"question": label, "text": answer.value_text})
                row["items"].append(
                    {
                        "key": question.key,
                        "question": label,
                        "value": answer.value_text,
                        "comment": True,
                    }
                )
            continue
        value = answer_in_words(answer, languages)
        row["answers"].append({"question": label, "value": value})
        row["items"].append(
            {"key": question.key, "question": label, "value": value, "comment": False}
        )
    return row
