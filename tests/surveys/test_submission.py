import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from surveys import services
from surveys.exceptions import AnswerErrors
from surveys.models import Answer, PersonalLink, Response, Survey
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_link, make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db


def submit(org, survey, answers, **kwargs):
    kwargs.setdefault("channel", "web")
    kwargs.setdefault("language", "fi")
    return services.response_submit(organization=org, survey=survey, answers=answers, **kwargs)


def errors_of(org, survey, answers, **kwargs) -> dict:
    with pytest.raises(AnswerErrors) as refused:
        submit(org, survey, answers, **kwargs)
    assert refused.value.code == "invalid_answers"
    return refused.value.extra["fields"]


def one_question(org, **fields):
    return make_survey(
        org, questions=[{"key": "q", "texts": texts("Q"), "required": True, **fields}]
    )


def test_response_and_answers_are_saved_with_channel_language_and_touchpoint(
    scoped, submitted_signals, django_capture_on_commit_callbacks
):
    touchpoint = make_touchpoint(scoped)
    survey = make_survey(scoped, touchpoint=touchpoint)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            scoped,
            survey,
            {"score": "3", "improve": " Faster delivery "},
            channel="email",
            language="sv",
            hidden_fields={"order": 123},
        )
    assert response.public_id.startswith("rsp_") and not response.replayed
    assert (response.channel, response.language, response.touchpoint) == ("email", "sv", touchpoint)
    assert response.version == survey.current_version and response.hidden_fields == {"order": "123"}
    stored = {a.question.key: (a.value_int, a.value_text) for a in response.answers.all()}
    assert stored == {"score": (3, ""), "improve": (None, "Faster delivery")}
    assert submitted_signals == [(scoped.pk, response.pk)]


def test_signal_waits_for_the_commit(scoped, submitted_signals, django_capture_on_commit_callbacks):
    survey = make_survey(scoped)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit(scoped, survey, {"score": 9})
    assert submitted_signals == [] and len(callbacks) == 1


def test_no_ip_or_user_agent_is_kept_unless_the_organization_turns_it_on(scoped):
    survey = make_survey(scoped)
    plain = submit(scoped, survey, {"score": 9}, ip="10.0.0.1", user_agent="Firefox")
    assert plain.ip_address is None and plain.user_agent == ""
    scoped.store_respondent_metadata = True
    scoped.save()
    kept = submit(scoped, survey, {"score": 9}, ip="10.0.0.1", user_agent="Firefox")
    assert kept.ip_address == "10.0.0.1" and kept.user_agent == "Firefox"


# --- instruments: range checks, integers never coerced ---


@pytest.mark.parametrize(
    ("question_type", "low", "high"),
    [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("ces_legacy", 1, 5), ("smiley", 1, 4)],
)
def test_every_scale_takes_its_ends_and_refuses_values_outside(scoped, question_type, low, high):
    survey = one_question(scoped, type=question_type)
    for good in (low, high, str(high)):
        assert submit(scoped, survey, {"q": good}).answers.get().value_int == int(good)
    for bad in (low - 1, high + 1):
        assert "q" in errors_of(scoped, survey, {"q": bad})


@pytest.mark.parametrize("bad", [7.5, 7.0, "7.0", "7,5", "seven", True, [7], {"v": 7}])
def test_non_integers_are_refused_not_rounded(scoped, bad):
    survey = one_question(scoped, type="nps")
    assert errors_of(scoped, survey, {"q": bad}) == {"q": ["Enter a whole number."]}
    assert not Response.objects.exists()


def test_rating_uses_its_own_scale(scoped):
    survey = one_question(scoped, type="rating", scale_min=1, scale_max=10)
    assert submit(scoped, survey, {"q": 10}).answers.get().value_int == 10
    assert "q" in errors_of(scoped, survey, {"q": 0})


