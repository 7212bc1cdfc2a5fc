"""Writes of outgoing webhooks: emitting events, managing endpoints, replaying deliveries.

`event_emit` is called by the services of other apps inside the transaction of their change, so
an event exists exactly when the change committed. It costs nothing but a cache read when no
active endpoint of the organization subscribes to the event's type (the response submit is the
hot path). Endpoint writes are audited and refresh that cache after commit.
"""

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError, ConflictError
from core.safe_http import validate_public_url
from core.services import Actor, activity_record
from webhooks import signing
from webhooks.enums import DeliveryStatus, EventType
from webhooks.models import EventFeed, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

SUBSCRIBED_CACHE_KEY = "webhooks:subscribed:{}"
SUBSCRIBED_CACHE_SECONDS = 24 * 3600
# Contact fields that stay out of a payload unless the endpoint includes contact details.
CONTACT_DETAIL_FIELDS = ("email", "phone")
ROTATION_OVERLAP = timedelta(hours=24)
EVENT_TYPES = frozenset(EventType.values)

EventData = dict[str, Any] | Callable[[], dict[str, Any]]


# --- which types have subscribers ------------------------------------------------------------


def _feed_enabled(organization_id: int) -> bool:
    return EventFeed.all_objects.filter(organization_id=organization_id, enabled=True).exists()


def _subscribed_in_database(organization_id: int) -> list[str]:
    if _feed_enabled(organization_id):
        return sorted(EVENT_TYPES)
    events = WebhookEndpoint.all_objects.filter(
        organization_id=organization_id, active=True
    ).values_list("events", flat=True)
    return sorted({kind for kinds in events for kind in kinds})


def subscribed_types(organization_id: int) -> frozenset[str]:
    """The event types some active endpoint of the organization subscribes to (every type while
    the events feed is on).

    Read from the cache (refreshed after every endpoint change); on a miss, or while Redis is
    down, from one indexed query. A miss stores with `add`, so a reader that read the database
    before an endpoint change committed cannot overwrite the fresh value written after it."""
    key = SUBSCRIBED_CACHE_KEY.format(organization_id)
    try:
        cached = cache.get(key)
    except Exception:  # Redis errors vary; an event is never lost to the cache
        logger.warning("webhooks: cache unreadable; asking the database", exc_info=True)
        cached = None
    if cached is not None:
        return frozenset(cached)
    found = _subscribed_in_database(organization_id)
    try:
        cache.add(key, found, SUBSCRIBED_CACHE_SECONDS)
    except Exception:
        logger.warning("webhooks: cache unwritable", exc_info=True)
    return frozenset(found)


def _refresh_subscribed_after_commit(organization_id: int) -> None:
    def refresh() -> None:
        try:
            cache.set(
                SUBSCRIBED_CACHE_KEY.format(organization_id),
                _subscribed_in_database(organization_id),
                SUBSCRIBED_CACHE_SECONDS,
            )
        except Exception:
            # A stale "nobody listens" would lose events: forget the value if it can't be set.
            logger.error("webhooks: could not refresh the subscription cache", exc_info=True)
            try:
                cache.delete(SUBSCRIBED_CACHE_KEY.format(organization_id))
            except Exception:
                logger.error("webhooks: could not clear the subscription cache", exc_info=True)

    transaction.on_commit(refresh)


# --- emitting --------------------------------------------------------------------------------


def _subscribers(organization_id: int, type: str) -> list[tuple[int, bool]]:
    """(id, include_contact_details) of the active endpoints subscribed to `type`.

    On PostgreSQL the rows are locked FOR KEY SHARE until commit: an endpoint deleted meanwhile
    waits for this transaction (whose deliveries then cascade with it) instead of failing the
    change that emitted the event at commit."""
    table = WebhookEndpoint._meta.db_table
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, events, include_contact_details FROM {table} "  # noqa: S608
            f"WHERE organization_id = %s AND active{lock}",
            [organization_id],
        )
        rows = cursor.fetchall()
    found = []
    for pk, events, include_contact in rows:
        if isinstance(events, str | bytes):
            events = json.loads(events)
        if type in events:
            found.append((pk, bool(include_contact)))
    return found


