"""Service levels, a member's own alert settings, the root-cause taxonomy, improvement items and
the closed-loop measures, through their pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.enums import CaseStatus
from alerts.models import Case, CaseSettings, ImprovementItem, MemberAlertSettings, RootCause
from alerts.service_levels import case_settings_get
from alerts.services.cases import case_record_contact
from tenancy.actors import Actor
from tests.alerts.pages_support import a_root_cause, low_score_case, manual_cases, queries_of

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"alerts:{name}", args=["acme", *args])


def settings_data(**changes) -> dict:
    data = {
        "sla_urgent_first": "1",
        "sla_urgent_resolution": "8",
        "sla_high_first": "2",
        "sla_high_resolution": "12",
        "sla_normal_first": "8",
        "sla_normal_resolution": "40",
        "sla_low_first": "16",
        "sla_low_resolution": "80",
        "workdays": ["0", "1", "2", "3", "4", "5"],
        "day_start": "09:00",
        "day_end": "17:30",
        "holiday_country": "se",
        "default_assignee": "",
        "escalation_contact": "",
    }
    data.update(changes)
    return data


# --- service levels ---------------------------------------------------------------------------


def test_admin_changes_service_levels_hours_holidays_and_people(scoped, personas, owner_client):
    assert owner_client.get(url("case_settings")).status_code == 200
    response = owner_client.post(
        url("case_settings"),
        settings_data(
            default_assignee=personas.cx_manager.public_id,
            escalation_contact=personas.admin.public_id,
        ),
    )
    assert response.status_code == 302
    settings = case_settings_get(organization=scoped)
    assert settings.sla_hours["high"] == [2.0, 12.0]
    assert settings.workdays == [0, 1, 2, 3, 4, 5]
    assert settings.holiday_country == "SE"
    assert str(settings.day_end) == "17:30:00"
    assert settings.default_assignee == personas.cx_manager
    assert settings.escalation_contact == personas.admin


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sla_high_first": "20"}, "first contact before resolution"),
        ({"holiday_country": "XX"}, "Unknown country code."),
        ({"day_start": "18:00"}, "The working day must end after it starts."),
        ({"workdays": []}, "This field is required."),
        ({"sla_low_first": "-1"}, "greater than or equal to 0.25"),
        ({"escalation_contact": "usr_nobodyhere"}, "Select a valid choice"),
    ],
)
def test_bad_service_levels_are_form_errors(scoped, owner_client, changes, message):
    response = owner_client.post(url("case_settings"), settings_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert case_settings_get(organization=scoped).holiday_country == "FI"


def test_viewer_and_cx_manager_read_service_levels_but_cannot_change_them(
    scoped, viewer_client, cx_client
):
    page = viewer_client.get(url("case_settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "disabled" in html and ">Save</button>" not in html
    assert viewer_client.post(url("case_settings"), settings_data()).status_code == 403
    assert cx_client.post(url("case_settings"), settings_data()).status_code == 403
    assert not CaseSettings.objects.filter(holiday_country="SE").exists()


def test_outsider_gets_404_for_settings_pages(outsider_client):
    for name in ("case_settings", "my_alert_settings", "measures", "root_causes", "improvements"):
        assert outsider_client.get(url(name)).status_code == 404


# --- a member's own alert settings ------------------------------------------------------------


def test_member_saves_their_sms_number_in_e164_and_an_escalation_contact(
    scoped, personas, viewer_client
):
    response = viewer_client.post(
        url("my_alert_settings"),
        {"sms_phone": "040 123 4567", "escalation_contact": personas.cx_manager.public_id},
    )
    assert response.status_code == 302
    row = MemberAlertSettings.objects.get(user=personas.viewer)
    assert row.sms_phone == "+358401234567" and row.escalation_contact == personas.cx_manager
    page = viewer_client.get(url("my_alert_settings")).content.decode()
    assert "+358401234567" in page


@pytest.mark.parametrize("number", ["12345", "09 123 4567", "not a number"])
def test_a_number_that_is_not_a_mobile_is_a_form_error(scoped, personas, cx_client, number):
    response = cx_client.post(url("my_alert_settings"), {"sms_phone": number})
    assert response.status_code == 400
    assert "Enter a mobile number" in response.content.decode()
    assert not MemberAlertSettings.objects.exists()


def test_escalation_contact_must_be_another_member(scoped, personas, cx_client):
    myself = cx_client.post(
        url("my_alert_settings"), {"escalation_contact": personas.cx_manager.public_id}
    )
    assert myself.status_code == 400
    outsider = cx_client.post(
        url("my_alert_settings"), {"escalation_contact": personas.outsider.public_id}
    )
    assert outsider.status_code == 400


# --- root causes ------------------------------------------------------------------------------


def test_loading_a_starter_list_then_adding_and_editing_causes(scoped, cx_client):
    response = cx_client.post(url("root_causes_load_starter"), {"industry": "retail"})
    assert response.status_code == 302
    loaded = RootCause.objects.count()
    assert loaded > 5
    again = cx_client.post(url("root_causes_load_starter"), {"industry": "retail"})
    assert again.status_code == 302 and RootCause.objects.count() == loaded
    page = cx_client.get(url("root_causes")).content.decode()
    assert "Product out of stock" in page and "<h2" in page
    added = cx_client.post(
        url("root_causes"), {"category": "Staff", "name": "Too few at lunch", "controllable": "on"}
    )
    assert added.status_code == 302
    cause = RootCause.objects.get(name="Too few at lunch")
    edited = cx_client.post(
        url("root_cause_edit", cause.public_id),
        {"category": "Staffing", "name": "Too few at lunch", "is_active": "on"},
    )
    assert edited.status_code == 302
    cause.refresh_from_db()
    assert cause.category == "Staffing" and cause.controllable is False


def test_a_duplicate_cause_or_unknown_industry_is_a_form_error(scoped, cx_client):
    a_root_cause(scoped)
    duplicate = cx_client.post(
        url("root_causes"), {"category": "Staff", "name": "Unfriendly staff"}
    )
    assert duplicate.status_code == 400
    assert "Exists already in this category." in duplicate.content.decode()
    industry = cx_client.post(url("root_causes_load_starter"), {"industry": "mining"})
    assert industry.status_code == 400


def test_a_deactivated_cause_is_no_longer_offered_when_resolving(scoped, personas, cx_client):
    cause = a_root_cause(scoped)
    case = low_score_case(scoped, personas.cx_manager)
    response = cx_client.post(url("root_cause_deactivate", cause.public_id), {"is_active": "0"})
    assert response.status_code == 302
    cause.refresh_from_db()
    assert cause.is_active is False
    page = cx_client.get(url("case", case.public_id)).content.decode()
    assert cause.public_id not in page
    cx_client.post(url("root_cause_deactivate", cause.public_id), {"is_active": "1"})
    cause.refresh_from_db()
    assert cause.is_active is True


def test_viewer_reads_causes_but_cannot_change_them(scoped, viewer_client, outsider_client):
    cause = a_root_cause(scoped)
    page = viewer_client.get(url("root_causes"))
    assert page.status_code == 200 and "Unfriendly staff" in page.content.decode()
    assert url("root_cause_edit", cause.public_id) not in page.content.decode()
    assert viewer_client.post(url("root_causes"), {"category": "A", "name": "B"}).status_code == 403
    assert (
        viewer_client.post(url("root_causes_load_starter"), {"industry": "retail"}).status_code
        == 403
    )
    assert viewer_client.get(url("root_cause_edit", cause.public_id)).status_code == 403
    assert viewer_client.post(url("root_cause_deactivate", cause.public_id)).status_code == 403
    assert outsider_client.get(url("root_cause_edit", cause.public_id)).status_code == 404
    assert outsider_client.post(url("root_cause_deactivate", cause.public_id)).status_code == 404


# --- improvement items ------------------------------------------------------------------------


def test_improvement_items_gather_cases_with_counts(scoped, personas, cx_client):
    cause = a_root_cause(scoped)
    created = cx_client.post(
        url("improvements"),
        {
            "title": "Train the till staff",
            "root_cause": cause.public_id,
            "owner": personas.cx_manager.public_id,
            "due_date": "2030-01-31",
        },
    )
    assert created.status_code == 302
    item = ImprovementItem.objects.get()
    cases = manual_cases(scoped, 3)
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(improvement=item)
    Case.objects.filter(pk=cases[1].pk).update(status=CaseStatus.RESOLVED)
    listing = cx_client.get(url("improvements")).content.decode()
    assert "Train the till staff" in listing and "2 (1 open)" in listing
    page = cx_client.get(url("improvement", item.public_id)).content.decode()
    assert cases[0].title in page and cases[1].title in page and cases[2].title not in page
    edited = cx_client.post(
        url("improvement", item.public_id),
        {
            "title": "Train the till staff",
            "status": "in_progress",
            "owner": personas.admin.public_id,
        },
    )
    assert edited.status_code == 302
    item.refresh_from_db()
    assert item.status == "in_progress" and item.owner == personas.admin


def test_improvement_bad_input_viewer_and_outsider(
    scoped, personas, cx_client, viewer_client, outsider_client
):
    assert cx_client.post(url("improvements"), {"title": ""}).status_code == 400
    item = ImprovementItem.objects.create(organization=scoped, title="Fix the kiosk")
    bad = cx_client.post(url("improvement", item.public_id), {"title": "x", "status": "someday"})
    assert bad.status_code == 400
    page = viewer_client.get(url("improvement", item.public_id))
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    assert viewer_client.post(url("improvements"), {"title": "x"}).status_code == 403
    assert viewer_client.post(url("improvement", item.public_id), {"title": "x"}).status_code == 403
    assert outsider_client.get(url("improvement", item.public_id)).status_code == 404


def test_improvement_list_query_count_does_not_grow(scoped, cx_client):
    ImprovementItem.objects.create(organization=scoped, title="One")
    one, _page = queries_of(cx_client, url("improvements"))
    for n in range(10):
        ImprovementItem.objects.create(organization=scoped, title=f"Item {n}")
    eleven, _page = queries_of(cx_client, url("improvements"))
    assert eleven == one


# --- closed-loop measures ---------------------------------------------------------------------


def test_measures_per_touchpoint_and_owner(scoped, personas, viewer_client):
    case = low_score_case(scoped, personas.cx_manager)
    case_record_contact(actor=Actor.system(scoped), case=case, method="phone", outcome="reached")
    manual_cases(scoped, 1)
    page = viewer_client.get(url("measures"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Store visit" in html and "No touchpoint" in html
    assert personas.cx_manager.full_name in html and "Unassigned" in html
    assert "100 %" in html  # contacted within the service level


def test_measures_date_range(scoped, personas, viewer_client):
    low_score_case(scoped, personas.cx_manager)
    today = timezone.localdate()
    past = viewer_client.get(
        url("measures"),
        {
            "start": (today - timedelta(days=60)).isoformat(),
            "end": (today - timedelta(days=31)).isoformat(),
        },
    )
    assert (
        past.status_code == 200 and "No cases were opened in this period." in past.content.decode()
    )
    backwards = viewer_client.get(
        url("measures"), {"start": today.isoformat(), "end": "2000-01-01"}
    )
    assert backwards.status_code == 400
    assert "The end must not be before the start." in backwards.content.decode()
    garbage = viewer_client.get(url("measures"), {"start": "soon", "end": ""})
    assert garbage.status_code == 400


def test_measures_query_count_does_not_grow_with_cases(scoped, personas, viewer_client):
    manual_cases(scoped, 1, assignee=personas.cx_manager)
    one, _page = queries_of(viewer_client, url("measures"))
    manual_cases(scoped, 20, assignee=personas.analyst)
    many, _page = queries_of(viewer_client, url("measures"))
    assert many == one
