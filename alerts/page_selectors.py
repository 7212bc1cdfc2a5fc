"""Reads the alerts pages need beyond `alerts.selectors`: the members to choose from, the case
page's response and contact summary, the taxonomy grouped for a select, the names behind the
closed-loop measures. Each costs a fixed number of queries whatever the data holds.
"""

from collections.abc import Iterable
from itertools import groupby

from django.db.models import QuerySet

from accounts.models import User
from alerts.models import Alert, Case, MemberAlertSettings
from alerts.selectors import CaseFilters, case_list, root_cause_list
from distribution.selectors import contact_invitations, contact_responses
from journeys.models import Journey, Touchpoint
from surveys import wording
from surveys.models import Survey
from surveys.selectors import response_list
from tenancy.models import Membership


def member_users(*, organization) -> QuerySet[User]:
    """The organization's members, by name and email (for assignee and owner selects)."""
    return User.objects.filter(
        pk__in=Membership.objects.filter(organization=organization).values("user_id")
    ).order_by("full_name", "email")


def cases_by_public_ids(*, organization, public_ids: Iterable[str]) -> list[Case]:
    """The organization's cases among `public_ids` (others' ids simply match nothing)."""
    ids = [value for value in public_ids if isinstance(value, str) and value][:500]
    return list(Case.objects.filter(organization=organization, public_id__in=ids).order_by("id"))


def response_in_words(*, organization, response_id: int | None) -> dict | None:
    """A case's or alert's response as pages word it (`surveys.wording.response_in_words`)
    plus its hidden fields and `questions` ({key: question text}); None without one. Two
    queries."""
    if response_id is None:
        return None
    response = response_list(organization=organization).filter(pk=response_id).first()
    if response is None:
        return None
    row = wording.response_in_words(response)
    row["hidden_fields"] = sorted((response.hidden_fields or {}).items())
    row["questions"] = {item["key"]: item["question"] for item in row["items"]}
    return row


def contact_summary(*, organization, contact, limit: int = 3) -> dict:
    """The contact's 360 summary for a case: consent per channel, the newest invitations and
    responses (in words). Three queries."""
    invitations = list(contact_invitations(organization=organization, contact=contact)[:limit])
    responses = contact_responses(organization=organization, contact=contact)[:limit]
    return {
        "contact": contact,
        "channels": [contact.consent_for(channel) for channel in ("email", "sms")],
        "invitations": invitations,
        "responses": [wording.response_in_words(response) for response in responses],
    }


def root_cause_groups(*, organization, active_only: bool = True) -> list[tuple[str, list]]:
    """The taxonomy as [(category, [causes])], in category and name order: one query."""
    causes = root_cause_list(organization=organization, active_only=active_only).order_by(
        "category", "name", "id"
    )
    return [
        (category, list(items)) for category, items in groupby(causes, key=lambda c: c.category)
    ]


def alert_case(*, organization, alert: Alert) -> Case | None:
    return (
        Case.objects.filter(organization=organization, alert=alert)
        .select_related("assignee")
        .first()
    )


def improvement_cases(*, organization, item) -> QuerySet[Case]:
    return case_list(organization=organization).filter(improvement=item)


def open_cases_for_contact(*, organization, contact, limit: int = 20):
    return case_list(
        organization=organization, filters=CaseFilters(contact_id=contact.pk, open_only=True)
    )[:limit]


def touchpoint_names(*, organization, ids: Iterable[int]) -> dict[int, str]:
    wanted = [value for value in ids if value is not None]
    if not wanted:
        return {}
    return dict(
        Touchpoint.objects.filter(organization=organization, pk__in=wanted).values_list(
            "pk", "name"
        )
    )


def user_names(*, ids: Iterable[int]) -> dict[int, str]:
    wanted = [value for value in ids if value is not None]
    if not wanted:
        return {}
    return {
        pk: full_name or email
        for pk, full_name, email in User.objects.filter(pk__in=wanted).values_list(
            "pk", "full_name", "email"
        )
    }


def member_alert_settings_for(*, organization, user) -> MemberAlertSettings | None:
    return (
        MemberAlertSettings.objects.filter(organization=organization, user=user)
        .select_related("escalation_contact")
        .first()
    )


def journey_choices(*, organization):
    return Journey.objects.filter(organization=organization).order_by("name", "id")


def touchpoint_choices(*, organization):
    """Touchpoints with their journey (for labels like "Web shop: Checkout"): one query."""
    return (
        Touchpoint.objects.filter(organization=organization)
        .select_related("journey")
        .order_by("journey__name", "position", "id")
    )


def survey_choices(*, organization):
    return Survey.objects.filter(organization=organization).order_by("name", "id")
