from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import Answer, PersonalLink, Response
from surveys.signals import response_submitted  # noqa: F401 (listener fixture uses it)
from tests.surveys.factories import make_link, make_survey, texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return make_survey(org)


@pytest.fixture
def link(survey):
    return make_link(survey, hidden_fields={"order": "A-1"})


def personal_url(link, suffix=""):
    return f"/r/{link.token}/{suffix}"


def test_opening_a_personal_link_creates_and_changes_nothing(client, link):
    before = PersonalLink.all_objects.values().get(pk=link.pk)
    for _ in range(3):  # a mail scanner follows the link several times
        page = client.get(personal_url(link))
        assert page.status_code == 200
    assert client.get(personal_url(link) + "?score=3").status_code == 200
    assert PersonalLink.all_objects.values().get(pk=link.pk) == before
    assert Response.all_objects.count() == 0


def test_anonymous_get_creates_nothing(client, survey):
    assert client.get(f"/s/{survey.link_slug}/?score=10").status_code == 200
    assert Response.all_objects.count() == 0


def test_page_is_accessible_markup(client, link):
    html = client.get(personal_url(link)).content.decode()
    assert '<html lang="fi">' in html
    assert "<fieldset" in html and "<legend" in html
    assert 'type="radio" name="score" value="0"' in html and 'value="10"' in html
    assert "0 = En lainkaan todennäköisesti" in html and "aria-describedby" in html
    # Nothing loaded from elsewhere: the one script is our own static file.
    assert html.count("<script") == 1 and '<script src="/static/js/respond.js"' in html


def test_score_in_the_link_preselects_it_and_shows_its_follow_up(client, link):
    html = client.get(personal_url(link) + "?score=3").content.decode()
    assert 'value="3" checked' in html
    assert 'id="q-improve" data-key="improve" data-type="text" data-condition=' in html
    improve = html.split('id="q-improve"')[1].split(">")[0]
    liked = html.split('id="q-liked"')[1].split(">")[0]
    assert " hidden" not in improve and " hidden" in liked


def test_score_out_of_range_in_the_link_is_ignored(client, link):
    html = client.get(personal_url(link) + "?score=11").content.decode()
    assert " checked>" not in html


def test_one_tap_submit_from_a_scored_link(client, link, org):
    client.get(personal_url(link) + "?score=9")
    page = client.post(personal_url(link), {"score": "9", "seen": "score,liked", "lang": "fi"})
    assert page.status_code == 302 and page["Location"].startswith(personal_url(link, "thanks/"))
    response = Response.all_objects.get()
    assert response.personal_link == link and response.channel == "email"
    assert response.hidden_fields == {"order": "A-1"}
    thanks = client.get(page["Location"])
    assert "Thanks (fi)" in thanks.content.decode()


def test_without_javascript_follow_ups_appear_before_submitting(client, link):
    first = client.post(personal_url(link), {"score": "2", "seen": "score"})
    assert first.status_code == 200 and Response.all_objects.count() == 0
    html = first.content.decode()
    assert 'value="2" checked' in html and 'name="seen" value="score,improve"' in html
    second = client.post(
        personal_url(link), {"score": "2", "improve": "Quicker replies", "seen": "score,improve"}
    )
    assert second.status_code == 302
    answers = {
        a.question.key: a.value_text
        for a in Answer.all_objects.filter(response=Response.all_objects.get())
    }
    assert answers == {"score": "", "improve": "Quicker replies"}


def test_submitting_twice_through_one_link_records_once(client, link):
    data = {"score": "10", "seen": "score,liked"}
    assert client.post(personal_url(link), data).status_code == 302
    again = client.post(personal_url(link) + "?lang=en", data)
    assert again.status_code == 410 and "already answered" in again.content.decode()
    assert Response.all_objects.count() == 1
    assert client.get(personal_url(link)).status_code == 410


def test_missing_required_answer_is_shown_on_the_field(client, link):
    page = client.post(personal_url(link), {"seen": "score"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="q-score-error"' in html and "q-score-ends q-score-error" in html
    assert 'href="#q-score"' in html  # the error summary links to the question


def test_save_and_continue_later_restores_answers_on_return(client, link):
    page = client.post(
        personal_url(link),
        {"score": "5", "improve": "Half done", "seen": "score,improve", "action": "save"},
    )
    assert page.status_code == 200 and Response.all_objects.count() == 0
    link.refresh_from_db()
    assert link.partial_answers["improve"] == "Half done" and link.opened_at
    html = Client().get(personal_url(link)).content.decode()
    assert 'value="5" checked' in html and "Half done" in html


def test_anonymous_link_submits_with_channel_and_hidden_fields(client, survey):
    html = client.get(f"/s/{survey.link_slug}/?channel=qr&hidden_store=S12").content.decode()
    submission = html.split('name="submission" value="')[1].split('"')[0]
    data = {
        "score": "8",
        "seen": "score",
        "channel": "qr",
        "hidden_store": "S12",
        "submission": submission,
    }
    page = client.post(f"/s/{survey.link_slug}/", data)
    assert page.status_code == 302
    assert client.post(f"/s/{survey.link_slug}/", data).status_code == 302  # double click
    response = Response.all_objects.get()
    assert response.channel == "qr" and response.hidden_fields == {"store": "S12"}
    assert client.get(page["Location"]).status_code == 200


def test_anonymous_channel_cannot_claim_to_be_an_import(client, survey):
    client.post(f"/s/{survey.link_slug}/", {"score": "8", "seen": "score", "channel": "import"})
    assert Response.all_objects.get().channel == "web"


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?lang=sv", "en", "sv"),
        ("", "sv-FI,sv;q=0.9", "sv"),
        ("", "de,en;q=0.5", "en"),
        ("", "de", "fi"),
        ("?lang=de", "", "fi"),
    ],
)
def test_language_from_query_then_browser_then_default(client, survey, query, accept, expected):
    page = client.get(f"/s/{survey.link_slug}/{query}", HTTP_ACCEPT_LANGUAGE=accept)
    assert f'<html lang="{expected}">' in page.content.decode()