def test_womi_stores_recommend_and_discourage(scoped):
    survey = one_question(scoped, type="womi", texts_secondary=texts("Discourage"))
    answer = submit(scoped, survey, {"q": {"recommend": 9, "discourage": "2"}}).answers.get()
    assert (answer.value_int, answer.value_int_2) == (9, 2)
    assert submit(scoped, survey, {"q": [10, 0]}).answers.get().value_int_2 == 0
    assert "q" in errors_of(scoped, survey, {"q": {"recommend": 9}})
    assert "q" in errors_of(scoped, survey, {"q": {"recommend": 9, "discourage": 11}})
    assert "q" in errors_of(scoped, survey, {"q": 9})


@pytest.mark.parametrize(
    ("raw", "stored"), [("yes", 1), ("no", 0), (True, 1), (False, 0), (1, 1), ("0", 0)]
)
def test_yes_no_is_stored_as_one_or_zero(scoped, raw, stored):
    survey = one_question(scoped, type="yes_no")
    assert submit(scoped, survey, {"q": raw}).answers.get().value_int == stored


def test_yes_no_refuses_anything_else(scoped):
    survey = one_question(scoped, type="yes_no")
    assert "q" in errors_of(scoped, survey, {"q": "maybe"})
    assert "q" in errors_of(scoped, survey, {"q": 2})


def test_choices_must_exist(scoped):
    choices = [{"value": v, "texts": texts(v)} for v in ("price", "speed", "staff")]
    single = one_question(scoped, type="single_choice", choices=choices)
    assert submit(scoped, single, {"q": "speed"}).answers.get().value_text == "speed"
    assert "q" in errors_of(scoped, single, {"q": "weather"})
    multiple = one_question(scoped, type="multiple_choice", choices=choices)
    answer = submit(scoped, multiple, {"q": ["staff", "price", "staff"]}).answers.get()
    assert answer.value_choices == ["price", "staff"]
    assert errors_of(scoped, multiple, {"q": ["price", "weather"]}) == {
        "q": ["Not an option: weather."]
    }
    assert errors_of(scoped, multiple, {"q": []}) == {"q": ["This question needs an answer."]}


def test_text_is_trimmed_and_bounded(scoped):
    survey = one_question(scoped, type="text")
    assert submit(scoped, survey, {"q": "  ok  "}).answers.get().value_text == "ok"
    assert "q" in errors_of(scoped, survey, {"q": "x" * 5001})


# --- required, unknown, conditions ---


def test_required_question_must_be_answered_and_optional_may_be_skipped(scoped):
    survey = make_survey(scoped)
    assert errors_of(scoped, survey, {}) == {"score": ["This question needs an answer."]}
    response = submit(scoped, survey, {"score": 9, "liked": ""})
    assert [a.question.key for a in response.answers.all()] == ["score"]


def test_unknown_question_keys_are_errors(scoped):
    survey = make_survey(scoped)
    assert "colour" in errors_of(scoped, survey, {"score": 9, "colour": "blue"})


def test_answers_to_hidden_follow_ups_are_dropped(scoped):
    survey = make_survey(scoped)
    response = submit(scoped, survey, {"score": 10, "improve": "nothing", "liked": "staff"})
    assert {a.question.key for a in response.answers.all()} == {"score", "liked"}


def test_required_follow_up_is_only_required_when_shown(scoped):
    survey = make_survey(
        scoped,
        questions=[
            {"key": "score", "type": "nps", "texts": texts("S"), "required": True},
            {
                "key": "why",
                "type": "text",
                "texts": texts("W"),
                "required": True,
                "condition": {"question": "score", "op": "lte", "value": 6},
            },
            {
                "key": "fixed",
                "type": "yes_no",
                "texts": texts("F"),
                "required": True,
                "condition": {"question": "why", "op": "eq", "value": "x"},
            },
        ],
    )
    assert submit(scoped, survey, {"score": 8}).answers.count() == 1
    assert errors_of(scoped, survey, {"score": 3}) == {"why": ["This question needs an answer."]}


