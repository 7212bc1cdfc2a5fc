"""The case inbox and the case page: what each role sees and may do, the status machine through
the page, bulk assign, and query counts that do not grow with the cases."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.enums import CaseEventKind, CaseStatus
from alerts.models import Case, CaseEvent, ImprovementItem
from alerts.services.cases import case_change_status, case_record_contact
from distribution.models import Contact
from tenancy.actors import Actor
from tests.alerts.pages_support import a_root_cause, low_score_case, manual_cases, queries_of
from tests.alerts.support import owned_touchpoint
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"alerts:{name}", args=["acme", *args])


@pytest.fixture
def case(scoped, personas):
    """A case opened by a 1-star CSAT at a touchpoint the CX manager owns."""
    return low_score_case(scoped, personas.cx_manager)


# --- the inbox --------------------------------------------------------------------------------


def test_inbox_shows_my_open_case_with_priority_due_times_and_age(cx_client, case):
    page = cx_client.get(url("cases"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"#{case.number}" in html and case.title in html
    assert "High" in html and "▲" in html  # priority as a word and a symbol
    assert "Store visit" in html  # the touchpoint
    assert 'class="overdue"' not in html  # due times are in the future
    assert 'name="cases"' in html  # bulk assign checkboxes for a case handler


def test_overdue_case_says_overdue_in_words(cx_client, case, scoped):
    Case.objects.filter(pk=case.pk).update(first_contact_due=timezone.now() - timedelta(hours=1))
    html = cx_client.get(url("cases")).content.decode()
    assert '<strong class="overdue">overdue</strong>' in html
    overdue_only = cx_client.get(url("cases"), {"overdue": "on", "tab": "team"}).content.decode()
    assert f"#{case.number}" in overdue_only


def test_tabs_split_mine_team_and_unassigned(scoped, personas, owner_client, case):
    (unassigned,) = manual_cases(scoped, 1, title="Phoned in")
    mine = owner_client.get(url("cases")).content.decode()
    assert case.title not in mine and unassigned.title not in mine  # nothing is the owner's
    team = owner_client.get(url("cases"), {"tab": "team"}).content.decode()
    assert case.title in team and unassigned.title in team
    nobody = owner_client.get(url("cases"), {"tab": "unassigned"}).content.decode()
    assert unassigned.title in nobody and case.title not in nobody


def test_filters_by_status_priority_touchpoint_and_search(scoped, personas, cx_client, case):
    other_tp = owned_touchpoint(scoped, personas.cx_manager, name="Web shop")
    (other,) = manual_cases(scoped, 1, touchpoint=other_tp, assignee=personas.cx_manager)
    by_tp = cx_client.get(url("cases"), {"touchpoint": other_tp.public_id}).content.decode()
    assert other.title in by_tp and case.title not in by_tp
    by_priority = cx_client.get(url("cases"), {"priority": "high"}).content.decode()
    assert case.title in by_priority and other.title not in by_priority
    by_number = cx_client.get(url("cases"), {"q": f"#{case.number}"}).content.decode()
    assert case.title in by_number and other.title not in by_number
    case_change_status(actor=Actor.system(scoped), case=other, status=CaseStatus.CANCELLED)
    assert other.title not in cx_client.get(url("cases")).content.decode()  # open by default
    cancelled = cx_client.get(url("cases"), {"status": "cancelled"}).content.decode()
    assert other.title in cancelled and case.title not in cancelled


def test_unknown_filter_values_show_a_form_error_not_a_500(cx_client, case):
    page = cx_client.get(url("cases"), {"touchpoint": "tp_nothere", "status": "bogus", "page": "x"})
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()


def test_inbox_query_count_does_not_grow_with_cases(scoped, personas, cx_client):
    manual_cases(scoped, 1, assignee=personas.cx_manager)
    one, _page = queries_of(cx_client, url("cases"))
    manual_cases(scoped, 29, assignee=personas.cx_manager)
    thirty, page = queries_of(cx_client, url("cases"))
    assert page.content.decode().count('name="cases"') == 30
    assert thirty == one


def test_bulk_assign_gives_the_chosen_cases_to_a_member(scoped, personas, cx_client):
    cases = manual_cases(scoped, 3)
    response = cx_client.post(
        url("cases_bulk_assign"),
        {
            "cases": [cases[0].public_id, cases[1].public_id],
            "assignee": personas.analyst.public_id,
            "next": url("cases") + "?tab=unassigned",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?tab=unassigned")
    assignees = dict(Case.objects.values_list("public_id", "assignee_id"))
    assert assignees[cases[0].public_id] == personas.analyst.pk
    assert assignees[cases[1].public_id] == personas.analyst.pk
    assert assignees[cases[2].public_id] is None


def test_bulk_assign_without_cases_or_to_an_outsider_is_a_form_error(scoped, personas, cx_client):
    (case,) = manual_cases(scoped, 1)
    nothing = cx_client.post(url("cases_bulk_assign"), {"assignee": personas.analyst.public_id})
    assert nothing.status_code == 400 and "Choose at least one case." in nothing.content.decode()
    outsider = cx_client.post(
        url("cases_bulk_assign"),
        {"cases": [case.public_id], "assignee": personas.outsider.public_id},
    )
    assert outsider.status_code == 400 and "Select a valid choice" in outsider.content.decode()
    case.refresh_from_db()
    assert case.assignee_id is None


def test_bulk_assign_cannot_reach_another_organizations_cases(other_org, personas, cx_client):
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        (theirs,) = manual_cases(other_org, 1)
    response = cx_client.post(
        url("cases_bulk_assign"),
        {"cases": [theirs.public_id], "assignee": personas.analyst.public_id},
    )
    assert response.status_code == 400
    with tenant_scope(other_org):
        theirs.refresh_from_db()
    assert theirs.assignee_id is None


def test_viewer_cannot_bulk_assign(scoped, viewer_client, personas):
    (case,) = manual_cases(scoped, 1)
    page = viewer_client.get(url("cases"), {"tab": "team"}).content.decode()
    assert case.title in page and 'name="cases"' not in page
    response = viewer_client.post(
        url("cases_bulk_assign"), {"cases": [case.public_id], "assignee": personas.viewer.public_id}
    )
    assert response.status_code == 403


# --- the case page ----------------------------------------------------------------------------


def test_case_page_shows_alert_response_hidden_fields_channel_and_timeline(cx_client, case):
    page = cx_client.get(url("case", case.public_id))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Satisfied (fi)" in html and "1 / 5" in html  # question text and value in words
    assert "Rude staff at the till" in html
    assert "store" in html and "Kamppi" in html  # hidden fields
    assert "Web" in html  # channel
    assert "CSAT 1-2" in html  # the rule
    assert "Case opened" in html and "Assigned to" in html  # timeline
    for form in ("case_contact", "case_resolve", "case_status", "case_assign", "case_note"):
        assert url(form, case.public_id) in html


def test_case_page_shows_the_contacts_summary_when_linked(scoped, cx_client, case):
    contact = Contact.objects.create(
        organization=scoped, name="Maija Meikäläinen", email="maija@example.com"
    )
    Case.objects.filter(pk=case.pk).update(contact=contact)
    html = cx_client.get(url("case", case.public_id)).content.decode()
    assert "Maija Meikäläinen" in html
    assert reverse("distribution:contact", args=["acme", contact.public_id]) in html
    assert "Email consent" in html


def test_viewer_reads_the_case_but_gets_no_action_forms_and_posts_answer_403(viewer_client, case):
    page = viewer_client.get(url("case", case.public_id))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.title in html and url("case_resolve", case.public_id) not in html
    for action in (
        "case_assign",
        "case_status",
        "case_resolve",
        "case_note",
        "case_contact",
        "case_improvement",
    ):
        assert viewer_client.post(url(action, case.public_id), {}).status_code == 403


def test_outsider_gets_404_for_every_case_url(outsider_client, case):
    assert outsider_client.get(url("cases")).status_code == 404
    assert outsider_client.get(url("case", case.public_id)).status_code == 404
    for action in ("case_assign", "case_status", "case_resolve", "case_note", "case_contact"):
        assert outsider_client.post(url(action, case.public_id), {}).status_code == 404
    assert outsider_client.post(url("cases_bulk_assign"), {}).status_code == 404


def test_another_organizations_case_is_404_to_members_too(other_org, personas, cx_client):
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        (theirs,) = manual_cases(other_org, 1)
    assert cx_client.get(url("case", theirs.public_id)).status_code == 404
    assert cx_client.post(url("case_note", theirs.public_id), {"text": "x"}).status_code == 404


def test_recording_a_contact_stops_the_first_contact_clock(scoped, cx_client, case):
    response = cx_client.post(
        url("case_contact", case.public_id),
        {
            "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "method": "phone",
            "outcome": "reached",
            "note": "Apologised, sent a voucher",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.first_contacted_at is not None and case.status == CaseStatus.IN_PROGRESS
    html = cx_client.get(url("case", case.public_id)).content.decode()
    assert "Phone call: Reached the customer" in html and "sent a voucher" in html


def test_a_contact_in_the_future_or_without_method_is_a_form_error(cx_client, case):
    future = timezone.localtime() + timedelta(days=2)
    response = cx_client.post(
        url("case_contact", case.public_id),
        {
            "contacted_at": future.strftime("%Y-%m-%dT%H:%M"),
            "method": "phone",
            "outcome": "reached",
        },
    )
    assert response.status_code == 400
    assert "The contact cannot be in the future." in response.content.decode()
    missing = cx_client.post(url("case_contact", case.public_id), {"contacted_at": "yesterday"})
    assert missing.status_code == 400
    case.refresh_from_db()
    assert case.first_contacted_at is None


def test_resolving_without_root_cause_or_action_is_refused(scoped, cx_client, case):
    a_root_cause(scoped)
    response = cx_client.post(url("case_resolve", case.public_id), {"action_taken": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW and case.root_cause_id is None


def test_resolving_with_a_root_cause_from_the_taxonomy(scoped, cx_client, case):
    cause = a_root_cause(scoped)
    page = cx_client.get(url("case", case.public_id)).content.decode()
    assert '<optgroup label="Staff">' in page  # the taxonomy grouped by category
    response = cx_client.post(
        url("case_resolve", case.public_id),
        {"root_cause": cause.public_id, "controllable": "", "action_taken": "Coached the team"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.root_cause == cause
    assert case.controllable is True and case.action_taken == "Coached the team"


def test_a_root_cause_of_another_organization_is_refused(other_org, scoped, cx_client, case):
    from tenancy.scoping import tenant_scope

    with tenant_scope(other_org):
        theirs = a_root_cause(other_org)
    response = cx_client.post(
        url("case_resolve", case.public_id),
        {"root_cause": theirs.public_id, "action_taken": "Something"},
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_reopening_needs_a_note(scoped, cx_client, case):
    cause = a_root_cause(scoped)
    case_change_status(
        actor=Actor.system(scoped),
        case=case,
        status=CaseStatus.RESOLVED,
        root_cause=cause,
        action_taken="Refunded",
    )
    page = cx_client.get(url("case", case.public_id)).content.decode()
    assert "going back: needs a note" in page
    refused = cx_client.post(url("case_status", case.public_id), {"status": "in_progress"})
    assert refused.status_code == 400
    assert "A note is required to reopen a case." in refused.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    reopened = cx_client.post(
        url("case_status", case.public_id),
        {"status": "in_progress", "note": "Customer called back: still broken"},
    )
    assert reopened.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.resolved_at is None
    assert CaseEvent.objects.filter(case=case, text__contains="still broken").exists()


def test_a_status_move_the_machine_does_not_allow_is_a_form_error(scoped, cx_client, case):
    response = cx_client.post(url("case_status", case.public_id), {"status": "closed"})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_assign_note_and_improvement_link(scoped, personas, cx_client, case):
    item = ImprovementItem.objects.create(organization=scoped, title="Till training")
    assert (
        cx_client.post(
            url("case_assign", case.public_id), {"assignee": personas.analyst.public_id}
        ).status_code
        == 302
    )
    assert (
        cx_client.post(url("case_note", case.public_id), {"text": "Called the store"}).status_code
        == 302
    )
    assert (
        cx_client.post(
            url("case_improvement", case.public_id), {"improvement": item.public_id}
        ).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.assignee == personas.analyst and case.improvement == item
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert {CaseEventKind.NOTE, CaseEventKind.IMPROVEMENT} <= kinds
    empty_note = cx_client.post(url("case_note", case.public_id), {"text": "  "})
    assert empty_note.status_code == 400


def test_case_page_query_count_does_not_grow_with_its_timeline(scoped, personas, cx_client, case):
    first, _page = queries_of(cx_client, url("case", case.public_id))
    for n in range(10):
        case_record_contact(
            actor=Actor.for_membership(personas.cx_manager.memberships.get()),
            case=case,
            method="phone",
            outcome="no_answer",
            note=f"try {n}",
        )
    later, page = queries_of(cx_client, url("case", case.public_id))
    assert page.content.decode().count("No answer") >= 10
    assert later == first


# --- the fragments on the touchpoint and contact pages ----------------------------------------


def test_touchpoint_page_loads_its_open_cases(cx_client, case):
    tp_page = cx_client.get(
        reverse("journeys:touchpoint", args=["acme", case.touchpoint.public_id])
    )
    fragment_url = url("touchpoint_cases", case.touchpoint.public_id)
    assert fragment_url in tp_page.content.decode()
    fragment = cx_client.get(fragment_url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html and case.title in html
    plain = cx_client.get(fragment_url)
    assert "<html" in plain.content.decode() and case.title in plain.content.decode()


def test_contact_page_loads_the_contacts_open_cases(scoped, cx_client, viewer_client, case):
    contact = Contact.objects.create(organization=scoped, name="Maija", email="m@example.com")
    Case.objects.filter(pk=case.pk).update(contact=contact)
    contact_page = cx_client.get(reverse("distribution:contact", args=["acme", contact.public_id]))
    fragment_url = url("contact_cases", contact.public_id)
    assert fragment_url in contact_page.content.decode()
    fragment = viewer_client.get(fragment_url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and case.title in fragment.content.decode()


def test_fragments_answer_404_to_outsiders(scoped, outsider_client, case):
    contact = Contact.objects.create(organization=scoped, name="Maija", email="m@example.com")
    assert (
        outsider_client.get(url("touchpoint_cases", case.touchpoint.public_id)).status_code == 404
    )
    assert outsider_client.get(url("contact_cases", contact.public_id)).status_code == 404


def test_member_of_both_organizations_sees_only_this_ones_cases(scoped, other_org, personas, case):
    from tests.factories import MembershipFactory

    MembershipFactory(organization=other_org, user=personas.cx_manager, role="owner")
    client = client_for(personas.cx_manager)
    other_url = reverse("alerts:case", args=["rival", case.public_id])
    assert client.get(other_url).status_code == 404
