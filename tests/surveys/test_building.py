import pytest
from django.utils import timezone

from core.exceptions import ApplicationError, ConflictError
from core.models import ActivityLog
from surveys import services
from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import Question, Response, SurveyVersion
from surveys.selectors import working_version
from surveys.templates_library import TEMPLATES
from tests.surveys.factories import make_touchpoint, texts

pytestmark = pytest.mark.django_db

SCALE_LABELS = {lang: {"min": "low", "max": "high"} for lang in ("fi", "sv", "en")}


def _publishable(actor, org, **kwargs):
    survey = services.survey_create(actor=actor, organization=org, name="Checkout", **kwargs)
    services.question_add(
        actor=actor,
        survey=survey,
        type="csat",
        key="sat",
        texts=texts("Sat"),
        labels=SCALE_LABELS,
        required=True,
    )
    return survey


def _problem_codes(version) -> set[str]:
    return {problem.code for problem in services.survey_validate(version)}


def test_new_survey_offers_the_organizations_languages_and_has_an_empty_draft(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="Checkout")
    assert survey.languages == ["fi", "sv", "en"] and survey.default_language == "fi"
    assert survey.status == SurveyStatus.DRAFT and survey.link_slug
    assert survey.versions.get().number == 1
    assert ActivityLog.objects.filter(action="surveys.survey.created").exists()


def test_survey_languages_must_be_offered_by_the_organization(scoped, cx_actor):
    scoped.languages = ["fi", "en"]
    scoped.save()
    with pytest.raises(ApplicationError) as refused:
        services.survey_create(actor=cx_actor, organization=scoped, name="X", languages=["sv"])
    assert refused.value.extra == {"field": "languages"}


