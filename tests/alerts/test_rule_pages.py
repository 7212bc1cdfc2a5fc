"""The rule editor: every field through the form, refusals as form errors, the "would have fired
N times" preview (plain POST and HTMX), delete; viewers read, outsiders get 404."""

import pytest
from django.urls import reverse

from alerts.enums import RuleKind
from alerts.models import AlertRule
from tests.alerts.pages_support import queries_of
from tests.alerts.support import (
    csat_survey,
    low_csat_rule,
    negative_share_rule,
    owned_touchpoint,
    submit_csat,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"alerts:{name}", args=["acme", *args])


def rule_data(**changes) -> dict:
    data = {
        "name": "Unhappy at the till",
        "kind": "response",
        "is_active": "on",
        "metric": "csat",
        "operator": "lte",
        "threshold": "2",
        "window_minutes": "1440",
        "reference_mode": "baseline",
        "baseline_margin": "0.05",
        "alpha": "0.001",
        "min_n": "10",
        "drop_points": "15",
        "volume_ratio": "0.2",
        "priority": "high",
        "open_case": "on",
        "notify_email": "on",
        "cooldown_minutes": "60",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def touchpoint(scoped, personas):
    return owned_touchpoint(scoped, personas.cx_manager)


def test_cx_manager_creates_a_rule_with_scope_conditions_and_actions(scoped, cx_client, touchpoint):
    response = cx_client.post(
        url("rule_create"),
        rule_data(
            touchpoint=touchpoint.public_id,
            hidden_fields="store=Kamppi\nlane = 3",
            contact_attributes="tier=gold",
            slack_webhook_url="https://hooks.slack.com/services/T0/B0/abc",
            recovery_message="on",
            priority="urgent",
        ),
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.touchpoint == touchpoint
    assert rule.hidden_fields == {"store": "Kamppi", "lane": "3"}
    assert rule.contact_attributes == {"tier": "gold"}
    assert rule.slack_webhook_url.startswith("https://hooks.slack.com/")
    assert rule.recovery_message and rule.priority == "urgent" and rule.threshold == 2
    listing = cx_client.get(url("rules")).content.decode()
    assert "Unhappy at the till" in listing and "store=Kamppi" in listing


def test_an_aggregate_rule_keeps_its_window_and_reference(scoped, cx_client):
    response = cx_client.post(
        url("rule_create"),
        rule_data(
            kind="negative_share",
            window_minutes="30",
            reference_mode="threshold",
            reference_rate="0.08",
        ),
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.kind == RuleKind.NEGATIVE_SHARE and rule.window_minutes == 30
    assert str(rule.reference_rate) == "0.0800"


def test_open_answer_words_rule(scoped, cx_client):
    response = cx_client.post(
        url("rule_create"), rule_data(metric="text", keywords="rude, dirty\nwaited forever")
    )
    assert response.status_code == 302
    assert AlertRule.objects.get().keywords == ["rude", "dirty", "waited forever"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"hidden_fields": "store Kamppi"}, "Line 1: write name=value."),
        ({"threshold": "9"}, "Give a whole number from 1 to 5."),
        ({"name": ""}, "This field is required."),
        ({"slack_webhook_url": "https://127.0.0.1/hook"}, "private or internal network"),
        ({"kind": "negative_share", "window_minutes": "5"}, "From 15 minutes to 7 days."),
        ({"metric": "text", "keywords": ""}, "List the words to look for"),
        ({"kind": "response", "contact_attributes": "=x"}, "Line 1: write name=value."),
        ({"alpha": "lots"}, "Enter a number."),
        ({"touchpoint": "tp_notours"}, "Select a valid choice"),
    ],
)
def test_bad_rule_input_is_a_form_error_not_a_500(scoped, cx_client, changes, message):
    response = cx_client.post(url("rule_create"), rule_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html or message.lower() in html.lower()
    assert not AlertRule.objects.exists()


def test_editing_a_rule_saves_and_keeps_its_id(scoped, cx_client):
    rule = low_csat_rule(scoped)
    page = cx_client.get(url("rule_edit", rule.public_id))
    assert page.status_code == 200 and 'value="CSAT 1-2"' in page.content.decode()
    response = cx_client.post(
        url("rule_edit", rule.public_id), rule_data(name="CSAT at most 1", threshold="1")
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "CSAT at most 1" and rule.threshold == 1
    refused = cx_client.post(url("rule_edit", rule.public_id), rule_data(threshold="0"))
    assert refused.status_code == 400
    rule.refresh_from_db()
    assert rule.threshold == 1


def test_deleting_a_rule(scoped, cx_client):
    rule = low_csat_rule(scoped)
    assert cx_client.get(url("rule_delete", rule.public_id)).status_code == 200
    assert cx_client.post(url("rule_delete", rule.public_id)).status_code == 302
    assert not AlertRule.objects.exists()


def test_preview_says_how_often_the_rule_would_have_fired(scoped, cx_client, touchpoint):
    survey = csat_survey(scoped, touchpoint)
    for score in (1, 2, 5, 4, 1):
        submit_csat(scoped, survey, score)
    response = cx_client.post(url("rule_create"), rule_data(preview="1"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Would have fired 3 times in the last 30 days." in html
    assert not AlertRule.objects.exists()  # a preview saves nothing


def test_htmx_preview_answers_with_the_fragment(scoped, cx_client, touchpoint):
    survey = csat_survey(scoped, touchpoint)
    submit_csat(scoped, survey, 1)
    response = cx_client.post(url("rule_preview"), rule_data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Would have fired 1 time in the last 30 days." in html


def test_preview_of_an_aggregate_rule_without_history_says_baseline_insufficient(
    scoped, cx_client, touchpoint
):
    survey = csat_survey(scoped, touchpoint)
    for _n in range(3):
        submit_csat(scoped, survey, 1)
    response = cx_client.post(
        url("rule_preview"), rule_data(kind="negative_share"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "Would have fired 0 times" in html and "Baseline insufficient" in html


def test_preview_of_a_broken_rule_lists_what_to_fix(scoped, cx_client):
    response = cx_client.post(
        url("rule_preview"), rule_data(threshold="99"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Fix the rule first" in response.content.decode()
    plain = cx_client.post(url("rule_create"), rule_data(threshold="99", preview="1"))
    assert plain.status_code == 400 and "Give a whole number from 1 to 5." in plain.content.decode()


def test_viewer_reads_rules_but_cannot_write(scoped, viewer_client):
    rule = low_csat_rule(scoped)
    listing = viewer_client.get(url("rules"))
    assert listing.status_code == 200 and "CSAT 1-2" in listing.content.decode()
    assert url("rule_create") not in listing.content.decode()
    assert viewer_client.get(url("rule_create")).status_code == 403
    assert viewer_client.post(url("rule_create"), rule_data()).status_code == 403
    assert viewer_client.post(url("rule_preview"), rule_data()).status_code == 403
    assert viewer_client.post(url("rule_edit", rule.public_id), rule_data()).status_code == 403
    assert viewer_client.post(url("rule_delete", rule.public_id)).status_code == 403
    assert AlertRule.objects.count() == 1


def test_outsider_gets_404_for_every_rule_url(scoped, outsider_client):
    rule = low_csat_rule(scoped)
    assert outsider_client.get(url("rules")).status_code == 404
    assert outsider_client.get(url("rule_edit", rule.public_id)).status_code == 404
    assert outsider_client.post(url("rule_delete", rule.public_id)).status_code == 404
    assert outsider_client.post(url("rule_preview"), rule_data()).status_code == 404


def test_another_organizations_rule_is_404(other_org, cx_client):
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        theirs = low_csat_rule(other_org)
    assert cx_client.get(url("rule_edit", theirs.public_id)).status_code == 404
    assert cx_client.post(url("rule_delete", theirs.public_id)).status_code == 404


def test_rule_list_query_count_does_not_grow_with_rules(scoped, cx_client, touchpoint):
    low_csat_rule(scoped, touchpoint=touchpoint)
    one, _page = queries_of(cx_client, url("rules"))
    for n in range(10):
        negative_share_rule(scoped, name=f"Share {n}", touchpoint=touchpoint)
    eleven, page = queries_of(cx_client, url("rules"))
    assert "Share 9" in page.content.decode()
    assert eleven == one