def _split_contact_details(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    contact = data.get("contact")
    if not isinstance(contact, dict):
        return data, None
    details = {name: contact[name] for name in CONTACT_DETAIL_FIELDS if name in contact}
    kept = {name: value for name, value in contact.items() if name not in CONTACT_DETAIL_FIELDS}
    return {**data, "contact": kept}, details or None


def event_emit(*, organization: Any, type: str, data: EventData) -> WebhookEvent | None:
    """Record an event and one pending delivery per active endpoint subscribed to `type`, in
    the caller's transaction; the deliveries are published to the sender after commit (and
    found by the sweep if that publish is lost).

    `organization` is an Organization or its id. `data` is the event's `data` object (public
    ids, never integer keys) or a function returning it, called only when someone subscribes.
    A `contact` object in it may carry `email` and `phone`: they are kept (apart from the
    payload) only for endpoints that include contact details. Returns the event, or None when
    nobody subscribes: then nothing is read or written but the subscription cache.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    organization_id = getattr(organization, "pk", organization)
    if type not in subscribed_types(organization_id):
        return None
    with transaction.atomic():
        subscribers = _subscribers(organization_id, type)
        if not subscribers and not _feed_enabled(organization_id):
            return None
        payload, details = _split_contact_details(data() if callable(data) else data)
        wants_details = any(include for _pk, include in subscribers)
        now = timezone.now()
        event = WebhookEvent.all_objects.create(
            organization_id=organization_id,
            type=type,
            payload=payload,
            contact_details=details if wants_details else None,
            created_at=now,
        )
        deliveries = WebhookDelivery.all_objects.bulk_create(
            [
                WebhookDelivery(
                    organization_id=organization_id,
                    event=event,
                    endpoint_id=endpoint_id,
                    next_attempt_at=now,
                    created_at=now,
                )
                for endpoint_id, _include in subscribers
            ]
        )
        if deliveries:
            _publish_after_commit(organization_id, [delivery.pk for delivery in deliveries])
    return event


# --- the events feed ---------------------------------------------------------------------------


def event_feed_get(*, organization) -> bool:
    """Whether the organization keeps an events feed (every event, for 30 days)."""
    return _feed_enabled(organization.pk)


@transaction.atomic
def event_feed_set(*, actor: Actor, organization, enabled: bool) -> None:
    """Switch the events feed on or off; events from now on are recorded (or not) for it.
    Events already recorded stay until their 30 days are over."""
    feed, _created = EventFeed.all_objects.select_for_update().get_or_create(
        organization=organization
    )
    if feed.enabled == enabled:
        return
    feed.enabled = enabled
    feed.save(update_fields=["enabled", "updated_at"])
    activity_record(
        actor=actor,
        organization=organization,
        action="webhooks.feed.enabled" if enabled else "webhooks.feed.disabled",
        target=feed,
    )
    _refresh_subscribed_after_commit(organization.pk)


def _publish_after_commit(organization_id: int, delivery_ids: list[int]) -> None:
    def publish() -> None:
        from webhooks.tasks import deliver  # tasks import this module

        for delivery_id in delivery_ids:
            try:
                deliver.apply_async(
                    kwargs={"organization_id": organization_id, "delivery_id": delivery_id}
                )
            except Exception:  # the broker's errors vary; the sweep sends what is due
                logger.warning("webhooks: could not publish delivery %s", delivery_id)
                return

    transaction.on_commit(publish)


# --- endpoints -------------------------------------------------------------------------------


def _clean_url(url: str) -> str:
    try:
        return validate_public_url(url)
    except ValidationError as error:
        raise ApplicationError(
            error.messages[0], code="invalid_url", extra={"field": "url"}
        ) from None


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ApplicationError(
            _("Choose at least one event."), code="invalid_events", extra={"field": "events"}
        )
    unknown = [str(kind) for kind in events if kind not in EVENT_TYPES]
    if unknown:
        raise ApplicationError(
            _("Unknown events: %(events)s") % {"events": ", ".join(unknown)},
            code="invalid_events",
            extra={"field": "events"},
        )
    return [kind for kind in EventType.values if kind in events]


@transaction.atomic
def endpoint_create(
    *,
    actor: Actor,
    organization,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
    include_contact_details: bool = False,
) -> WebhookEndpoint:
    """Add an endpoint with a new secret (readable on the returned object; show it once).
    Raises ApplicationError `invalid_url` (private, internal or non-https addresses) or
    `invalid_events`."""
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=_clean_url(url),
        events=_clean_events(events),
        description=(description or "").strip()[:200],
        active=active,
        include_contact_details=include_contact_details,
        secret=signing.new_secret(),
        created_by=getattr(actor, "user", None),
    )
    activity_record(
        organization=organization,
        actor=actor,
        action="webhooks.endpoint.created",
        target=endpoint,
        data={"events": endpoint.events},
    )
    _refresh_subscribed_after_commit(organization.pk)
    return endpoint


UPDATABLE = ("url", "events", "description", "active", "include_contact_details")


@transaction.atomic
def endpoint_update(*, actor: Actor, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change the fields given. Turning a disabled endpoint on again clears why it was
    disabled and its failure clock. Raises like `endpoint_create`."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    endpoint = WebhookEndpoint.objects.select_for_update().get(
        organization_id=endpoint.organization_id, pk=endpoint.pk
    )
    if "url" in changes:
        changes["url"] = _clean_url(changes["url"])
    if "events" in changes:
        changes["events"] = _clean_events(changes["events"])
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()[:200]
    if changes.get("active") and not endpoint.active:
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.disabled_notified_at = endpoint.failing_since = None
    if changes.get("active") is False and endpoint.active:
        endpoint.disabled_at, endpoint.disabled_reason = (
            timezone.now(),
            _("Turned off by a member."),
        )
    changed = [name for name, value in changes.items() if getattr(endpoint, name) != value]
    for name in changed:
        setattr(endpoint, name, changes[name])
    endpoint.save()
    activity_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhooks.endpoint.updated",
        target=endpoint,
        data={"fields": changed},
    )
    _refresh_subscribed_after_commit(endpoint.organization_id)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new secret; for `ROTATION_OVERLAP` messages carry the signatures of
    both, so the receiver can switch without losing a message."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(
        organization_id=endpoint.organization_id, pk=endpoint.pk
    )
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = signing.new_secret()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    activity_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhooks.endpoint.secret_rotated",
        target=endpoint,
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their log. The row is locked first, so
    events being emitted for it (which hold a key-share lock) commit their deliveries before
    the delete collects them."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(
        organization_id=endpoint.organization_id, pk=endpoint.pk
    )
    activity_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhooks.endpoint.deleted",
        target=endpoint,
        data={"url_host": endpoint.url.split("/")[2] if "//" in endpoint.url else ""},
    )
    organization_id = endpoint.organization_id
    endpoint.delete()
    _refresh_subscribed_after_commit(organization_id)


# --- replay ----------------------------------------------------------------------------------


def _check_replayable(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        raise ConflictError(
            _("The endpoint is turned off. Turn it on before replaying deliveries."),
            code="endpoint_inactive",
        )


def _due_now() -> dict[str, Any]:
    return {
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": timezone.now(),
        "claimed_until": None,
    }


@transaction.atomic
def delivery_replay(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send one delivery again: new attempts with the same event id (receivers de-duplicate on
    it). Raises ApplicationError `endpoint_inactive` (409)."""
    _check_replayable(delivery.endpoint)
    WebhookDelivery.objects.filter(organization_id=delivery.organization_id, pk=delivery.pk).update(
        **_due_now()
    )
    activity_record(
        organization=delivery.endpoint.organization,
        actor=actor,
        action="webhooks.delivery.replayed",
        target=delivery,
    )
    _publish_after_commit(delivery.organization_id, [delivery.pk])
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def endpoint_replay(*, actor: Actor, endpoint: WebhookEndpoint, since: datetime) -> int:
    """Send again every delivery of the endpoint whose event happened at or after `since`
    (events are kept 30 days); returns how many. The sweep sends them within seconds."""
    _check_replayable(endpoint)
    count = WebhookDelivery.objects.filter(
        organization_id=endpoint.organization_id, endpoint=endpoint, created_at__gte=since
    ).update(**_due_now())
    activity_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhooks.endpoint.replayed",
        target=endpoint,
        data={"since": since.isoformat(), "deliveries": count},
    )
    if count:
        from webhooks.tasks import send_due_deliveries  # tasks import this module

        organization_id = endpoint.organization_id
        transaction.on_commit(
            lambda: _publish_quietly(send_due_deliveries, {"organization_id": organization_id})
        )
    return count


def _publish_quietly(task, kwargs: dict) -> None:
    try:
        task.apply_async(kwargs=kwargs)
    except Exception:  # the sweep comes within seconds
        logger.warning("webhooks: could not publish %s", task.name)