def test_publishing_freezes_the_version_and_opens_the_survey(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    version = services.survey_publish(actor=cx_actor, survey=survey)
    survey.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.published_at
    assert version.languages == ["fi", "sv", "en"]
    assert survey.current_version == version and survey.status == SurveyStatus.PUBLISHED


def test_editing_a_published_question_changes_a_draft_of_the_next_version(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    v1 = services.survey_publish(actor=cx_actor, survey=survey)
    published_question = v1.questions.get()
    changed = services.question_update(
        actor=cx_actor, question=published_question, texts=texts("Better wording")
    )
    assert changed.pk != published_question.pk and changed.version.number == 2
    published_question.refresh_from_db()
    assert published_question.texts == texts("Sat")  # the published version did not change
    assert working_version(survey).number == 2
    # Edits keep landing on the same draft.
    again = services.question_update(actor=cx_actor, question=published_question, required=False)
    assert again.pk == changed.pk


def test_old_responses_keep_their_version_after_a_new_one_is_published(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    v1 = services.survey_publish(actor=cx_actor, survey=survey)
    old = services.response_submit(
        organization=scoped, survey=survey, answers={"sat": 2}, channel="web", language="fi"
    )
    services.question_update(actor=cx_actor, question=v1.questions.get(), texts=texts("New"))
    v2 = services.survey_publish(actor=cx_actor, survey=survey)
    new = services.response_submit(
        organization=scoped, survey=survey, answers={"sat": 5}, channel="web", language="fi"
    )
    old.refresh_from_db()
    assert old.version == v1 and new.version == v2
    assert old.answers.get().question.version == v1
    assert v1.questions.get().texts == texts("Sat")


def test_new_draft_copies_questions_and_texts_once(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    services.version_update_texts(actor=cx_actor, survey=survey, thank_you=texts("Kiitos"))
    services.survey_publish(actor=cx_actor, survey=survey)
    draft = services.survey_new_draft(actor=cx_actor, survey=survey)
    assert services.survey_new_draft(actor=cx_actor, survey=survey) == draft
    assert draft.number == 2 and draft.thank_you == texts("Kiitos")
    assert list(draft.questions.values_list("key", flat=True)) == ["sat"]


def test_published_version_texts_are_not_edited_in_place(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    v1 = services.survey_publish(actor=cx_actor, survey=survey)
    draft = services.version_update_texts(actor=cx_actor, survey=survey, intro=texts("Hello"))
    v1.refresh_from_db()
    assert draft.number == 2 and v1.intro == {}


def test_publish_without_changes_is_refused(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    services.survey_publish(actor=cx_actor, survey=survey)
    with pytest.raises(ConflictError):
        services.survey_publish(actor=cx_actor, survey=survey)


def test_questions_can_be_reordered_and_removed_on_the_draft(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    second = services.question_add(actor=cx_actor, survey=survey, type="text", texts=texts("Why"))
    third = services.question_add(
        actor=cx_actor, survey=survey, type="yes_no", key="again", texts=texts("Again")
    )
    services.question_move(actor=cx_actor, question=third, position=0)
    keys = lambda: list(working_version(survey).questions.values_list("key", flat=True))  # noqa: E731
    assert keys() == ["again", "sat", second.key]
    services.question_remove(actor=cx_actor, question=third)
    assert keys() == ["sat", second.key]
    assert list(working_version(survey).questions.values_list("position", flat=True)) == [0, 1]


def test_question_keys_are_unique_and_made_from_the_type(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    made = services.question_add(actor=cx_actor, survey=survey, type="csat", texts=texts("x"))
    assert made.key == "csat"
    with pytest.raises(ApplicationError) as refused:
        services.question_add(actor=cx_actor, survey=survey, type="text", key="sat", texts={})
    assert refused.value.code == "key_taken"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": "teleport"}, "type"),
        ({"type": "rating", "scale_min": 5, "scale_max": 3}, "scale_min"),
        ({"type": "rating", "scale_min": 0, "scale_max": 11}, "scale_min"),
        ({"type": "single_choice", "choices": [{"value": "a"}, {"value": "a"}]}, "choices"),
        ({"type": "text", "condition": {"question": "sat", "op": "between"}}, "condition"),
        ({"type": "text", "condition": {"question": "sat", "op": "in", "value": 3}}, "condition"),
        ({"type": "text", "texts": {"de": "Hallo"}}, "texts"),
    ],
)
def test_malformed_questions_are_refused_naming_the_field(scoped, cx_actor, fields, field):
    survey = _publishable(cx_actor, scoped)
    with pytest.raises(ApplicationError) as refused:
        services.question_add(actor=cx_actor, survey=survey, **{"texts": texts("x"), **fields})
    assert refused.value.extra["field"] == field


def test_fixed_instruments_store_their_own_scale_and_metric(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    ces = services.question_add(
        actor=cx_actor, survey=survey, type="ces", texts=texts("Easy"), scale_min=1, scale_max=3
    )
    legacy = services.question_add(
        actor=cx_actor, survey=survey, type="ces_legacy", texts=texts("Effort")
    )
    assert (ces.scale_min, ces.scale_max, ces.metric) == (1, 7, "ces")
    assert (legacy.scale_min, legacy.scale_max, legacy.metric) == (1, 5, "ces_legacy")
    choice = services.question_add(
        actor=cx_actor,
        survey=survey,
        type="single_choice",
        texts=texts("Pick"),
        choices=[{"value": "a", "texts": texts("A")}],
    )
    assert choice.metric == ""


# --- validation: every rule ---


def test_a_survey_without_questions_cannot_be_published(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="Empty")
    with pytest.raises(ApplicationError) as refused:
        services.survey_publish(actor=cx_actor, survey=survey)
    assert refused.value.code == "survey_invalid"
    assert refused.value.extra["problems"][0]["code"] == "no_questions"


def test_a_missing_translation_for_an_offered_language_stops_publishing(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="S")
    services.question_add(
        actor=cx_actor, survey=survey, type="text", key="why", texts=texts("Why", ("fi", "en"))
    )
    problems = services.survey_validate(working_version(survey))
    assert [(p.code, p.question, p.language) for p in problems] == [
        ("missing_translation", "why", "sv")
    ]
    services.survey_update(actor=cx_actor, survey=survey, languages=["fi", "en"])
    assert services.survey_validate(working_version(survey)) == []


def test_womi_needs_both_texts_and_choices_need_translated_options(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="S", languages=["fi"])
    services.question_add(
        actor=cx_actor,
        survey=survey,
        type="womi",
        key="w",
        texts=texts("Rec", ("fi",)),
        labels={"fi": {"min": "0", "max": "10"}},
    )
    services.question_add(
        actor=cx_actor,
        survey=survey,
        type="single_choice",
        key="c",
        texts=texts("C", ("fi",)),
        choices=[{"value": "a", "texts": {}}],
    )
    problems = {(p.question, p.field) for p in services.survey_validate(working_version(survey))}
    assert problems == {("w", "texts_secondary"), ("c", "choices")}


def test_a_condition_on_a_later_or_missing_question_stops_publishing(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    follow_up = services.question_add(
        actor=cx_actor,
        survey=survey,
        type="text",
        key="why",
        texts=texts("Why"),
        condition={"question": "sat", "op": "lte", "value": 3},
    )
    assert services.survey_validate(working_version(survey)) == []
    services.question_move(actor=cx_actor, question=follow_up, position=0)
    assert _problem_codes(working_version(survey)) == {"condition_not_earlier"}
    services.question_update(
        actor=cx_actor, question=follow_up, condition={"question": "gone", "op": "eq", "value": 1}
    )
    assert _problem_codes(working_version(survey)) == {"condition_not_earlier"}


def test_a_condition_on_an_open_text_answer_stops_publishing(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    services.question_add(actor=cx_actor, survey=survey, type="text", key="why", texts=texts("W"))
    services.question_add(
        actor=cx_actor,
        survey=survey,
        type="text",
        key="more",
        texts=texts("M"),
        condition={"question": "why", "op": "eq", "value": "x"},
    )
    assert _problem_codes(working_version(survey)) == {"condition_on_text"}


def test_a_scale_without_labels_stops_publishing(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="S")
    services.question_add(
        actor=cx_actor,
        survey=survey,
        type="rating",
        key="r",
        texts=texts("R"),
        scale_min=1,
        scale_max=10,
    )
    assert _problem_codes(working_version(survey)) == {"scale_without_labels"}


def test_a_choice_question_without_choices_stops_publishing(scoped, cx_actor):
    survey = services.survey_create(actor=cx_actor, organization=scoped, name="S")
    services.question_add(
        actor=cx_actor, survey=survey, type="multiple_choice", key="m", texts=texts("M")
    )
    assert _problem_codes(working_version(survey)) == {"no_choices"}


def test_intro_translated_in_one_language_must_be_in_all(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    services.version_update_texts(actor=cx_actor, survey=survey, intro={"fi": "Hei"})
    assert {(p.field, p.language) for p in services.survey_validate(working_version(survey))} == {
        ("intro", "sv"),
        ("intro", "en"),
    }


# --- status ---


def test_closing_and_reopening(scoped, cx_actor):
    survey = _publishable(cx_actor, scoped)
    with pytest.raises(ConflictError):
        services.survey_close(actor=cx_actor, survey=survey)
    services.survey_publish(actor=cx_actor, survey=survey)
    services.survey_close(actor=cx_actor, survey=survey)
    assert survey.status == SurveyStatus.CLOSED
    with pytest.raises(ApplicationError) as refused:
        services.response_submit(
            organization=scoped, survey=survey, answers={"sat": 3}, channel="web", language="fi"
        )
    assert refused.value.code == "survey_closed"
    services.survey_reopen(actor=cx_actor, survey=survey)
    assert survey.status == SurveyStatus.PUBLISHED


def test_touchpoint_of_another_organization_is_refused(scoped, cx_actor, other_org):
    with pytest.raises(ApplicationError):
        services.survey_create(
            actor=cx_actor, organization=scoped, name="S", touchpoint=make_touchpoint(other_org)
        )


# --- templates, export, import ---


@pytest.mark.parametrize("template_key", sorted(TEMPLATES))
def test_every_template_publishes_in_finnish_swedish_and_english(scoped, cx_actor, template_key):
    survey = services.survey_create_from_template(
        actor=cx_actor, organization=scoped, template_key=template_key, name="From library"
    )
    assert survey.name == "From library"
    assert services.survey_validate(working_version(survey)) == []
    services.survey_publish(actor=cx_actor, survey=survey)


def test_template_follows_organization_languages(scoped, cx_actor):
    scoped.languages, scoped.default_language = ["sv", "en"], "sv"
    scoped.save()
    survey = services.survey_create_from_template(
        actor=cx_actor, organization=scoped, template_key="nps", name="NPS"
    )
    assert survey.languages == ["sv", "en"] and survey.default_language == "sv"


def test_unknown_template_is_refused(scoped, cx_actor):
    with pytest.raises(ApplicationError) as refused:
        services.survey_create_from_template(
            actor=cx_actor, organization=scoped, template_key="nope", name="x"
        )
    assert refused.value.code == "unknown_template"


def test_export_then_import_into_another_organization_gives_the_same_survey(
    scoped, cx_actor, other_org
):
    survey = services.survey_create_from_template(
        actor=cx_actor, organization=scoped, template_key="nps", name="NPS"
    )
    exported = services.survey_export(survey)
    assert exported["format"] == "cxplatform.survey" and exported["format_version"] == 1
    from tenancy.actors import Actor
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        copy = services.survey_import(
            actor=Actor.system(other_org), organization=other_org, data=exported
        )
        assert services.survey_export(copy) == exported
        assert copy.organization == other_org and copy.status == SurveyStatus.DRAFT


def test_import_reports_every_problem_with_its_path(scoped, cx_actor):
    data = {
        "format": "cxplatform.survey",
        "format_version": 2,
        "name": "X",
        "languages": ["fi"],
        "default_language": "fi",
        "questions": [
            {"key": "a", "type": "nps", "texts": {"fi": "?"}},
            {"key": "B!", "type": "x"},
        ],
    }
    with pytest.raises(ApplicationError) as refused:
        services.survey_import(actor=cx_actor, organization=scoped, data=data)
    assert refused.value.code == "invalid_survey_file"
    paths = {error["path"] for error in refused.value.extra["errors"]}
    assert paths == {"format_version", "questions[1].type"}
    assert not SurveyVersion.objects.exists() and not Question.objects.exists()


def test_import_of_something_that_is_not_a_survey_file(scoped, cx_actor):
    with pytest.raises(ApplicationError) as refused:
        services.survey_import(actor=cx_actor, organization=scoped, data=[1, 2])
    assert refused.value.extra["errors"][0]["path"] == ""


def test_responses_are_not_created_by_building(scoped, cx_actor):
    _publishable(cx_actor, scoped)
    assert not Response.objects.exists()
    assert timezone.now()
