"""The alerts list and one alert's page: its evidence said in words and its case."""

import pytest
from django.urls import reverse
from django.utils import translation

from alerts.enums import AlertStatus, RuleKind
from alerts.explain import evidence_in_words, percent, preview_example_in_words
from alerts.models import Alert
from tests.alerts.pages_support import low_score_case, queries_of
from tests.alerts.support import negative_share_rule, owned_touchpoint

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"alerts:{name}", args=["acme", *args])


SHARE_EVIDENCE = {
    "n": 40,
    "negatives": 12,
    "share": 0.3,
    "reference": 0.1,
    "p_value": 0.00002,
    "ci_low": 0.166,
    "ci_high": 0.465,
    "baseline_n": 150,
    "baseline_negatives": 8,
}


@pytest.fixture
def aggregate_alert(scoped, personas):
    touchpoint = owned_touchpoint(scoped, personas.cx_manager, name="Kiosk")
    rule = negative_share_rule(scoped, touchpoint=touchpoint)
    return Alert.objects.create(
        organization=scoped,
        rule=rule,
        kind=RuleKind.NEGATIVE_SHARE,
        title="Unhappy customers rising · Kiosk",
        scope_key=f"tp:{touchpoint.pk}",
        touchpoint=touchpoint,
        evidence=SHARE_EVIDENCE,
    )


def test_alert_page_explains_an_aggregate_alert_in_words(viewer_client, aggregate_alert):
    page = viewer_client.get(url("alert", aggregate_alert.public_id))
    assert page.status_code == 200
    html = page.content.decode()
    assert "40 answers, 12 of them negative" in html
    assert "30.0 %" in html and "16.6 %" in html and "46.5 %" in html  # share and interval
    assert "Reference share" in html and "10.0 %" in html
    assert "&lt; 0.0001" in html  # p-value
    assert "p ≤ 0.001)" in html  # the rule's alpha
    assert "Baseline insufficient" in html and "Only 150 answers" in html
    assert "opened no case" in html


def test_alert_page_shows_the_answers_and_links_the_case(scoped, personas, cx_client):
    case = low_score_case(scoped, personas.cx_manager)
    page = cx_client.get(url("alert", case.alert.public_id))
    html = page.content.decode()
    assert "Satisfied (fi)" in html  # the evidence names the question, not its key
    assert url("case", case.public_id) in html


def test_alerts_list_filters_by_status(scoped, personas, viewer_client, aggregate_alert):
    case = low_score_case(scoped, personas.cx_manager)
    Alert.objects.filter(pk=aggregate_alert.pk).update(status=AlertStatus.RESOLVED)
    everything = viewer_client.get(url("alerts")).content.decode()
    assert aggregate_alert.title in everything and case.alert.title in everything
    open_only = viewer_client.get(url("alerts"), {"status": "open"}).content.decode()
    assert aggregate_alert.title not in open_only and case.alert.title in open_only
    bogus = viewer_client.get(url("alerts"), {"status": "nonsense", "page": "zz"})
    assert bogus.status_code == 200


def test_outsider_gets_404_for_alerts(outsider_client, aggregate_alert):
    assert outsider_client.get(url("alerts")).status_code == 404
    assert outsider_client.get(url("alert", aggregate_alert.public_id)).status_code == 404


def test_another_organizations_alert_is_404(other_org, cx_client):
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        theirs = Alert.objects.create(
            organization=other_org, kind=RuleKind.VOLUME_DROP, title="Theirs", scope_key="srv:1"
        )
    assert cx_client.get(url("alert", theirs.public_id)).status_code == 404


def test_alert_list_query_count_does_not_grow_with_alerts(scoped, viewer_client, aggregate_alert):
    one, _page = queries_of(viewer_client, url("alerts"))
    for n in range(20):
        Alert.objects.create(
            organization=scoped,
            rule=aggregate_alert.rule,
            kind=RuleKind.NEGATIVE_SHARE,
            title=f"Alert {n}",
            scope_key=f"x:{n}",
            touchpoint=aggregate_alert.touchpoint,
            status=AlertStatus.RESOLVED,
        )
    twenty_one, page = queries_of(viewer_client, url("alerts"))
    assert "Alert 19" in page.content.decode()
    assert twenty_one == one


# --- the wording, without a database ----------------------------------------------------------