@pytest.mark.parametrize(
    ("condition", "answer", "shown"),
    [
        ({"op": "eq", "value": 0}, "no", True),
        ({"op": "eq", "value": 0}, "yes", False),
        ({"op": "in", "value": [1]}, "yes", True),
    ],
)
def test_conditions_on_yes_no(scoped, condition, answer, shown):
    survey = make_survey(
        scoped,
        questions=[
            {"key": "useful", "type": "yes_no", "texts": texts("U")},
            {
                "key": "why",
                "type": "text",
                "texts": texts("W"),
                "condition": {"question": "useful", **condition},
            },
        ],
    )
    response = submit(scoped, survey, {"useful": answer, "why": "because"})
    assert ("why" in {a.question.key for a in response.answers.all()}) is shown


def test_conditions_on_choices(scoped):
    choices = [{"value": v, "texts": texts(v)} for v in ("price", "speed")]
    survey = make_survey(
        scoped,
        questions=[
            {"key": "topics", "type": "multiple_choice", "texts": texts("T"), "choices": choices},
            {
                "key": "price_why",
                "type": "text",
                "texts": texts("P"),
                "condition": {"question": "topics", "op": "in", "value": ["price"]},
            },
        ],
    )
    kept = submit(scoped, survey, {"topics": ["speed", "price"], "price_why": "too dear"})
    dropped = submit(scoped, survey, {"topics": ["speed"], "price_why": "too dear"})
    assert kept.answers.count() == 2 and dropped.answers.count() == 1


# --- channel, language, time, hidden fields ---


def test_language_must_be_one_the_version_was_published_in(scoped):
    survey = make_survey(scoped, languages=("fi", "en"))
    assert errors_of(scoped, survey, {"score": 9}, language="sv") == {
        "language": ["The survey is offered in fi, en."]
    }


def test_unknown_channel_future_time_and_bad_hidden_fields_are_field_errors(scoped):
    survey = make_survey(scoped)
    errors = errors_of(
        scoped,
        survey,
        {"score": 9},
        channel="pigeon",
        submitted_at=timezone.now() + timedelta(hours=1),
        hidden_fields={"a b": {"x": 1}},
    )
    assert set(errors) == {"channel", "submitted_at", "hidden_fields"}


def test_historical_submitted_at_is_kept(scoped):
    survey = make_survey(scoped)
    when = timezone.now() - timedelta(days=400)
    assert submit(scoped, survey, {"score": 9}, submitted_at=when).submitted_at == when


def test_unpublished_survey_takes_no_responses(scoped):
    survey = make_survey(scoped, published=False)
    with pytest.raises(Exception) as refused:
        submit(scoped, survey, {"score": 9})
    assert refused.value.code == "survey_not_published"


# --- idempotency ---


def test_same_personal_link_twice_gives_one_response(
    scoped, submitted_signals, django_capture_on_commit_callbacks
):
    survey = make_survey(scoped)
    link = make_link(survey, hidden_fields={"order": "A1"})
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(
            scoped, survey, {"score": 9}, personal_link=link, hidden_fields={"order": "forged"}
        )
        second = submit(scoped, survey, {"score": 2}, personal_link=link)
    assert second.pk == first.pk and second.replayed
    assert Response.objects.count() == 1 and len(submitted_signals) == 1
    assert first.hidden_fields == {"order": "A1"}  # the invitation's values win
    link.refresh_from_db()
    assert link.opened_at is not None


def test_same_idempotency_key_twice_gives_one_response(
    scoped, submitted_signals, django_capture_on_commit_callbacks
):
    survey = make_survey(scoped)
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(scoped, survey, {"score": 9}, idempotency_key="kiosk-1-0001")
        second = submit(scoped, survey, {"score": 9}, idempotency_key="kiosk-1-0001")
    assert first.pk == second.pk and Response.objects.count() == 1
    assert len(submitted_signals) == 1