def test_personal_link_language_beats_the_browser_and_the_switcher_beats_both(client, survey):
    link = make_link(survey, language="en")
    assert (
        '<html lang="en">'
        in client.get(personal_url(link), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    )
    html = client.get(personal_url(link) + "?lang=sv").content.decode()
    assert '<html lang="sv">' in html and "Hur sannolikt" in html
    assert 'hreflang="fi"' in html and 'aria-current="true">svenska' in html


def test_submission_in_the_chosen_language_is_recorded(client, link):
    client.post(personal_url(link) + "?lang=en", {"score": "7", "seen": "score", "lang": "en"})
    assert Response.all_objects.get().language == "en"


def test_closed_survey_shows_a_friendly_page(client, survey, link):
    survey.status = "closed"
    survey.save()
    for url in (f"/s/{survey.link_slug}/", personal_url(link)):
        page = client.get(url + "?lang=en")
        assert page.status_code == 410 and "closed" in page.content.decode()
    assert client.post(personal_url(link), {"score": "9", "seen": "score"}).status_code == 410
    assert Response.all_objects.count() == 0


def test_expired_link_shows_a_friendly_page(client, survey):
    link = make_link(survey, expires_at=timezone.now() - timedelta(hours=1))
    page = client.get(personal_url(link) + "?lang=en")
    assert page.status_code == 410 and "expired" in page.content.decode()
    finnish = client.get(personal_url(link)).content.decode()  # the link's own language
    assert "vanhentunut" in finnish


def test_unknown_token_and_unpublished_survey_are_404(client, org):
    assert client.get("/r/nope/").status_code == 404
    draft = make_survey(org, published=False)
    assert client.get(f"/s/{draft.link_slug}/").status_code == 404


def test_all_question_types_render(client, org):
    choices = [{"value": "a", "texts": texts("A")}, {"value": "b", "texts": texts("B")}]
    labels = {lang: {"min": "low", "max": "high"} for lang in ("fi", "sv", "en")}
    survey = make_survey(
        org,
        questions=[
            {"key": "n", "type": "nps", "texts": texts("N"), "labels": labels},
            {"key": "c", "type": "csat", "texts": texts("C"), "labels": labels},
            {"key": "e", "type": "ces", "texts": texts("E"), "labels": labels},
            {"key": "l", "type": "ces_legacy", "texts": texts("L"), "labels": labels},
            {
                "key": "w",
                "type": "womi",
                "texts": texts("W"),
                "texts_secondary": texts("D"),
                "labels": labels,
            },
            {"key": "y", "type": "yes_no", "texts": texts("Y")},
            {"key": "s", "type": "smiley", "texts": texts("S")},
            {
                "key": "r",
                "type": "rating",
                "texts": texts("R"),
                "scale_min": 1,
                "scale_max": 3,
                "labels": labels,
            },
            {"key": "one", "type": "single_choice", "texts": texts("O"), "choices": choices},
            {"key": "many", "type": "multiple_choice", "texts": texts("M"), "choices": choices},
            {"key": "t", "type": "text", "texts": texts("T")},
        ],
    )
    url = f"/s/{survey.link_slug}/"
    html = Client().get(url + "?lang=en").content.decode()
    for needle in (
        'name="w__discourage"',
        "D (en)",
        "Very happy",
        'type="checkbox" name="many"',
        'name="r" value="3"',
        "<textarea",
    ):
        assert needle in html
    page = Client().post(
        url,
        {
            "n": "10",
            "c": "5",
            "e": "7",
            "l": "1",
            "w": "9",
            "w__discourage": "0",
            "y": "yes",
            "s": "4",
            "r": "2",
            "one": "a",
            "many": ["a", "b"],
            "t": "fine",
            "lang": "en",
            "seen": "n,c,e,l,w,y,s,r,one,many,t",
        },
    )
    assert page.status_code == 302
    stored = {
        a.question.key: (a.value_int, a.value_int_2, a.value_text, a.value_choices)
        for a in Answer.all_objects.filter(response=Response.all_objects.get())
    }
    assert stored["w"] == (9, 0, "", []) and stored["y"][0] == 1 and stored["many"][3] == ["a", "b"]


def test_public_posts_are_rate_limited(client, survey, settings, one_rate_window):
    from surveys import ratelimit

    # A private cache: the shared test Redis may be flushed by another test run meanwhile.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}
    }

    url = f"/s/{survey.link_slug}/"
    for _ in range(ratelimit.PUBLIC_POSTS_PER_MINUTE):
        client.post(url, {"seen": "score"})
    assert client.post(url, {"seen": "score"}).status_code == 429


def test_submit_sends_the_signal_once(
    client, link, submitted_signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(personal_url(link), {"score": "9", "seen": "score,liked"})
        client.post(personal_url(link), {"score": "9", "seen": "score,liked"})
    assert len(submitted_signals) == 1


def test_invalid_value_is_reported_on_the_page_the_respondent_chose(client, link):
    page = client.post(
        personal_url(link) + "?lang=en", {"score": "x", "lang": "en"}, HTTP_ACCEPT_LANGUAGE="fi"
    )
    assert page.status_code == 400 and "Enter a whole number." in page.content.decode()


def test_post_without_seen_list_submits_when_no_follow_up_is_revealed(client, link):
    assert client.post(personal_url(link), {"score": "8"}).status_code == 302
