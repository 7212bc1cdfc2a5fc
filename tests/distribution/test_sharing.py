"""Sharing a survey: the Share panels, QR codes and posters per channel, the embed configuration
and framing rules, and kiosk devices (registration, sync exactly once, button-mash flag,
revocation). Browser tests: test_kiosk_browser.py, test_embed_browser.py."""

import io
import json
import uuid
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from alerts.enums import ConditionMetric, Operator, RuleKind
from alerts.models import Alert
from alerts.services.rules import rule_create
from core.models import ActivityLog, Handle, HandleKind
from distribution.models import KioskDevice, kiosk_token_hash
from distribution.services.kiosk import kiosk_device_create, kiosk_device_revoke
from metrics.models import DailyRollup
from surveys.models import Response
from tenancy.actors import Actor
from tenancy.scoping import tenant_scope
from tests.conftest import client_for
from tests.surveys.factories import make_survey, make_touchpoint, texts

pytestmark = pytest.mark.django_db
SEEN = "score,improve,liked"  # the respondent saw every question: no follow-up step


def smiley_questions(follow_up_required=False):
    return [
        {
            "key": "q1",
            "type": "smiley",
            "texts": texts("How was your visit"),
            "required": True,
            "metric": "smiley",
        },
        {
            "key": "q2",
            "type": "text",
            "texts": texts("What could we do better"),
            "required": follow_up_required,
            "condition": {"question": "q1", "op": "lte", "value": 2},
        },
    ]


@pytest.fixture
def survey(org):
    return make_survey(org, name="Store exit", touchpoint=make_touchpoint(org, "Kamppi store"))


@pytest.fixture
def kiosk_survey(org):
    return make_survey(
        org,
        name="Exit smiley",
        touchpoint=make_touchpoint(org, "Exit"),
        questions=smiley_questions(),
    )


@pytest.fixture
def device_and_token(org, kiosk_survey):
    with tenant_scope(org):
        return kiosk_device_create(
            actor=Actor.system(org),
            organization=org,
            name="Kamppi exit",
            survey=kiosk_survey,
            location="Kamppi",
        )


