"""Prometheus metrics of the platform, and the readiness check's view of the processes.

`/metrics` answers only when METRICS_TOKEN is set, to a scraper that sends it as a bearer
token; everyone else gets 404, as for a page that does not exist. Counters come from
core.monitoring (kept in Redis, so every process on every machine adds to the same ones);
gauges are read at each scrape.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from core import monitoring
from core.outbox import outbox_backlog
from core.scoping import unscoped
from surveys.models import Response


def oldest_unprocessed_age() -> float | None:
    """Seconds since the oldest response not yet in the rollups arrived (partial index)."""
    with unscoped():
        oldest = (
            Response.all_objects.filter(processed_at__isnull=True)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
    return (timezone.now() - oldest).total_seconds() if oldest else None


class PlatformCollector(Collector):
    """Read at every scrape."""

    def collect(self):
        client = monitoring.redis_client()
        depth = GaugeMetricFamily(
            "cxp_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        if client is not None:
            for queue in monitoring.QUEUES:
                depth.add_metric([queue], client.llen(queue))
        yield depth
        size, oldest = outbox_backlog()
        yield GaugeMetricFamily("cxp_outbox_messages", "Tasks waiting in the outbox.", value=size)
        yield GaugeMetricFamily(
            "cxp_outbox_oldest_age_seconds",
            "Age of the oldest task in the outbox (0 when empty).",
            value=oldest or 0,
        )
        yield GaugeMetricFamily(
            "cxp_oldest_unprocessed_response_age_seconds",
            "Age of the oldest response not yet in the rollups (0 when none).",
            value=oldest_unprocessed_age() or 0,
        )
        heartbeat = monitoring.worker_heartbeat_age()
        yield GaugeMetricFamily(
            "cxp_worker_heartbeat_age_seconds",
            "Seconds since a Celery worker last reported (-1 when never).",
            value=-1 if heartbeat is None else heartbeat,
        )
        for counter, description in monitoring.COUNTERS.items():
            family = CounterMetricFamily(
                f"cxp_{counter}", description, labels=[monitoring.LABELS[counter]]
            )
            values = client.hgetall(f"monitoring:{counter}") if client is not None else {}
            for label, value in sorted(values.items()):
                family.add_metric([label.decode()], int(value))
            yield family


_registry = CollectorRegistry(auto_describe=False)
_registry.register(PlatformCollector())


@never_cache
def metrics(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise Http404
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
