"""The survey builder pages: list, new survey, import, builder, questions, preview, export."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from journeys.models import Journey
from surveys.enums import SurveyStatus, VersionStatus
from surveys.models import Question, Response, Survey, SurveyVersion
from surveys.services import response_submit
from tenancy.scoping import tenant_scope
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def touchpoint(org):
    return make_touchpoint(org, "Checkout")


@pytest.fixture
def draft(org, touchpoint):
    """An unpublished survey (version 1 is a draft) with the NPS questions."""
    return make_survey(org, name="Shop NPS", touchpoint=touchpoint, published=False)


@pytest.fixture
def published(org, touchpoint):
    return make_survey(org, name="Published NPS", touchpoint=touchpoint)


def url(survey, suffix=""):
    return f"/o/{survey.organization.slug}/surveys/{survey.public_id}/{suffix}"


def first_question(survey, key="score"):
    return Question.all_objects.get(version__survey=survey, version__status="draft", key=key)


def questions_in_order(version):
    return list(Question.all_objects.filter(version=version).order_by("position"))


def reload(survey):
    return Survey.all_objects.get(pk=survey.pk)


def draft_of(survey):
    return SurveyVersion.all_objects.get(survey=survey, status=VersionStatus.DRAFT)


def submit(org, survey, score):
    with tenant_scope(org):
        return response_submit(
            organization=org,
            survey=reload(survey),
            answers={"score": score},
            language="fi",
            channel="web",
        )


# --- access ---------------------------------------------------------------------------------


def _pages(survey):
    question = Question.all_objects.filter(version__survey=survey).first()
    q = f"questions/{question.public_id}/"
    gets = [
        "/o/acme/surveys/",
        "/o/acme/surveys/new/",
        "/o/acme/surveys/import/",
        url(survey),
        url(survey, "preview/?lang=sv"),
        url(survey, "preview/frame/?lang=en"),
        url(survey, "export.json"),
        url(survey, q + "edit/"),
        url(survey, q + "remove/"),
    ]
    posts = [
        "/o/acme/surveys/new/",
        "/o/acme/surveys/import/",
        url(survey, "settings/"),
        url(survey, "texts/"),
        url(survey, "draft/"),
        url(survey, "publish/"),
        url(survey, "close/"),
        url(survey, "reopen/"),
        url(survey, "questions/add/"),
        url(survey, "preview/frame/"),
        url(survey, q + "edit/"),
        url(survey, q + "move/"),
        url(survey, q + "remove/"),
    ]
    return gets, posts


def test_outsider_gets_404_on_every_builder_page(outsider_client, draft):
    gets, posts = _pages(draft)
    for path in gets:
        assert outsider_client.get(path).status_code == 404, path
    for path in posts:
        assert outsider_client.post(path, {}).status_code == 404, path


def test_another_organizations_survey_is_404_to_a_cx_manager(cx_client, other_org):
    theirs = make_survey(other_org, name="Theirs")
    gets, posts = _pages(theirs)
    for path in gets[3:]:
        assert cx_client.get(path.replace("/o/rival/", "/o/acme/")).status_code == 404, path
    for path in posts[2:]:
        assert cx_client.post(path.replace("/o/rival/", "/o/acme/"), {}).status_code == 404, path


def test_viewer_reads_every_page_but_gets_403_on_every_post(viewer_client, draft):
    gets, posts = _pages(draft)
    for path in gets:
        assert viewer_client.get(path).status_code == 200, path
    for path in posts:
        assert viewer_client.post(path, {"direction": "up", "type": "nps"}).status_code == 403, path
    html = viewer_client.get(url(draft)).content.decode()
    assert "Add question" not in html and "Move up" not in html and ">Publish<" not in html
    assert Question.all_objects.filter(version__survey=draft).count() == 3


def test_signed_out_visitor_is_sent_to_sign_in(client, draft):
    page = client.get(url(draft))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_organization_navigation_links_to_surveys(cx_client):
    html = cx_client.get("/o/acme/surveys/").content.decode()
    assert '<a href="/o/acme/surveys/" aria-current="page">Surveys</a>' in html


# --- the list -------------------------------------------------------------------------------


def test_list_shows_touchpoint_status_version_and_response_count(cx_client, org, published, draft):
    submit(org, published, 9)
    submit(org, published, 3)
    html = cx_client.get("/o/acme/surveys/").content.decode()
    assert "Published NPS" in html and "Shop NPS" in html
    assert "Web shop: Checkout" in html
    row = html.split("Published NPS</a>")[1].split("</tr>")[0]
    assert "Published" in row and "<td>1</td>" in row and "<td>2</td>" in row
    draft_row = html.split("Shop NPS</a>")[1].split("</tr>")[0]
    assert "Draft" in draft_row and "<td>0</td>" in draft_row
    assert url(published, "preview/") in html


def test_list_query_count_does_not_grow_with_surveys(cx_client, org, touchpoint):
    make_survey(org, name="One", touchpoint=touchpoint)
    cx_client.get("/o/acme/surveys/")
    with CaptureQueriesContext(connection) as few:
        assert cx_client.get("/o/acme/surveys/").status_code == 200
    for number in range(6):
        survey = make_survey(org, name=f"Survey {number}", touchpoint=make_touchpoint(org))
        submit(org, survey, 10)
    with CaptureQueriesContext(connection) as many:
        html = cx_client.get("/o/acme/surveys/").content.decode()
    assert html.count("<tr>") == 8  # header + 7 surveys
    assert len(many.captured_queries) == len(few.captured_queries)


def test_list_runs_a_fixed_small_number_of_queries(
    cx_client, org, touchpoint, django_assert_max_num_queries
):
    for number in range(5):
        make_survey(org, name=f"Survey {number}", touchpoint=touchpoint)
    with django_assert_max_num_queries(6):  # session, user, membership, surveys, (savepoints)
        response = cx_client.get("/o/acme/surveys/")
    assert response.status_code == 200
    html = response.content.decode()
    assert all(f"Survey {number}" in html for number in range(5))


# --- new survey -----------------------------------------------------------------------------


def test_new_survey_form_offers_templates_and_touchpoints_grouped_by_journey(
    cx_client, org, touchpoint
):
    archived = make_touchpoint(org, "Old kiosk")
    archived.archived_at = timezone.now()
    archived.save()
    html = cx_client.get("/o/acme/surveys/new/").content.decode()
    for name in (
        "Net Promoter Score",
        "Satisfaction after a service event",
        "Effort after a support case",
        "Word of mouth (WOMI)",
        "Content feedback",
        "Blank survey",
    ):
        assert name in html
    assert '<optgroup label="Web shop">' in html
    assert f'value="{touchpoint.public_id}"' in html and "Buy: Checkout" in html
    assert "Old kiosk" not in html


def test_cx_manager_creates_an_nps_survey_from_the_template_at_a_touchpoint(
    cx_client, org, touchpoint
):
    page = cx_client.post(
        "/o/acme/surveys/new/",
        {"template": "nps", "name": "After checkout", "touchpoint": touchpoint.public_id},
    )
    survey = Survey.all_objects.get()
    assert page.status_code == 302 and page["Location"] == url(survey)
    assert survey.name == "After checkout" and survey.touchpoint == touchpoint
    assert survey.status == SurveyStatus.DRAFT
    keys = [q.key for q in questions_in_order(draft_of(survey))]
    assert keys == ["score", "improve", "better", "liked"]
    html = cx_client.get(url(survey)).content.decode()
    assert "Draft of version 1: not published yet." in html
    assert "Kuinka todennäköisesti suosittelisit" in html
    assert "The draft is complete and can be published." in html


def test_template_name_is_used_when_no_name_is_given(cx_client):
    cx_client.post("/o/acme/surveys/new/", {"template": "csat_service", "name": ""})
    assert Survey.all_objects.get().name == "CSAT"


def test_blank_survey_needs_a_name(cx_client):
    page = cx_client.post("/o/acme/surveys/new/", {"template": "", "name": " "})
    assert page.status_code == 400
    assert "Give a blank survey a name." in page.content.decode()
    assert not Survey.all_objects.exists()
    page = cx_client.post("/o/acme/surveys/new/", {"template": "", "name": "Blank one"})
    survey = Survey.all_objects.get()
    assert (
        page.status_code == 302 and not Question.all_objects.filter(version__survey=survey).exists()
    )


def test_another_organizations_touchpoint_cannot_be_chosen(cx_client, other_org):
    theirs = make_touchpoint(other_org, "Their desk")
    page = cx_client.post(
        "/o/acme/surveys/new/", {"template": "nps", "touchpoint": theirs.public_id}
    )
    assert page.status_code == 400 and not Survey.all_objects.exists()


# --- questions ------------------------------------------------------------------------------


def test_adding_a_question_opens_its_editor_with_the_standard_wording(cx_client, draft):
    page = cx_client.post(url(draft, "questions/add/"), {"type": "csat"})
    question = Question.all_objects.get(version__survey=draft, type="csat")
    assert page.status_code == 302
    assert page["Location"] == url(draft, f"questions/{question.public_id}/edit/")
    assert question.position == 3 and question.required
    assert question.texts["fi"].startswith("Kuinka tyytyväinen")
    assert question.labels["en"] == {"min": "Very dissatisfied", "max": "Very satisfied"}
    html = cx_client.get(page["Location"]).content.decode()
    assert 'name="text_fi"' in html and 'name="text_sv"' in html and 'name="text_en"' in html
    assert 'name="label_min_sv"' in html and "Mycket missnöjd" in html


def test_adding_with_htmx_answers_the_questions_with_the_new_editor_open(cx_client, draft):
    page = cx_client.post(url(draft, "questions/add/"), {"type": "single_choice"}, **HTMX)
    assert page.status_code == 200
    html = page.content.decode()
    question = Question.all_objects.get(version__survey=draft, type="single_choice")
    assert '<section id="questions"' in html and "<html" not in html
    assert f'id="q-{question.public_id}"' in html and "question-card editing" in html
    assert 'name="choice_0_value"' in html
    assert 'id="publish"' in html and 'hx-swap-oob="true"' in html
    assert "Question single-choice has no choices." in html  # the panel lists the new problem


def test_editing_a_question_writes_translations_side_by_side(cx_client, draft):
    question = first_question(draft)
    page = cx_client.post(
        url(draft, f"questions/{question.public_id}/edit/"),
        {
            "key": "score",
            "text_fi": "Suosittelisitko meitä?",
            "text_sv": "Skulle du rekommendera oss?",
            "text_en": "Would you recommend us?",
            "label_min_fi": "Ei",
            "label_max_fi": "Kyllä",
            "label_min_sv": "Nej",
            "label_max_sv": "Ja",
            "label_min_en": "No",
            "label_max_en": "Yes",
            "required": "on",
        },
    )
    assert page.status_code == 302 and page["Location"].endswith(f"#q-{question.public_id}")
    question.refresh_from_db()
    assert question.texts == {
        "fi": "Suosittelisitko meitä?",
        "sv": "Skulle du rekommendera oss?",
        "en": "Would you recommend us?",
    }
    assert question.labels["sv"] == {"min": "Nej", "max": "Ja"} and question.required


def test_editing_choices_and_a_condition_on_an_earlier_question(cx_client, draft):
    cx_client.post(url(draft, "questions/add/"), {"type": "single_choice"})
    question = Question.all_objects.get(version__survey=draft, type="single_choice")
    edit = url(draft, f"questions/{question.public_id}/edit/")
    form = cx_client.get(edit).content.decode()
    assert '<option value="score">1. ' in form  # earlier, comparable questions only
    assert '<option value="improve">' not in form  # open text cannot be compared
    page = cx_client.post(
        edit,
        {
            "key": "reason",
            **{f"text_{lang}": t for lang, t in texts("Why").items()},
            "choice_0_value": "price",
            "choice_0_fi": "Hinta",
            "choice_0_sv": "Pris",
            "choice_0_en": "Price",
            "choice_1_value": "",
            "choice_1_fi": "Palvelu",
            "choice_1_sv": "Service",
            "choice_1_en": "Service",
            "condition_question": "score",
            "condition_op": "in",
            "condition_value": "7, 8",
        },
    )
    assert page.status_code == 302
    question.refresh_from_db()
    assert question.key == "reason"
    assert question.choices == [
        {"value": "price", "texts": {"fi": "Hinta", "sv": "Pris", "en": "Price"}},
        {"value": "palvelu", "texts": {"fi": "Palvelu", "sv": "Service", "en": "Service"}},
    ]
    assert question.condition == {"question": "score", "op": "in", "value": [7, 8]}
    html = cx_client.get(url(draft)).content.decode()
    assert "Shown when 1. score is one of 7, 8" in html


def test_a_wrong_condition_is_shown_on_its_field(cx_client, draft):
    question = Question.all_objects.get(version__survey=draft, key="improve")
    edit = url(draft, f"questions/{question.public_id}/edit/")
    data = {
        "key": "improve",
        **{f"text_{lang}": t for lang, t in texts("Improve").items()},
        "condition_question": "score",
        "condition_op": "lte",
        "condition_value": "six",
    }
    page = cx_client.post(edit, data)
    assert page.status_code == 400
    html = page.content.decode()
    assert "Compare at most / at least with a whole number." in html
    assert 'id="q-' + question.public_id + '-condition_value_error"' in html
    htmx = cx_client.post(edit, data, **HTMX)
    assert htmx.status_code == 200 and "question-card editing" in htmx.content.decode()
    question.refresh_from_db()
    assert question.condition["value"] == 6


def test_a_taken_key_is_refused_on_the_key_field(cx_client, draft):
    question = Question.all_objects.get(version__survey=draft, key="improve")
    page = cx_client.post(
        url(draft, f"questions/{question.public_id}/edit/"),
        {"key": "liked", **{f"text_{lang}": t for lang, t in texts("Improve").items()}},
    )
    assert page.status_code == 400 and "Another question uses this key." in page.content.decode()


def test_edit_with_htmx_swaps_the_questions_and_announces_the_save(cx_client, draft):
    question = first_question(draft)
    edit = url(draft, f"questions/{question.public_id}/edit/")
    fragment = cx_client.get(edit, **HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert f'hx-post="{edit}"' in fragment.content.decode()
    assert "Question 1: NPS" in fragment.content.decode()
    page = cx_client.post(
        edit,
        {
            "key": "score",
            "text_fi": "Uusi teksti",
            "text_sv": "Ny text",
            "text_en": "New text",
            "required": "on",
        },
        **HTMX,
    )
    html = page.content.decode()
    assert page["HX-Retarget"] == "#questions"
    assert "Uusi teksti" in html and "Question 1 saved." in html
    # The scale labels were not posted, so the panel now reports them missing.
    assert "Question score needs labels for both ends of its scale." in html


def test_moving_questions_up_and_down(cx_client, draft):
    liked = Question.all_objects.get(version__survey=draft, key="liked")
    page = cx_client.post(url(draft, f"questions/{liked.public_id}/move/"), {"direction": "up"})
    assert page.status_code == 302 and page["Location"].endswith(f"#q-{liked.public_id}")
    assert [q.key for q in questions_in_order(draft_of(draft))] == ["score", "liked", "improve"]
    page = cx_client.post(
        url(draft, f"questions/{liked.public_id}/move/"), {"direction": "up"}, **HTMX
    )
    assert [q.key for q in questions_in_order(draft_of(draft))] == ["liked", "score", "improve"]
    html = page.content.decode()
    assert "liked is now question 1." in html
    # A follow-up now comes before the question it depends on: the panel says so and links it.
    assert "Question liked depends on score, which does not come before it." in html
    assert f'href="#q-{liked.public_id}"' in html
    # Buttons are real buttons in forms: the first cannot move up, the last cannot move down.
    assert f'id="q-up-{liked.public_id}" disabled' in html


def test_removing_a_question_asks_first(cx_client, draft):
    improve = Question.all_objects.get(version__survey=draft, key="improve")
    remove = url(draft, f"questions/{improve.public_id}/remove/")
    confirm = cx_client.get(remove).content.decode()
    assert "Remove question 2?" in confirm and "Improve (fi)" in confirm
    assert Question.all_objects.filter(pk=improve.pk).exists()
    page = cx_client.post(remove)
    assert page.status_code == 302
    assert [q.key for q in questions_in_order(draft_of(draft))] == ["score", "liked"]
    assert [q.position for q in questions_in_order(draft_of(draft))] == [0, 1]


def test_question_of_another_survey_is_404(cx_client, draft, published):
    other = Question.all_objects.filter(version__survey=published).first()
    assert cx_client.get(url(draft, f"questions/{other.public_id}/edit/")).status_code == 404


# --- texts, settings, validation, publishing -------------------------------------------------


def test_intro_and_thank_you_texts_per_language(cx_client, draft):
    html = cx_client.get(url(draft)).content.decode()
    assert 'name="intro_fi"' in html and 'name="thank_you_en"' in html
    page = cx_client.post(
        url(draft, "texts/"),
        {
            "intro_fi": "Hei!",
            "intro_sv": "Hej!",
            "intro_en": "",
            "thank_you_fi": "Kiitos!",
            "thank_you_sv": "Tack!",
            "thank_you_en": "Thanks!",
        },
    )
    assert page.status_code == 302 and page["Location"].endswith("#texts")
    version = draft_of(draft)
    assert version.intro == {"fi": "Hei!", "sv": "Hej!"}
    assert version.thank_you == {"fi": "Kiitos!", "sv": "Tack!", "en": "Thanks!"}
    html = cx_client.get(url(draft)).content.decode()
    assert "The intro text has no en translation." in html and 'href="#texts"' in html


def test_settings_change_name_touchpoint_and_languages(cx_client, org, draft):
    other = make_touchpoint(org, "Returns desk")
    page = cx_client.post(
        url(draft, "settings/"),
        {
            "name": "Renamed",
            "touchpoint": other.public_id,
            "languages": ["fi", "en"],
            "default_language": "en",
        },
    )
    assert page.status_code == 302
    survey = reload(draft)
    assert (survey.name, survey.touchpoint, survey.languages, survey.default_language) == (
        "Renamed",
        other,
        ["fi", "en"],
        "en",
    )
    page = cx_client.post(
        url(draft, "settings/"), {"name": "Renamed", "languages": ["fi"], "default_language": "sv"}
    )
    assert page.status_code == 400
    assert (
        "Select a valid choice" in page.content.decode()
        or "default language" in page.content.decode()
    )


def test_validation_problems_are_listed_and_publishing_is_refused(cx_client, draft):
    Question.all_objects.filter(version__survey=draft, key="improve").update(
        texts={"fi": "Parannettavaa"}
    )
    html = cx_client.get(url(draft)).content.decode()
    improve = Question.all_objects.get(version__survey=draft, key="improve")
    assert "2 problems stop this draft from being published:" in html
    assert f'<a href="#q-{improve.public_id}">Question improve has no sv text.</a>' in html
    page = cx_client.post(url(draft, "publish/"))
    assert page.status_code == 400
    html = page.content.decode()
    assert "The survey cannot be published until these problems are fixed." in html
    assert "Question improve has no en text." in html
    assert reload(draft).current_version is None


def test_empty_survey_cannot_be_published(cx_client):
    cx_client.post("/o/acme/surveys/new/", {"template": "", "name": "Empty"})
    survey = Survey.all_objects.get()
    page = cx_client.post(url(survey, "publish/"))
    assert page.status_code == 400 and "Add at least one question." in page.content.decode()


def test_publish_then_edit_makes_a_draft_and_old_responses_keep_their_version(
    cx_client, org, draft
):
    page = cx_client.post(url(draft, "publish/"))
    assert page.status_code == 302
    survey = reload(draft)
    version_1 = survey.current_version
    assert survey.status == SurveyStatus.PUBLISHED and version_1.number == 1
    html = cx_client.get(url(draft)).content.decode()
    assert "Version 1 is published." in html and "Edit: start version 2" in html
    assert "Move up" not in html  # published versions are read-only
    assert f"/s/{survey.link_slug}/" in html
    old = submit(org, survey, 4)

    cx_client.post(url(draft, "draft/"))
    html = cx_client.get(url(draft)).content.decode()
    assert "Editing draft of version 2; respondents still see version 1." in html
    score = first_question(draft)
    cx_client.post(
        url(draft, f"questions/{score.public_id}/edit/"),
        {
            "key": "score",
            "text_fi": "Uusi kysymys",
            "text_sv": "Ny fråga",
            "text_en": "New question",
            **{
                f"label_{end}_{lang}": f"{end} {lang}"
                for end in ("min", "max")
                for lang in ("fi", "sv", "en")
            },
            "required": "on",
        },
    )
    assert reload(draft).current_version == version_1  # respondents still answer version 1
    assert Question.all_objects.get(version=version_1, key="score").texts["fi"].startswith("Kuinka")
    cx_client.post(url(draft, "publish/"))
    survey = reload(draft)
    assert survey.current_version.number == 2
    new = submit(org, survey, 10)
    old.refresh_from_db()
    assert old.version == version_1 and new.version == survey.current_version
    history = cx_client.get(url(draft)).content.decode().split('id="versions"')[1]
    assert history.index("<td>2 ") < history.index("<td>1</td>")
    assert history.count("<td>1</td>") >= 2  # each version has one response


def test_editing_a_published_question_directly_lands_on_the_next_draft(cx_client, published):
    score = Question.all_objects.get(version__survey=published, key="score")
    page = cx_client.post(
        url(published, f"questions/{score.public_id}/edit/"),
        {"key": "score", "text_fi": "Uusi", "text_sv": "Ny", "text_en": "New"},
        **HTMX,
    )
    twin = first_question(published)
    assert page.status_code == 204 and page["HX-Redirect"].endswith(f"#q-{twin.public_id}")
    assert twin.version.number == 2 and score.texts == Question.all_objects.get(pk=score.pk).texts


def test_close_and_reopen(cx_client, published):
    cx_client.post(url(published, "close/"))
    assert reload(published).status == SurveyStatus.CLOSED
    html = cx_client.get(url(published)).content.decode()
    assert "The survey is closed" in html and "Reopen" in html
    assert cx_client.get(f"/s/{published.link_slug}/").status_code == 410
    cx_client.post(url(published, "reopen/"))
    assert reload(published).status == SurveyStatus.PUBLISHED


def test_an_unpublished_survey_cannot_be_closed(cx_client, draft):
    page = cx_client.post(url(draft, "close/"), follow=True)
    assert "Only a published survey can be closed." in page.content.decode()
    assert reload(draft).status == SurveyStatus.DRAFT


# --- export and import ----------------------------------------------------------------------


def test_export_and_import_round_trip(cx_client, draft):
    exported = cx_client.get(url(draft, "export.json"))
    assert exported["Content-Type"].startswith("application/json")
    assert exported["Content-Disposition"] == 'attachment; filename="shop-nps.json"'
    data = json.loads(exported.content)
    assert data["format"] == "cxplatform.survey" and len(data["questions"]) == 3
    upload = SimpleUploadedFile("shop-nps.json", exported.content, "application/json")
    page = cx_client.post("/o/acme/surveys/import/", {"file": upload, "name": "Copy"})
    copy = Survey.all_objects.get(name="Copy")
    assert page.status_code == 302 and page["Location"] == url(copy)
    again = json.loads(cx_client.get(url(copy, "export.json")).content)
    assert again == {**data, "name": "Copy"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not valid JSON (line 1, column 2"),
        (b"\xff\xfe", "The file is not UTF-8 text."),
        (
            json.dumps(
                {
                    "format": "cxplatform.survey",
                    "format_version": 1,
                    "name": "X",
                    "languages": ["fi"],
                    "default_language": "fi",
                    "questions": [{"key": "Bad Key", "type": "nps", "texts": {"fi": "?"}}],
                }
            ).encode(),
            "questions[0].key",
        ),
        (
            json.dumps({"format": "other"}).encode(),
            "Not a survey file: format must be cxplatform.survey.",
        ),
    ],
)
def test_import_shows_what_is_wrong_with_the_file(cx_client, content, message):
    upload = SimpleUploadedFile("survey.json", content, "application/json")
    page = cx_client.post("/o/acme/surveys/import/", {"file": upload})
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not Survey.all_objects.exists()


# --- preview --------------------------------------------------------------------------------


def test_preview_frames_the_draft_as_a_respondent_sees_it_in_each_language(cx_client, draft):
    page = cx_client.get(url(draft, "preview/?lang=sv"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'src="{url(draft, "preview/frame/")}?lang=sv"' in html and 'width="390"' in html
    assert 'hreflang="en"' in html and 'aria-current="true">svenska' in html
    frame = cx_client.get(url(draft, "preview/frame/?lang=sv"))
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    html = frame.content.decode()
    assert '<html lang="sv">' in html
    assert "Hur sannolikt är det att du skulle rekommendera oss" in html
    assert 'type="radio" name="score" value="10"' in html
    assert "Save and continue later" not in html


def test_preview_frame_posts_record_nothing(cx_client, draft):
    frame = url(draft, "preview/frame/")
    first = cx_client.post(frame, {"lang": "en", "score": "3", "seen": "score"})
    html = first.content.decode()
    assert "Preview: nothing was saved." in html and 'name="improve"' in html
    improve = html.split('id="q-improve"')[1].split(">")[0]
    assert " hidden" not in improve
    done = cx_client.post(
        frame, {"lang": "en", "score": "3", "seen": "score,improve", "improve": "x"}
    )
    assert "Thanks (en)" in done.content.decode()
    assert Response.all_objects.count() == 0


def test_preview_of_a_published_survey_shows_the_current_version(cx_client, published):
    html = cx_client.get(url(published, "preview/")).content.decode()
    assert "Version 1, as respondents see it now." in html


def test_builder_page_query_count_is_bounded(cx_client, draft, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert cx_client.get(url(draft)).status_code == 200


def test_builder_page_works_for_a_journeys_archived_touchpoint(cx_client, draft, touchpoint):
    Journey.all_objects.filter(pk=touchpoint.journey_id).update(status="archived")
    html = cx_client.get(url(draft)).content.decode()
    assert f'value="{touchpoint.public_id}" selected' in html