def test_same_idempotency_key_in_two_organizations_is_two_responses(scoped, other_org):
    from tenancy.scoping import tenant_scope

    submit(scoped, make_survey(scoped), {"score": 9}, idempotency_key="same")
    with tenant_scope(other_org):
        submit(other_org, make_survey(other_org), {"score": 9}, idempotency_key="same")
    assert Response.all_objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("through", ["personal_link", "idempotency_key"])
def test_a_submit_racing_an_uncommitted_one_waits_and_returns_the_winner(org, through):
    """The second submit's insert waits on the unique index while the first is uncommitted,
    then gives way: one response, one set of answers, one count, the loser replayed."""
    with tenant_scope(org):
        survey = make_survey(org)
        link = make_link(survey)
    same = {"personal_link": link} if through == "personal_link" else {"idempotency_key": "k-1"}
    outcome = {}
    finished = threading.Event()

    def second_submit():
        try:
            with tenant_scope(org):
                outcome["response"] = submit(org, survey, {"score": 1}, **same)
        finally:
            connection.close()
            finished.set()

    with tenant_scope(org), transaction.atomic():
        winner = submit(org, survey, {"score": 9}, **same)
        racer = threading.Thread(target=second_submit)
        racer.start()
        assert not finished.wait(0.5), "the second submit did not wait for the first"
    racer.join(10)
    loser = outcome["response"]
    assert loser.pk == winner.pk and loser.replayed and not winner.replayed
    assert Response.all_objects.count() == 1
    assert list(Answer.all_objects.values_list("value_int", flat=True)) == [9]
    assert Survey.all_objects.get(pk=survey.pk).response_count == 1


def test_a_replay_is_answered_even_when_the_survey_closed_since(scoped):
    survey = make_survey(scoped)
    first = submit(scoped, survey, {"score": 9}, idempotency_key="kiosk-7")
    survey.status = "closed"
    survey.save()
    again = submit(scoped, survey, {"score": 9}, idempotency_key="kiosk-7")
    assert again.pk == first.pk and again.replayed


def test_expired_link_takes_no_response(scoped):
    survey = make_survey(scoped)
    link = make_link(survey, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Exception) as refused:
        submit(scoped, survey, {"score": 9}, personal_link=link)
    assert refused.value.code == "link_expired"


def test_personal_link_create_makes_short_unguessable_tokens(scoped):
    survey = make_survey(scoped, languages=("fi", "en"))
    touchpoint = make_touchpoint(scoped)
    links = [
        services.personal_link_create(
            organization=scoped,
            survey=survey,
            language="sv",
            hidden_fields={"agent": "A7"},
            touchpoint=touchpoint,
        )
        for _ in range(20)
    ]
    assert len({link.token for link in links}) == 20
    assert all(len(link.token) == 12 and link.token.isalnum() for link in links)
    assert links[0].language == "fi"  # Swedish is not offered: the default language
    assert links[0].public_id.startswith("pl_") and links[0].touchpoint == touchpoint
    response = submit(scoped, survey, {"score": 9}, personal_link=links[0])
    assert response.touchpoint == touchpoint and response.hidden_fields == {"agent": "A7"}


def test_partial_answers_are_kept_then_cleared_on_submit(scoped):
    survey = make_survey(scoped)
    link = make_link(survey)
    services.personal_link_save_partial(link=link, answers={"score": "4", "improve": "Slow"})
    link.refresh_from_db()
    assert link.partial_answers == {"score": "4", "improve": "Slow"} and link.opened_at
    submit(scoped, survey, {"score": 4}, personal_link=link)
    assert PersonalLink.objects.get(pk=link.pk).partial_answers == {}


def test_journeys_refuses_to_delete_a_touchpoint_with_responses(scoped, cx_actor):
    from core.exceptions import ConflictError
    from journeys.services import touchpoint_delete

    touchpoint = make_touchpoint(scoped)
    submit(scoped, make_survey(scoped), {"score": 9}, touchpoint=touchpoint)
    with pytest.raises(ConflictError):
        touchpoint_delete(actor=cx_actor, touchpoint=touchpoint)
