"""Reads shared by the respondent pages, the API and (later) the builder pages."""

import json
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from core import handles
from core.models import HandleKind
from journeys.models import Touchpoint
from surveys.enums import VersionStatus
from surveys.models import Answer, PersonalLink, Question, Response, Survey, SurveyVersion
from tenancy.scoping import unscoped


def survey_list(*, organization, status: str | None = None, touchpoint=None) -> QuerySet[Survey]:
    surveys = Survey.objects.filter(organization=organization).select_related(
        "touchpoint", "current_version"
    )
    if status:
        surveys = surveys.filter(status=status)
    if touchpoint is not None:
        surveys = surveys.filter(touchpoint=touchpoint)
    return surveys


def surveys_for_answering(*, organization, public_ids) -> dict[str, Survey]:
    """The organization's surveys among `public_ids`, by public id, with what answering one
    reads: status, current version (number, status, languages) and touchpoint. Other fields are
    deferred (reading one costs a query).

    Written by hand because this is the busiest API path and the ORM spent more time compiling
    the three-table query than PostgreSQL spent answering it."""
    with connection.cursor() as cursor:
        cursor.execute(ANSWERING_SQL, [organization.pk, list(public_ids)])
        rows = cursor.fetchall()
    found = {}
    for (
        pk,
        public_id,
        status,
        touchpoint_id,
        version_id,
        number,
        version_status,
        languages,
        version_public_id,
        touchpoint_public_id,
    ) in rows:
        survey = _partial(
            Survey,
            id=pk,
            organization_id=organization.pk,
            public_id=public_id,
            status=status,
            touchpoint_id=touchpoint_id,
            current_version_id=version_id,
        )
        survey.organization = organization
        survey.current_version = survey.touchpoint = None
        if version_id is not None:
            survey.current_version = _partial(
                SurveyVersion,
                id=version_id,
                organization_id=organization.pk,
                survey_id=pk,
                public_id=version_public_id,
                number=number,
                status=version_status,
                languages=json.loads(languages),
            )
        if touchpoint_id is not None:
            survey.touchpoint = _partial(
                Touchpoint,
                id=touchpoint_id,
                organization_id=organization.pk,
                public_id=touchpoint_public_id,
            )
        found[public_id] = survey
    return found


def _partial(model, **values):
    """An instance as if read from the database with only `values` (by attname) selected."""
    fields = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, fields, [values[name] for name in fields])


ANSWERING_SQL = f"""
SELECT survey.id, survey.public_id, survey.status, survey.touchpoint_id,
    survey.current_version_id, version.number, version.status, version.languages::text,
    version.public_id, touchpoint.public_id
FROM {Survey._meta.db_table} AS survey
LEFT JOIN {SurveyVersion._meta.db_table} AS version ON version.id = survey.current_version_id
LEFT JOIN {Touchpoint._meta.db_table} AS touchpoint ON touchpoint.id = survey.touchpoint_id
WHERE survey.organization_id = %s AND survey.public_id = ANY(%s)
"""  # noqa: S608 (table names from the models, values as parameters)


def access_survey(*, organization, public_id: str) -> Survey:
    survey = survey_list(organization=organization).filter(public_id=public_id).first()
    if survey is None:
        raise Http404
    return survey


def version_list(*, organization, survey: Survey) -> QuerySet[SurveyVersion]:
    return SurveyVersion.objects.filter(organization=organization, survey=survey).order_by(
        "-number"
    )


def access_version(*, organization, survey: Survey, public_id: str) -> SurveyVersion:
    version = version_list(organization=organization, survey=survey).filter(public_id=public_id)
    found = version.first()
    if found is None:
        raise Http404
    return found


def working_version(survey: Survey) -> SurveyVersion | None:
    """What the builder edits: the draft when there is one, else the current version."""
    draft = survey.versions.filter(status=VersionStatus.DRAFT).first()
    return draft or survey.current_version


def question_list(*, organization, version: SurveyVersion) -> QuerySet[Question]:
    return Question.objects.filter(organization=organization, version=version).order_by(
        "position", "id"
    )


def access_question(*, organization, public_id: str) -> Question:
    question = (
        Question.objects.filter(organization=organization, public_id=public_id)
        .select_related("version__survey")
        .first()
    )
    if question is None:
        raise Http404
    return question


def response_list(
    *,
    organization,
    survey: Survey | None = None,
    touchpoint=None,
    channel: str | None = None,
    submitted_after: datetime | None = None,
    submitted_before: datetime | None = None,
) -> QuerySet[Response]:
    """Responses with survey, version, touchpoint and answers (with their questions) loaded:
    a page of any size costs the same few queries."""
    responses = (
        Response.objects.filter(organization=organization)
        .select_related("survey", "version", "touchpoint")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.filter(organization=organization)
                .select_related("question")
                .order_by("question__position", "id"),
            )
        )
    )
    if survey is not None:
        responses = responses.filter(survey=survey)
    if touchpoint is not None:
        responses = responses.filter(touchpoint=touchpoint)
    if channel:
        responses = responses.filter(channel=channel)
    if submitted_after is not None:
        responses = responses.filter(submitted_at__gte=submitted_after)
    if submitted_before is not None:
        responses = responses.filter(submitted_at__lt=submitted_before)
    return responses


def response_ids_by_idempotency_key(*, organization, keys) -> dict[str, str]:
    """Public ids of the organization's responses saved with these idempotency keys."""
    found = Response.objects.filter(organization=organization, idempotency_key__in=list(keys))
    return dict(found.values_list("idempotency_key", "public_id"))


def access_response(*, organization, public_id: str) -> Response:
    response = response_list(organization=organization).filter(public_id=public_id).first()
    if response is None:
        raise Http404
    return response


# Respondent pages know a slug or token before they know the tenant: the handle directory
# names the organization and row (core.handles), which is then read within that organization.


def survey_for_link_slug(slug: str) -> Survey | None:
    found = handles.resolve(HandleKind.SURVEY_LINK, slug)
    if found is None:
        return None
    with unscoped():
        return (
            Survey.all_objects.select_related("organization", "current_version")
            .filter(organization_id=found.organization_id, pk=found.object_id)
            .first()
        )


def personal_link_for_token(token: str) -> PersonalLink | None:
    found = handles.resolve(HandleKind.PERSONAL_LINK, token)
    if found is None:
        return None
    with unscoped():
        return (
            PersonalLink.all_objects.select_related(
                "organization", "survey__current_version", "touchpoint"
            )
            .filter(organization_id=found.organization_id, pk=found.object_id)
            .first()
        )


def personal_link_response(link: PersonalLink) -> Response | None:
    return Response.objects.filter(organization_id=link.organization_id, personal_link=link).first()