def decode(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found"
    return found[0].text


# --- the Share panel -----------------------------------------------------------------------------


def test_the_share_panel_gives_the_link_and_a_link_per_channel_with_fields(cx_client, survey):
    page = cx_client.get(
        f"/o/acme/surveys/{survey.public_id}/share/",
        {"channel": "qr", "location": "Kamppi", "campaign": "spring-2027"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert f"http://testserver/s/{survey.link_slug}/" in html
    assert (
        f"http://testserver/s/{survey.link_slug}/?channel=qr&amp;hidden_location=Kamppi"
        "&amp;hidden_campaign=spring-2027"
    ) in html
    assert 'data-copy-from="channel-link"' in html
    assert "size=A5&amp;lang=sv" in html  # a poster per size and language
    assert "/embed.js" in html and "data-survey" in html


def test_the_qr_code_decodes_to_the_channel_link(cx_client, survey):
    tp = make_touchpoint(survey.organization, "Service desk")
    query = {"channel": "qr", "touchpoint": tp.public_id, "location": "Desk 2"}
    png = cx_client.get(f"/o/acme/surveys/{survey.public_id}/share/qr.png", query)
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert decode(Image.open(io.BytesIO(png.content))) == (
        f"http://testserver/s/{survey.link_slug}/?channel=qr&touchpoint={tp.public_id}"
        "&hidden_location=Desk+2"
    )
    svg = cx_client.get(f"/o/acme/surveys/{survey.public_id}/share/qr.svg", {"download": "1"})
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["Content-Disposition"] == 'attachment; filename="store-exit-qr.svg"'
    assert b"<svg" in svg.content


@pytest.mark.parametrize(("size", "language"), [("A4", "fi"), ("A5", "sv"), ("A4", "en")])
def test_the_poster_renders_in_each_language_with_the_code(cx_client, survey, size, language):
    response = cx_client.get(
        f"/o/acme/surveys/{survey.public_id}/share/poster.pdf",
        {"size": size, "lang": language, "channel": "qr", "location": "Kamppi"},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.content)
    page = pdf[0]
    text = page.get_textpage().get_text_range()
    assert "Kamppi" in text and "Acme" in text
    image = page.render(scale=150 / 72).to_pil()
    assert decode(image) == (
        f"http://testserver/s/{survey.link_slug}/?channel=qr&hidden_location=Kamppi"
    )


def test_a_poster_in_a_language_the_survey_lacks_or_an_odd_size_is_404(cx_client, org):
    english = make_survey(org, name="English only", languages=("en",))
    url = f"/o/acme/surveys/{english.public_id}/share/poster.pdf"
    assert cx_client.get(url, {"lang": "fi"}).status_code == 404
    assert cx_client.get(url, {"lang": "en", "size": "A3"}).status_code == 404
    assert cx_client.get(url, {"lang": "en", "size": "A5"}).status_code == 200


def test_an_unpublished_survey_has_nothing_to_share(cx_client, org):
    draft = make_survey(org, name="Draft", published=False)
    page = cx_client.get(f"/o/acme/surveys/{draft.public_id}/share/")
    assert page.status_code == 200
    assert "has no link to share yet" in page.content.decode()
    assert cx_client.get(f"/o/acme/surveys/{draft.public_id}/share/qr.png").status_code == 404


def test_a_bad_location_keeps_the_plain_link_and_shows_the_error(cx_client, survey):
    page = cx_client.get(f"/o/acme/surveys/{survey.public_id}/share/", {"location": "x" * 101})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="id_location_error"' in html
    assert f'value="http://testserver/s/{survey.link_slug}/"' in html


def test_the_touchpoint_panel_lists_its_surveys_with_links_and_codes(cx_client, survey):
    tp = survey.touchpoint
    html = cx_client.get(f"/o/acme/touchpoints/{tp.public_id}/share/").content.decode()
    assert survey.name in html
    assert f"qr.svg?channel=qr&amp;touchpoint={tp.public_id}" in html
    detail = cx_client.get(f"/o/acme/touchpoints/{tp.public_id}/").content.decode()
    assert f"/o/acme/touchpoints/{tp.public_id}/share/" in detail


def test_outsiders_get_404_on_every_share_and_kiosk_page(personas, survey, device_and_token):
    device, _token = device_and_token
    outsider = client_for(personas.outsider)
    base = f"/o/acme/surveys/{survey.public_id}/share/"
    urls = [
        base,
        base + "qr.svg",
        base + "qr.png",
        base + "poster.pdf?lang=fi",
        f"/o/acme/touchpoints/{survey.touchpoint.public_id}/share/",
        "/o/acme/kiosks/",
    ]
    assert {url: outsider.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)
    posts = ["/o/acme/kiosks/", f"/o/acme/kiosks/{device.public_id}/revoke/"]
    posts.append(f"/o/acme/kiosks/{device.public_id}/new-link/")
    assert {url: outsider.post(url).status_code for url in posts} == dict.fromkeys(posts, 404)
    device.refresh_from_db()
    assert device.revoked_at is None


def test_another_organizations_survey_and_device_are_404_to_members(
    cx_client, other_org, device_and_token
):
    theirs = make_survey(other_org, name="Theirs")
    with tenant_scope(other_org):
        their_device, _ = kiosk_device_create(
            actor=Actor.system(other_org),
            organization=other_org,
            name="Their kiosk",
            survey=make_survey(other_org, questions=smiley_questions()),
        )
    assert cx_client.get(f"/o/acme/surveys/{theirs.public_id}/share/").status_code == 404
    assert cx_client.get(f"/o/acme/surveys/{theirs.public_id}/share/qr.png").status_code == 404
    assert cx_client.post(f"/o/acme/kiosks/{their_device.public_id}/revoke/").status_code == 404
    their_device.refresh_from_db()
    assert their_device.revoked_at is None


# --- the respondent page through a share link ----------------------------------------------------


def test_an_answer_through_a_qr_link_records_channel_touchpoint_and_fields(survey):
    desk = make_touchpoint(survey.organization, "Service desk")
    client = Client()
    url = f"/s/{survey.link_slug}/?channel=qr&touchpoint={desk.public_id}&hidden_location=Desk+2"
    form = client.get(url).content.decode()
    assert f'name="touchpoint" value="{desk.public_id}"' in form
    submission = form.split('name="submission" value="')[1][:32]
    posted = client.post(
        url,
        {"score": "9", "channel": "qr", "touchpoint": desk.public_id, "hidden_location": "Desk 2",
         "submission": submission, "lang": "fi", "seen": SEEN},
    )  # fmt: skip
    assert posted.status_code == 302
    response = Response.all_objects.get()
    assert response.channel == "qr"
    assert response.touchpoint_id == desk.pk
    assert response.hidden_fields == {"location": "Desk 2"}


@pytest.mark.parametrize("query", ["", "?channel=embed&embed=1"])
def test_answering_needs_no_csrf_cookie_and_no_page_is_cached(survey, query):
    # A site's frame or a browser blocking cookies never gets our CSRF cookie.
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/s/{survey.link_slug}/{query}")
    assert "no-cache" in page["Cache-Control"] and not page.cookies
    posted = client.post(
        f"/s/{survey.link_slug}/{query}",
        {"score": "8", "submission": uuid.uuid4().hex, "seen": SEEN, "embed": query and "1"},
    )
    assert posted.status_code == 302
    assert Response.all_objects.count() == 1


def test_another_organizations_touchpoint_in_a_link_is_ignored(survey, other_org):
    theirs = make_touchpoint(other_org, "Their desk")
    client = Client()
    posted = client.post(
        f"/s/{survey.link_slug}/",
        {
            "score": "9",
            "touchpoint": theirs.public_id,
            "submission": uuid.uuid4().hex,
            "seen": SEEN,
        },
    )
    assert posted.status_code == 302
    assert Response.all_objects.get().touchpoint_id == survey.touchpoint_id


# --- the website embed ---------------------------------------------------------------------------


def test_the_embed_configuration_is_for_allowed_websites_only(org, survey):
    org.embed_allowed_origins = ["https://shop.example"]
    org.save()
    client = Client()
    url = f"/e/{survey.link_slug}/config/"
    allowed = client.get(url, {"lang": "sv"}, HTTP_ORIGIN="https://shop.example")
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    body = allowed.json()
    assert body["url"] == f"http://testserver/s/{survey.link_slug}/?channel=embed&embed=1&lang=sv"
    assert body["close"] == "Stäng"
    refused = client.get(url, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert client.get(url).status_code == 403  # no Origin at all
    assert (
        client.get("/e/nosuchslug/config/", HTTP_ORIGIN="https://shop.example").status_code == 404
    )


def test_a_framed_survey_may_be_framed_by_allowed_websites_only(org, survey):
    client = Client()
    plain = client.get(f"/s/{survey.link_slug}/")
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]
    assert plain["X-Frame-Options"] == "DENY"
    embedded = client.get(f"/s/{survey.link_slug}/?channel=embed&embed=1")
    assert "frame-ancestors 'none'" in embedded["Content-Security-Policy"]  # none allowed yet
    org.embed_allowed_origins = ["https://shop.example", "https://www.shop.example"]
    org.save()
    embedded = client.get(f"/s/{survey.link_slug}/?channel=embed&embed=1")
    policy = embedded["Content-Security-Policy"]
    assert "frame-ancestors https://shop.example https://www.shop.example" in policy
    assert "X-Frame-Options" not in embedded
    assert "js/embed-frame.js" in embedded.content.decode()
    assert not embedded.cookies  # no cookie of ours in a site's page


def test_an_embedded_answer_goes_to_the_embedded_thank_you_page(org, survey):
    org.embed_allowed_origins = ["https://shop.example"]
    org.save()
    client = Client()
    posted = client.post(
        f"/s/{survey.link_slug}/",
        {"score": "10", "channel": "embed", "embed": "1", "hidden_page": "/checkout",
         "submission": uuid.uuid4().hex, "seen": SEEN},
    )  # fmt: skip
    assert posted.status_code == 302 and "embed=1" in posted["Location"]
    thanks = client.get(posted["Location"])
    assert 'data-embed-page="thanks"' in thanks.content.decode()
    assert "frame-ancestors https://shop.example" in thanks["Content-Security-Policy"]
    response = Response.all_objects.get()
    assert response.channel == "embed" and response.hidden_fields == {"page": "/checkout"}


def test_the_embed_script_has_one_address_any_site_may_load(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert b"cxFeedback" in response.content


def test_allowed_websites_are_set_in_the_organization_settings(owner_client, org):
    form = owner_client.get("/o/acme/settings/").content.decode()
    assert 'name="embed_allowed_origins"' in form
    data = {
        "name": org.name,
        "time_zone": org.time_zone,
        "default_language": org.default_language,
        "languages": org.languages,
        "brand_color": org.brand_color,
    }
    bad = owner_client.post(
        "/o/acme/settings/", {**data, "embed_allowed_origins": "shop.example/path"}
    )
    assert bad.status_code == 400
    assert "is not a website address" in bad.content.decode()
    good = owner_client.post(
        "/o/acme/settings/",
        {**data, "embed_allowed_origins": "HTTPS://Shop.Example/\nhttp://127.0.0.1:8123"},
    )
    assert good.status_code == 302
    org.refresh_from_db()
    assert org.embed_allowed_origins == ["https://shop.example", "http://127.0.0.1:8123"]


# --- kiosk devices -------------------------------------------------------------------------------


def sync(token: str, items: list[dict]):
    return Client().post(
        f"/k/{token}/answers/", json.dumps({"answers": items}), content_type="application/json"
    )


def answer(face: int, *, at=None, comment=None, language="fi") -> dict:
    answers = {"q1": face, **({"q2": comment} if comment else {})}
    at = at or timezone.now()
    return {
        "id": uuid.uuid4().hex,
        "answered_at": at.isoformat().replace("+00:00", "Z"),
        "language": language,
        "answers": answers,
    }


def test_a_device_is_registered_in_the_browser_and_its_address_shown_once(cx_client, kiosk_survey):
    posted = cx_client.post(
        "/o/acme/kiosks/",
        {"name": "Kamppi exit", "survey": kiosk_survey.pk, "location": "Kamppi",
         "min_interval_seconds": "3"},
    )  # fmt: skip
    assert posted.status_code == 302
    device = KioskDevice.all_objects.get()
    assert device.touchpoint_id == kiosk_survey.touchpoint_id
    first = cx_client.get("/o/acme/kiosks/").content.decode()
    address = first.split('id="kiosk-link" type="text" readonly value="')[1].split('"')[0]
    token = address.rsplit("/", 2)[-2]
    handle = Handle.objects.get(kind=HandleKind.KIOSK, value=kiosk_token_hash(token))
    assert handle.object_id == device.pk
    assert address not in cx_client.get("/o/acme/kiosks/").content.decode()  # only once
    assert Client().get(f"/k/{token}/").status_code == 200
    assert ActivityLog.all_objects.filter(action="distribution.kiosk.created").exists()


def test_a_survey_a_kiosk_cannot_ask_is_a_form_error(cx_client, survey):
    posted = cx_client.post(
        "/o/acme/kiosks/", {"name": "Exit", "survey": survey.pk, "min_interval_seconds": "3"}
    )
    assert posted.status_code == 400
    assert "four-face smiley" in posted.content.decode()
    assert not KioskDevice.all_objects.exists()


def test_a_viewer_sees_devices_but_cannot_add_or_revoke(viewer_client, device_and_token):
    device, _ = device_and_token
    html = viewer_client.get("/o/acme/kiosks/").content.decode()
    assert "Kamppi exit" in html and "Add device" not in html
    assert viewer_client.post(f"/o/acme/kiosks/{device.public_id}/revoke/").status_code == 403


def test_the_kiosk_page_carries_its_configuration_in_every_language(device_and_token):
    _device, token = device_and_token
    page = Client().get(f"/k/{token}/")
    html = page.content.decode()
    assert page.status_code == 200
    config = json.loads(html.split('id="kiosk-config" type="application/json">')[1].split("<")[0])
    assert config["question_key"] == "q1"
    assert config["follow_up"]["key"] == "q2"
    assert config["follow_up_faces"] == [1, 2]  # the survey's own condition
    assert config["texts"]["sv"]["question"] == "How was your visit (sv)"
    assert config["sync_url"] == f"/k/{token}/answers/"
    assert Client().get("/k/not-a-token/").status_code == 404


def test_synced_answers_are_stored_once_with_channel_location_and_time(device_and_token):
    device, token = device_and_token
    earlier = timezone.now() - timedelta(hours=2)
    items = [answer(4, at=earlier), answer(1, at=earlier + timedelta(minutes=1), comment="Queue")]
    first = sync(token, items)
    assert first.status_code == 200
    assert [r["status"] for r in first.json()["results"]] == ["stored", "stored"]
    again = sync(token, items)  # the reply was lost: the tablet sends the same batch again
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    responses = Response.all_objects.order_by("submitted_at")
    assert responses.count() == 2
    assert {r.channel for r in responses} == {"kiosk"}
    assert responses[0].submitted_at == earlier.replace(microsecond=earlier.microsecond)
    assert responses[1].hidden_fields == {"kiosk": device.public_id, "location": "Kamppi"}
    assert responses[0].touchpoint_id == device.touchpoint_id


def test_a_batch_costs_the_same_statements_however_many_answers(device_and_token):
    _device, token = device_and_token
    start = timezone.now() - timedelta(hours=1)

    def statements(count: int, offset: int) -> int:
        batch = [answer(3, at=start + timedelta(seconds=offset + 10 * i)) for i in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert sync(token, batch).status_code == 200
        return len(captured)

    statements(1, 3000)  # the first sync reads the survey's definition once per process
    assert statements(2, 0) == statements(100, 100) <= 8
    assert Response.all_objects.count() == 103


def test_answers_closer_than_the_interval_are_flagged_not_hidden(device_and_token):
    _device, token = device_and_token
    start = timezone.now() - timedelta(minutes=5)
    items = [answer(4, at=start + timedelta(seconds=s)) for s in (0, 1, 2, 10)]
    assert [r["status"] for r in sync(token, items).json()["results"]] == ["stored"] * 4
    flags = [r.hidden_fields.get("flag") for r in Response.all_objects.order_by("submitted_at")]
    assert flags == [None, "too_fast", "too_fast", None]
    # The guard spans syncs: the next batch's first answer is compared with the last one stored.
    sync(token, [answer(3, at=start + timedelta(seconds=11))])
    assert Response.all_objects.order_by("submitted_at").last().hidden_fields["flag"] == "too_fast"


def test_bad_items_are_refused_one_by_one_and_bad_batches_are_400(device_and_token):
    _device, token = device_and_token
    items = [
        answer(5),  # no such face
        {"id": "nothex", "answered_at": "2026-01-01T00:00:00Z", "answers": {"q1": 1}},
        {**answer(2), "answered_at": "yesterday"},
        {**answer(2), "answered_at": (timezone.now() - timedelta(days=91)).isoformat()},
        answer(2),
    ]
    results = sync(token, items).json()["results"]
    assert [r["status"] for r in results] == ["refused"] * 4 + ["stored"]
    assert "q1" in results[0]["errors"] and "answered_at" in results[3]["errors"]
    assert sync(token, []).status_code == 400
    assert sync(token, [answer(1)] * 101).status_code == 400
    not_json = Client().post(f"/k/{token}/answers/", "{", content_type="application/json")
    assert not_json.status_code == 400 and not_json.json()["code"] == "invalid_json"
    huge = Client().post(f"/k/{token}/answers/", "x" * 3_000_000, content_type="application/json")
    assert huge.status_code == 413 and huge.json()["code"] == "too_large"
    assert Response.all_objects.count() == 1


def test_a_revoked_device_stops_taking_answers_and_a_new_address_restores_it(
    org, cx_client, device_and_token
):
    device, token = device_and_token
    with tenant_scope(org):
        kiosk_device_revoke(actor=Actor.system(org), device=device)
    refused = sync(token, [answer(3)])
    assert refused.status_code == 410 and refused.json()["code"] == "device_revoked"
    assert Client().get(f"/k/{token}/").status_code == 410
    assert not Response.all_objects.exists()
    cx_client.post(f"/o/acme/kiosks/{device.public_id}/new-link/")
    html = cx_client.get("/o/acme/kiosks/").content.decode()
    new_token = html.split('id="kiosk-link" type="text" readonly value="')[1].split('"')[0]
    new_token = new_token.rsplit("/", 2)[-2]
    assert sync(token, [answer(3)]).status_code == 404  # the old address is gone
    assert sync(new_token, [answer(3)]).status_code == 200
    assert Response.all_objects.count() == 1


def test_a_kiosk_answer_reaches_the_rollups_and_alerts_like_any_other(
    org, settings, device_and_token, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    device, token = device_and_token
    with tenant_scope(org):
        rule_create(
            actor=Actor.system(org),
            organization=org,
            name="Unhappy at the exit",
            kind=RuleKind.RESPONSE,
            metric=ConditionMetric.SMILEY,
            operator=Operator.LTE,
            threshold=2,
        )
    with django_capture_on_commit_callbacks(execute=True):
        sync(token, [answer(1, comment="Long queue"), answer(4, at=timezone.now())])
    rollup = DailyRollup.all_objects.get(organization=org, question_key="q1")
    assert (rollup.channel, rollup.n, rollup.touchpoint_id) == ("kiosk", 2, device.touchpoint_id)
    assert rollup.counts == {"1": 1, "4": 1}
    alert = Alert.all_objects.get(organization=org)
    assert alert.response.hidden_fields["kiosk"] == device.public_id
