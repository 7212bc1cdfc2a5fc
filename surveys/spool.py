"""Respondents keep answering while PostgreSQL is down: pages from cache, answers to Redis.

A published survey version never changes, so what its page needs (the survey with its
organization and current version, the questions, a personal link) is kept in the cache each
time the page is served. While the database cannot be reached the page is served from that copy,
and a submission the form has validated is spooled: appended to a Redis list with its
idempotency key (`web:<submission id>`, or the personal link, which takes one response). The
respondent sees the usual thank-you page. `drain_response_spool` (beat, every few seconds)
stores spooled answers once the database is back: through `response_submit`, whose key makes a
second store of the same answer a no-op, so a drain that dies half-way and runs again, or two
drains at once, store nothing twice. An answer the database refuses when drained (the survey
closed meanwhile) moves to a list of its own for the operator and is logged.
"""

import copy
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from core.exceptions import ApplicationError
from core.queueing import redis_client

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 7 * 24 * 3600
SPOOL_KEY = "surveys:spool"
REFUSED_KEY = "surveys:spool:refused"
DRAIN_BATCH = 200
# The database errors that mean "unreachable", not "this statement is wrong".
UNREACHABLE = (OperationalError, InterfaceError)
# Moves a refused answer from the spool to the refused list in one step, only while it is still
# in the spool: a second drain at the same moment (two schedulers) sets nothing aside again.
SET_ASIDE = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  return redis.call('RPUSH', KEYS[2], ARGV[1])
end
return 0
"""


@dataclass
class PageSnapshot:
    """A survey's page as model instances (pickled in the cache): the survey with its
    organization and current version, and the questions of that version."""

    survey: Any
    questions: list


def _key(kind: str, value: object) -> str:
    return f"surveys:page:{kind}:{value}"


def page_keep(*, survey, questions: list, link=None) -> None:
    """Keep the page's copy, shared by the survey's links (a personal link keeps only itself
    beside it). A cache that is down is no reason to fail the page."""
    entries = {
        _key("survey", survey.pk): PageSnapshot(survey=survey, questions=questions),
        _key("slug", survey.link_slug): survey.pk,
    }
    if link is not None:
        bare = copy.copy(link)
        bare._state = copy.copy(link._state)
        bare._state.fields_cache = {}  # the survey lives once, under its own key
        entries[_key("token", link.token)] = bare
    try:
        cache.set_many(entries, SNAPSHOT_SECONDS)
    except Exception:  # the cache backend's errors vary; the page works without the copy
        logger.warning("could not keep the page of %s", survey.public_id, exc_info=True)


def page_read(kind: str, value: str) -> tuple[Any, Any, list] | None:
    """(survey, personal link or None, questions) kept for a "slug" or a "token", or None."""
    try:
        link = cache.get(_key("token", value)) if kind == "token" else None
        survey_id = link.survey_id if link is not None else cache.get(_key("slug", value))
        snapshot = cache.get(_key("survey", survey_id)) if survey_id is not None else None
    except Exception:
        logger.warning("cache unavailable: no copy of the page of %s", value, exc_info=True)
        return None
    if snapshot is None or (kind == "token" and link is None):
        return None
    if link is not None:
        link.survey = snapshot.survey
    return snapshot.survey, link, snapshot.questions


def spool_push(
    *,
    survey,
    link,
    answers: dict[str, Any],
    language: str,
    channel: str,
    hidden_fields: dict | None,
    idempotency_key: str | None,
    ip: str | None,
    user_agent: str,
) -> bool:
    """Append a validated submission; False when Redis cannot take it either."""
    item = {
        "organization_id": survey.organization_id,
        "survey_id": survey.pk,
        "link_id": link.pk if link is not None else None,
        "answers": answers,
        "language": language,
        "channel": channel,
        "hidden_fields": hidden_fields or {},
        "idempotency_key": idempotency_key,
        "ip": ip,
        "user_agent": user_agent,
        "submitted_at": timezone.now().isoformat(),
    }
    try:
        redis_client().rpush(SPOOL_KEY, json.dumps(item))
    except redis.RedisError:
        logger.error("database and Redis down: answer to %s not spooled", survey.public_id)
        return False
    logger.warning("database unreachable: answer to %s spooled", survey.public_id)
    return True


def spool_drain(*, limit: int = DRAIN_BATCH) -> int:
    """Store up to `limit` spooled answers, oldest first; return how many were handled.

    An item leaves the list only after it was stored (or refused for good), so a drain that
    dies leaves it for the next one.
    """
    client = redis_client()
    handled = 0
    for raw in client.lrange(SPOOL_KEY, 0, limit - 1):
        try:
            _store(json.loads(raw))
        except UNREACHABLE:
            logger.warning("database still unreachable; %s answers wait", client.llen(SPOOL_KEY))
            break
        except (ApplicationError, DatabaseError, ValueError, KeyError) as error:
            if client.eval(SET_ASIDE, 2, SPOOL_KEY, REFUSED_KEY, raw):
                logger.error("spooled answer refused (%s); kept in %s", error, REFUSED_KEY)
        else:
            client.lrem(SPOOL_KEY, 1, raw)
        handled += 1
    return handled


def _store(item: dict[str, Any]) -> None:
    from surveys.models import PersonalLink, Survey
    from surveys.services.responses import response_submit
    from tenancy.models import Organization
    from tenancy.scoping import tenant_scope

    organization = Organization.objects.get(pk=item["organization_id"])
    with tenant_scope(organization):
        survey = Survey.objects.get(organization=organization, pk=item["survey_id"])
        link = None
        if item["link_id"] is not None:
            link = PersonalLink.objects.get(organization=organization, pk=item["link_id"])
        response_submit(
            organization=organization,
            survey=survey,
            answers=item["answers"],
            channel=item["channel"],
            language=item["language"],
            personal_link=link,
            hidden_fields=item["hidden_fields"],
            submitted_at=datetime.fromisoformat(item["submitted_at"]),
            idempotency_key=item["idempotency_key"],
            ip=item["ip"],
            user_agent=item["user_agent"],
        )
