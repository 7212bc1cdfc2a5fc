"""The pure rules of the instruments and conditions (no database)."""

from types import SimpleNamespace

import pytest

from surveys.instruments import (
    AnswerInvalid,
    clean_answer,
    condition_holds,
    evaluate,
    parse_integer,
)
from surveys.respond import choose_language, raw_answers, score_preselection


def question(key="q", type="nps", **fields):
    defaults = {
        "scale_min": None,
        "scale_max": None,
        "choices": [],
        "required": False,
        "condition": None,
    }
    return SimpleNamespace(key=key, type=type, **{**defaults, **fields})


@pytest.mark.parametrize("raw", ["7", " 7 ", 7, "+7"])
def test_integers_from_digits(raw):
    assert parse_integer(raw) == 7


@pytest.mark.parametrize("raw", [7.0, "7.0", "7e0", "", None, True, "0x7"])
def test_anything_else_is_not_an_integer(raw):
    with pytest.raises(AnswerInvalid):
        parse_integer(raw)


def test_rating_scale_comes_from_the_question_and_fixed_scales_ignore_it():
    assert clean_answer(question(type="rating", scale_min=0, scale_max=3), "3").value_int == 3
    with pytest.raises(AnswerInvalid):
        clean_answer(question(type="csat", scale_min=0, scale_max=10), 6)


def test_condition_on_unanswered_question_is_false():
    assert not condition_holds({"question": "score", "op": "lte", "value": 6}, {})
    assert condition_holds(None, {})


def test_evaluate_chains_conditions_in_order():
    questions = [
        question("score"),
        question("why", "yes_no", condition={"question": "score", "op": "lte", "value": 6}),
        question("more", "text", condition={"question": "why", "op": "eq", "value": 1}),
    ]
    shown = evaluate(questions, {"score": "9", "why": "yes", "more": "x"}).shown
    assert shown == ["score"]
    result = evaluate(questions, {"score": "2", "why": "yes", "more": "x"})
    assert result.shown == ["score", "why", "more"] and result.cleaned["more"].value_text == "x"


def test_score_link_fits_the_first_score_question_only():
    questions = [question("c", "csat"), question("n", "nps")]
    assert score_preselection(questions, "5") == {"c": "5"}
    assert score_preselection(questions, "9") == {}
    assert score_preselection(questions, "x") == {}


def test_womi_form_fields_become_one_answer():
    questions = [question("w", "womi")]
    assert raw_answers(questions, {"w": "9", "w__discourage": "1"}) == {
        "w": {"recommend": "9", "discourage": "1"}
    }
    assert raw_answers(questions, {"w": "", "w__discourage": ""}) == {}


def test_language_choice_order():
    offered = ["fi", "sv"]
    kwargs = {"offered": offered, "default": "fi"}
    assert choose_language(requested="sv", link_language="fi", accept="", **kwargs) == "sv"
    assert choose_language(requested="en", link_language="sv", accept="fi", **kwargs) == "sv"
    assert choose_language(requested=None, link_language=None, accept="sv-SE", **kwargs) == "sv"
    assert choose_language(requested=None, link_language=None, accept="", **kwargs) == "fi"


@pytest.mark.parametrize(
    ("colour", "ink"),
    [
        ("#1f5f8b", "#ffffff"),
        ("#000000", "#ffffff"),
        ("#ffd700", "#1a1a1a"),
        ("#7fc0e0", "#1a1a1a"),
    ],
)
def test_text_on_the_brand_colour_is_whichever_of_white_or_black_reads_better(colour, ink):
    from surveys.respond import brand_ink

    assert brand_ink(colour) == ink