@pytest.mark.django_db(False)
def test_nps_drop_and_volume_evidence_in_words():
    with translation.override("en"):
        nps = evidence_in_words(
            RuleKind.NPS_DROP,
            {
                "n": 30,
                "nps": 10.0,
                "ci_low": -5.0,
                "ci_high": 25.0,
                "baseline_n": 400,
                "baseline_nps": 40.0,
                "drop": 30.0,
                "p_value": 0.0004,
            },
        )
        volume = evidence_in_words(
            RuleKind.VOLUME_DROP,
            {"observed": 1, "expected": 24.5, "p_value": 0.00001, "history": [25, 24, 26, 23]},
        )
    texts = {row["label"]: row["text"] for row in nps}
    assert texts["Drop"] == "30.0 points" and texts["p-value"] == "0.0004"
    assert "Baseline insufficient" not in texts
    words = {row["label"]: row["text"] for row in volume}
    assert words["Responses in the window"].startswith("1, where")
    assert "24.5" in words["Responses in the window"]


@pytest.mark.django_db(False)
def test_numbers_follow_the_language():
    with translation.override("fi"):
        assert percent(0.125) == "12,5 %"
    with translation.override("en"):
        assert percent(0.125) == "12.5 %"
        assert percent(None) == "–"


@pytest.mark.django_db(False)
def test_response_evidence_names_words_found():
    rows = evidence_in_words(
        RuleKind.RESPONSE,
        {"answers": [{"question": "comment", "words": ["rude"]}, {"question": "csat", "value": 1}]},
        questions={"csat": "How satisfied were you?"},
    )
    assert rows == [
        {"label": "comment", "text": "contains “rude”"},
        {"label": "How satisfied were you?", "text": "1"},
    ]
    example = preview_example_in_words(
        {"response": "rsp_x", "submitted_at": "2026-03-01T10:00:00+00:00", "value": 1}
    )
    assert example["text"] == "answer 1" and example["when"].year == 2026


# --- the emails -------------------------------------------------------------------------------


def _send(organization, notification):
    from alerts.delivery import notification_send

    assert notification_send(organization=organization, notification_id=notification.pk) == "sent"


def test_alert_email_tells_the_owner_what_where_when_and_links_the_case(
    scoped, personas, mailoutbox
):
    from alerts.models import Notification

    case = low_score_case(scoped, personas.cx_manager)
    notification = Notification.objects.get(case=case, channel="email")
    _send(scoped, notification)
    (message,) = mailoutbox
    assert message.to == [personas.cx_manager.email] and f"{case.number}" in message.subject
    text = message.body
    assert case.alert.title in text and "Touchpoint: Store visit" in text
    assert "csat: 1" in text  # the answer that fired the rule
    assert "Contact the customer by" in text and "Resolve by" in text
    assert case.public_id in text and text.count("http") == 1
    html = message.alternatives[0][0]
    assert case.public_id in html and "Store visit" in html and "<html" in html


@pytest.mark.parametrize(
    "breach, words", [("first_contact", "first-contact time"), ("resolution", "resolution time")]
)
def test_escalation_email_says_which_service_level_was_missed(
    scoped, personas, mailoutbox, breach, words
):
    from alerts.models import Notification

    case = low_score_case(scoped, personas.cx_manager)
    notification = Notification.objects.create(
        organization=scoped,
        key=f"escalation:{case.pk}:{breach}",
        purpose="escalation",
        channel="email",
        recipient=personas.admin.email,
        recipient_user=personas.admin,
        language="en",
        alert=case.alert,
        case=case,
    )
    _send(scoped, notification)
    (message,) = mailoutbox
    assert words in message.body and case.title in message.body
    assert personas.cx_manager.full_name in message.body  # the assignee
    assert case.public_id in message.body
    assert words in message.alternatives[0][0]


def test_recovery_email_to_the_customer_holds_no_internal_data(scoped, personas, mailoutbox):
    from alerts.models import Notification

    case = low_score_case(scoped, personas.cx_manager)
    notification = Notification.objects.create(
        organization=scoped,
        key=f"recovery:{case.response_id}",
        purpose="recovery",
        channel="email",
        recipient="customer@example.com",
        language="sv",
        alert=case.alert,
        case=case,
    )
    _send(scoped, notification)
    (message,) = mailoutbox
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Acme Oy" in body  # the organization's name
        assert case.title not in body and "csat" not in body.lower() and "Case" not in body
        assert "cas_" not in body and "http" not in body.replace('"http', "")
        assert personas.cx_manager.email not in body and "Store visit" not in body
    assert 'lang="sv"' in html  # rendered in the customer's language
