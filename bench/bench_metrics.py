"""Metrics: rollups against raw answers, the metrics API at 10,000 and 1,000,000 responses, and
how fast a Celery worker turns queued responses into rollups.

The data comes from `manage.py seed_bench_responses` (set-based SQL, then `rebuild_rollups`).
The first of these benchmarks that needs an organization seeds it, so in a full run
`metrics_api_scaling` seeds both and reports the seeding rows; the others find the data there.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psycopg2

from bench import server
from bench.environment import PROJECT_ROOT, BenchContext, BenchSetupError
from bench.load import measure
from bench.registry import Result, benchmark
from core import queues


@dataclass(frozen=True)
class Sizes:
    large: int  # responses in the big organization
    small: int  # responses in the small organization
    worker: int  # responses queued for the worker in each round
    runs: int  # timed repetitions of each in-process query


FULL = Sizes(large=1_000_000, small=10_000, worker=3_000, runs=50)
QUICK = Sizes(large=5_000, small=1_000, worker=90, runs=3)
LARGE_SLUG = "bench-metrics-large"
SMALL_SLUG = "bench-metrics-small"
WORKER_SLUG = "bench-metrics-worker"
TOUCHPOINTS = 20
DAYS = 365
API_WORKERS = 2
WORKER_QUEUES = ",".join(queues.ALL)


def sizes(context: BenchContext) -> Sizes:
    return QUICK if context.quick else FULL


# --- benchmarks ----------------------------------------------------------------------------------


@benchmark("metrics_rollup_vs_raw", title="NPS of one touchpoint over a year: rollups against raw")
def metrics_rollup_vs_raw(context: BenchContext) -> list[Result]:
    """One organization holds 1,000,000 responses (5,000 with --quick), each with one NPS
    answer, spread evenly over 20 touchpoints (one published NPS survey each) and randomly over
    365 local days, four channels and three languages; seeded by
    `manage.py seed_bench_responses` (`INSERT ... SELECT FROM generate_series`, then
    `VACUUM ANALYZE`) and `manage.py rebuild_rollups` (then `ANALYZE`, as autovacuum would
    soon). For one touchpoint over the year (50,000 responses at full size), in one
    Django process against the bench PostgreSQL (warm caches), the NPS is computed two ways,
    alternately, 50 times each (3 with --quick) after two warm-up calls:
    rollups — `metrics.selectors.metric_series(metric="nps", interval=month)`, the function the
    metrics API calls (it reads the day totals of the year and of the year before, summed per
    month in PostgreSQL, scores every month and the year, and compares with the previous year);
    raw — the honest best query over raw data with the existing indexes: answers to `nps`
    questions joined to responses of that organization and touchpoint within the year's local
    day bounds, grouped by value in PostgreSQL (one row per value 0-10), scored with the same
    function. The totals (n, counts, score) must be equal, or the row counts an error. Times
    include Python (ORM, JSON decoding, scoring), not process start. The notes name the
    indexes in the raw query's plan.
    """
    size = sizes(context)
    results, large = _seed(context, LARGE_SLUG, size.large, report=True)
    figures = _django(
        context,
        ROLLUP_VS_RAW,
        BENCH_SLUG=LARGE_SLUG,
        BENCH_TOUCHPOINT=large["touchpoints"][0],
        BENCH_START=large["start"],
        BENCH_END=large["end"],
        BENCH_RUNS=str(size.runs),
    )
    rollup, raw = figures["rollup"], figures["raw"]
    equal = figures["equal"]
    errors = 0 if equal else 1
    mismatch = "" if equal else f"; MISMATCH: rollups {rollup['total']} vs raw {raw['total']}"
    ratio = raw["p50_ms"] / rollup["p50_ms"] if rollup["p50_ms"] else 0.0
    nps = rollup["total"]["score"]
    answer = f"NPS {nps:.2f} of n={rollup['total']['n']:,}" if nps is not None else "no score"
    results += [
        Result(
            name="metrics_rollup_vs_raw.rollup_p50",
            figure=rollup["p50_ms"],
            unit="ms",
            notes=f"metric_series for 1 touchpoint over a year of {size.large:,} responses; "
            f"{rollup['rows']:,} day totals read (summed per month in SQL; the same days hold "
            f"{rollup['channel_rows']:,} per-channel-and-language rollups); {answer}; "
            f"p95 {rollup['p95_ms']:.1f} ms; "
            f"{size.runs} runs{mismatch}",
            errors=errors,
        ),
        Result(
            name="metrics_rollup_vs_raw.rollup_p95",
            figure=rollup["p95_ms"],
            unit="ms",
            notes=f"the same {size.runs} runs, 95th percentile (nearest rank)",
            errors=errors,
        ),
        Result(
            name="metrics_rollup_vs_raw.raw_p50",
            figure=raw["p50_ms"],
            unit="ms",
            notes=f"answers joined to responses, grouped by value; {raw['total']['n']:,} answers; "
            f"p95 {raw['p95_ms']:.1f} ms; plan uses {', '.join(raw['indexes']) or 'no index'}"
            f"{mismatch}",
            errors=errors,
        ),
        Result(
            name="metrics_rollup_vs_raw.ratio",
            figure=ratio,
            unit="x",
            notes="raw median / rollup median (how many times faster the rollups answer)"
            + ("" if equal else "; the two NPS values differ"),
            errors=errors,
        ),
    ]
    return results


@benchmark("metrics_api_scaling", title="Metrics API time at 10,000 and at 1,000,000 responses")
def metrics_api_scaling(context: BenchContext) -> list[Result]:
    """`GET /api/v1/orgs/<org>/metrics/?metric=nps&touchpoint=<id>&interval=month&start=&end=`
    over the last 365 days, with a read API key, through a real gunicorn (2 sync workers,
    `DEBUG=false`), in two organizations of the same database seeded alike (20 touchpoints,
    365 days, four channels, three languages): one with 10,000 responses, one with 1,000,000
    (1,000 and 5,000 with --quick). One client thread asks one URL at a time (so the time is
    the request's own, not queueing), warmed up and then measured for the fixed load time of the
    run; every response must be 200, and before measuring the API's `total.n` must equal the
    touchpoint's responses counted in SQL. The ratio of the medians, large over small, should
    stay near 1: the API sums day totals (at most one per day and question) per month in
    PostgreSQL, so neither the rows read nor the rows returned grow with the responses. This benchmark seeds both organizations when it runs first and then reports
    how long seeding and `rebuild_rollups` took.
    """
    size = sizes(context)
    results, large = _seed(context, LARGE_SLUG, size.large, report=True)
    _, small = _seed(context, SMALL_SLUG, size.small, report=False)
    organizations = [(small, size.small, "small"), (large, size.large, "large")]
    keys = {info["slug"]: _api_key(context, info["slug"]) for info, _, _ in organizations}
    loads = {}
    with server.running_server(context, workers=API_WORKERS) as running:
        for info, _, label in organizations:
            path = _metrics_path(info)
            headers = {"Authorization": f"Bearer {keys[info['slug']]}"}
            _check_metrics(context, running.port, path, headers, info)
            loads[label] = measure(
                running.port,
                path,
                headers=headers,
                threads=1,
                duration=context.timing.duration,
                warmup=context.timing.warmup,
            )
    for _info, count, label in organizations:
        load = loads[label]
        notes = (
            f"{count:,} responses stored; p95 {load.percentile_ms(0.95):.1f} ms; "
            f"{load.requests:,} requests in {load.elapsed:.1f} s, one at a time"
        )
        if load.error_samples:
            notes += "; errors: " + " | ".join(load.error_samples)
        results.append(
            Result(
                name=f"metrics_api_scaling.{label}_p50",
                figure=load.percentile_ms(0.5),
                unit="ms",
                notes=notes,
                errors=load.errors,
            )
        )
        results.append(
            Result(
                name=f"metrics_api_scaling.{label}_p95",
                figure=load.percentile_ms(0.95),
                unit="ms",
                notes=f"{count:,} responses stored, 95th percentile (nearest rank)",
                errors=load.errors,
            )
        )
    small_p50, large_p50 = loads["small"].percentile_ms(0.5), loads["large"].percentile_ms(0.5)
    results.append(
        Result(
            name="metrics_api_scaling.ratio",
            figure=large_p50 / small_p50 if small_p50 else 0.0,
            unit="x",
            notes=f"median at {size.large:,} / median at {size.small:,} responses "
            f"(p95 ratio {_ratio(loads['large'].percentile_ms(0.95), loads['small'].percentile_ms(0.95)):.2f})",
            errors=loads["small"].errors + loads["large"].errors,
        )
    )
    return results


@benchmark(
    "metrics_worker_throughput",
    title="Responses a worker turns into rollups per second: in batches, and one task per response",
)
def metrics_worker_throughput(context: BenchContext) -> list[Result]:
    """An organization seeded like the others with 10,000 responses over 365 days (1,000 with
    --quick) gets new responses while no worker runs: submitted one by one through
    `surveys.services.responses.response_submit` (one NPS answer each, over its 20 surveys and
    touchpoints, four channels, three languages and the last 30 days), so they wait as the
    application queues them. Then a real Celery worker
    (`celery -A cxplatform worker -Q metrics --concurrency N`, prefork) starts, and the figure is
    the responses divided by the time from the worker's "ready" to the last `processed_at`
    (the same machine's clock; the worker, PostgreSQL and the bench share its cores). Four
    rounds, each with new responses: batched, 3,000 responses (90 with --quick; the
    application's path: the ids wait in a Redis list per organization and one
    `metrics.tasks.process_pending_responses` task drains them, 500 a batch, refreshing each
    touched rollup day once with one aggregate query) with one process and with two; and the
    path before batching as the baseline, 1,000 responses (30 with --quick): one
    `metrics.tasks.process_response` task per response, with Celery closing the database
    connection around every task (`CELERY_DB_REUSE_MAX=0`, as before), with one process and
    with two. An organization's batches are drained by one process at a time, so a second
    process helps when several organizations have work, not within one. After every round the
    rollups must count every response, and after the last they must equal a rebuild from raw
    answers, or the row counts an error. The worker is always stopped.
    """
    size = sizes(context)
    _seed(context, WORKER_SLUG, size.small, report=False)
    slow = size.worker // 3  # the path before batching needs fewer responses for its rate
    rounds = [
        ("batched", 1, size.worker, "batched, 1 process"),
        ("batched", 2, size.worker, "batched, 2 processes"),
        ("per_response", 1, slow, "one task per response, 1 process (before)"),
        ("per_response", 2, slow, "one task per response, 2 processes (before)"),
    ]
    results, rates, stored = [], {}, size.small
    for number, (mode, concurrency, count, label) in enumerate(rounds, start=1):
        since = _database_now(context)
        queued = _django(
            context,
            ENQUEUE,
            BENCH_SLUG=WORKER_SLUG,
            BENCH_COUNT=str(count),
            BENCH_MODE=mode,
            BENCH_SEED=str(number),
            CELERY_TASK_ALWAYS_EAGER="false",
        )
        reuse = {} if mode == "batched" else {"CELERY_DB_REUSE_MAX": "0"}
        with _running_worker(context, concurrency=concurrency, queues="metrics", **reuse) as ready:
            progress = _wait_until_processed(context, WORKER_SLUG, count, since)
        counted = progress["rollup_n"] - stored
        stored += count
        errors = 0 if counted == count and progress["processed"] == count else 1
        span = progress["last_processed"] - ready
        rates[(mode, concurrency)] = rate = progress["processed"] / span if span > 0 else 0.0
        notes = (
            f"{label}: {count:,} queued responses (submitted in {queued['seconds']:.1f} s, "
            f"{queued['days']} days x {queued['surveys']} surveys) processed {span:.1f} s after "
            f"the worker was ready; rollups count {counted:,} new answers"
        )
        if progress["timed_out"]:
            notes += f"; gave up with {count - progress['processed']:,} unprocessed"
        name = f"{mode}_{concurrency}_process" + ("es" if concurrency > 1 else "")
        results.append(
            Result(
                name=f"metrics_worker_throughput.{name}",
                figure=rate,
                unit="responses/s",
                notes=notes,
                errors=errors,
            )
        )
    rebuilt = _django(context, REBUILD_EQUALS, BENCH_SLUG=WORKER_SLUG)
    baseline = rates[("per_response", 2)]
    results.append(
        Result(
            name="metrics_worker_throughput.ratio",
            figure=rates[("batched", 2)] / baseline if baseline else 0.0,
            unit="x",
            notes="batched with 2 processes / one task per response with 2 processes; the "
            f"rollups of {rebuilt['responses']:,} responses "
            + ("equal a rebuild from raw answers" if rebuilt["equal"] else "DIFFER from a rebuild"),
            errors=0 if rebuilt["equal"] else 1,
        )
    )
    return results


# --- seeding -------------------------------------------------------------------------------------


def _seed(
    context: BenchContext, slug: str, responses: int, *, report: bool
) -> tuple[list[Result], dict]:
    """Seed `slug` unless it exists; rebuild its rollups when seeded. Rows only when seeded."""
    info = json.loads(
        context.manage(
            "seed_bench_responses",
            slug,
            "--responses",
            str(responses),
            "--touchpoints",
            str(TOUCHPOINTS),
            "--days",
            str(DAYS),
            timeout=1800,
        )
        .strip()
        .splitlines()[-1]
    )
    if not info["seeded"]:
        return [], info
    started = time.monotonic()
    context.manage("rebuild_rollups", "--org", slug, timeout=1800)
    rebuilt = time.monotonic() - started
    with _database(context) as cursor:
        cursor.execute("ANALYZE metrics_dailyrollup")  # as autovacuum would, soon after
    if not report:
        return [], info
    return [
        Result(
            name="metrics.seed_responses",
            figure=responses / info["seconds"],
            unit="responses/s",
            notes=f"{responses:,} responses with one answer each seeded in {info['seconds']:.0f} s "
            "(seed_bench_responses: generate_series, VACUUM ANALYZE)",
        ),
        Result(
            name="metrics.rebuild_rollups",
            figure=rebuilt,
            unit="s",
            notes=f"manage.py rebuild_rollups over {responses:,} responses (process start included)",
        ),
    ], info


def _api_key(context: BenchContext, slug: str) -> str:
    output = context.manage("create_api_key", "--org", slug, "--name", "bench", "--scope", "read")
    return output.strip().splitlines()[-1].strip()


def _django(context: BenchContext, script: str, **environ: str) -> dict:
    """Run `script` with `manage.py shell -c` against the bench database; its last line is JSON."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=PROJECT_ROOT,
        env=context.environ(**environ),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchSetupError(
            f"manage.py shell failed ({completed.returncode}):\n"
            f"{completed.stderr.strip()[-2000:] or completed.stdout.strip()[-2000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the API -------------------------------------------------------------------------------------


def _metrics_path(info: dict) -> str:
    query = urlencode(
        {
            "metric": "nps",
            "touchpoint": info["touchpoints"][0],
            "interval": "month",
            "start": info["start"],
            "end": info["end"],
        }
    )
    return f"/api/v1/orgs/{info['slug']}/metrics/?{query}"


def _check_metrics(
    context: BenchContext, port: int, path: str, headers: dict[str, str], info: dict
) -> None:
    """Fail before measuring unless the API counts exactly the touchpoint's stored responses."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise BenchSetupError(f"GET {path} answered {response.status}: {body[:300]!r}")
    counted = json.loads(body)["total"]["n"]
    with _database(context) as cursor:
        cursor.execute(
            "SELECT count(*) FROM surveys_response AS r "
            "JOIN journeys_touchpoint AS t ON t.id = r.touchpoint_id WHERE t.public_id = %s",
            [info["touchpoints"][0]],
        )
        stored = cursor.fetchone()[0]
    if counted != stored:
        raise BenchSetupError(f"GET {path} counted n={counted}, the database holds {stored}.")


# --- the worker ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _running_worker(
    context: BenchContext,
    *,
    timeout: float = 60,
    concurrency: int | None = None,
    queues: str = WORKER_QUEUES,
    **environ: str,
):
    """A Celery worker on `queues` (solo pool, or prefork with `concurrency` processes), stopped
    whatever happens; yields the wall-clock time it said it was ready."""
    pool = ["--pool", "solo"] if concurrency is None else ["--concurrency", str(concurrency)]
    with tempfile.TemporaryDirectory(prefix="cxp-bench-worker-") as scratch:
        log_path = Path(scratch) / "worker.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "cxplatform",
                    "worker",
                    *pool,
                    "-Q",
                    queues,
                    "--loglevel",
                    "info",
                    "--without-mingle",
                    "--without-gossip",
                    "--hostname",
                    f"bench-{process_tag()}@%h",
                ],
                cwd=PROJECT_ROOT,
                env=context.environ(CELERY_TASK_ALWAYS_EAGER="false", **environ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server.started_groups.add(process.pid)
        try:
            deadline = time.monotonic() + timeout
            while b" ready." not in log_path.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BenchSetupError(f"the Celery worker did not start:\n{_tail(log_path)}")
                time.sleep(0.05)
            yield time.time()
        finally:
            server.stop(process)


def process_tag() -> str:
    return f"{time.time_ns() % 10**9}"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _database_now(context: BenchContext):
    with _database(context) as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def _wait_until_processed(context: BenchContext, slug: str, expected: int, since) -> dict:
    """Poll until `expected` responses of `slug` made after `since` are processed."""
    deadline = time.monotonic() + 120 + expected * 0.2
    query = (
        "SELECT count(*), count(r.processed_at), "
        "extract(epoch FROM min(r.created_at)), extract(epoch FROM min(r.processed_at)), "
        "extract(epoch FROM max(r.processed_at)) "
        "FROM surveys_response AS r JOIN tenancy_organization AS o ON o.id = r.organization_id "
        "WHERE o.slug = %s AND r.created_at >= %s"
    )
    with _database(context) as cursor:
        while True:
            cursor.execute(query, [slug, since])
            total, processed, first_created, first_processed, last_processed = cursor.fetchone()
            timed_out = time.monotonic() > deadline
            if (total >= expected and processed == total) or timed_out:
                break
            time.sleep(0.2)
        cursor.execute(
            "SELECT coalesce(sum(d.n), 0) FROM metrics_dailyrollup AS d "
            "JOIN tenancy_organization AS o ON o.id = d.organization_id WHERE o.slug = %s",
            [slug],
        )
        rollup_n = int(cursor.fetchone()[0])
    return {
        "processed": processed,
        "first_created": float(first_created or 0),
        "first_processed": float(first_processed or 0),
        "last_processed": float(last_processed or 0),
        "rollup_n": rollup_n,
        "timed_out": timed_out,
    }


@contextlib.contextmanager
def _database(context: BenchContext):
    connection = psycopg2.connect(context.database_url, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


# --- code run inside Django (`manage.py shell -c`) -----------------------------------------------

ROLLUP_VS_RAW = """
import json, math, os, time
from datetime import date

from django.db.models import Count

from core.scoping import tenant_scope
from journeys.models import Touchpoint
from metrics.models import DailyRollup, DailyTotal
from metrics.periods import Interval, previous_range
from metrics.rollups import day_bounds
from metrics.selectors import MetricFilters, metric_series, score_histogram
from surveys.models import Answer
from tenancy.models import Organization

organization = Organization.objects.get(slug=os.environ["BENCH_SLUG"])
start = date.fromisoformat(os.environ["BENCH_START"])
end = date.fromisoformat(os.environ["BENCH_END"])
runs = int(os.environ["BENCH_RUNS"])


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000


def indexes(plan):
    found = set()
    def walk(node):
        if "Index Name" in node:
            found.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)
    walk(json.loads(plan)[0]["Plan"])
    return sorted(found)


with tenant_scope(organization):
    touchpoint = Touchpoint.objects.get(public_id=os.environ["BENCH_TOUCHPOINT"])
    low = day_bounds(start, organization.time_zone)[0]
    high = day_bounds(end, organization.time_zone)[1]
    raw_query = (
        Answer.objects.filter(
            question__metric="nps",
            value_int__isnull=False,
            response__organization=organization,
            response__touchpoint=touchpoint,
            response__submitted_at__gte=low,
            response__submitted_at__lt=high,
        )
        .values_list("value_int")
        .annotate(count=Count("pk"))
        .order_by()
    )

    def from_rollups():
        return metric_series(
            organization=organization,
            metric="nps",
            start=start,
            end=end,
            interval=Interval.MONTH,
            filters=MetricFilters(touchpoint_ids=(touchpoint.pk,)),
        )["total"]

    def from_raw():
        score = score_histogram("nps", dict(raw_query.all())).to_dict()
        score.pop("metric")
        score.pop("se")
        return score

    timings = {"rollup": [], "raw": []}
    for _ in range(2):
        rollup_total, raw_total = from_rollups(), from_raw()
    for run in range(runs):
        order = [("rollup", from_rollups), ("raw", from_raw)]
        for name, function in order if run % 2 == 0 else order[::-1]:
            began = time.perf_counter()
            function()
            timings[name].append(time.perf_counter() - began)
    previous_start, _ = previous_range(start, end)
    rollup_rows = DailyTotal.objects.filter(
        metric="nps", touchpoint=touchpoint, day__gte=previous_start, day__lte=end
    ).count()
    channel_rows = DailyRollup.objects.filter(
        metric="nps", touchpoint=touchpoint, day__gte=previous_start, day__lte=end
    ).count()
    equal = (
        rollup_total["n"] == raw_total["n"]
        and rollup_total["counts"] == raw_total["counts"]
        and rollup_total["score"] == raw_total["score"]
        and rollup_total["n"] > 0
    )
    print(json.dumps({
        "equal": equal,
        "rollup": {
            "p50_ms": percentile(timings["rollup"], 0.5),
            "p95_ms": percentile(timings["rollup"], 0.95),
            "rows": rollup_rows,
            "channel_rows": channel_rows,
            "total": {k: rollup_total[k] for k in ("n", "score", "counts")},
        },
        "raw": {
            "p50_ms": percentile(timings["raw"], 0.5),
            "p95_ms": percentile(timings["raw"], 0.95),
            "indexes": indexes(raw_query.explain(format="json")),
            "total": {k: raw_total[k] for k in ("n", "score", "counts")},
        },
    }))
"""

ENQUEUE = """
import json, os, random, time
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from core.scoping import tenant_scope
from metrics.tasks import process_response
from surveys.models import Survey
from surveys.services.responses import response_submit
from tenancy.models import Organization

DAYS = 30
organization = Organization.objects.get(slug=os.environ["BENCH_SLUG"])
count = int(os.environ["BENCH_COUNT"])
chooser = random.Random(int(os.environ["BENCH_SEED"]))
now = timezone.now()
ids = []
with tenant_scope(organization):
    surveys = list(Survey.objects.select_related("touchpoint", "current_version").order_by("pk"))
    began = time.perf_counter()
    for number in range(count):
        ids.append(response_submit(
            organization=organization,
            survey=surveys[number % len(surveys)],
            answers={"score": chooser.choice([0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10])},
            channel=chooser.choice(["web", "email", "sms", "qr"]),
            language=chooser.choice(["fi", "fi", "sv", "en"]),
            submitted_at=now - timedelta(seconds=chooser.randrange(DAYS * 86400)),
        ).pk)
    seconds = time.perf_counter() - began
if os.environ["BENCH_MODE"] == "per_response":
    # The path before batching: drop what the application queued (the ids' Redis list, its flag
    # and the drain task, which waits in the broker's list named after the queue) and send one
    # task per response instead.
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("metrics", *client.keys("metrics:*"))
    for pk in ids:
        process_response.apply_async(kwargs={"organization_id": organization.pk, "response_id": pk})
print(json.dumps({"seconds": seconds, "days": DAYS, "surveys": len(surveys)}))
"""

REBUILD_EQUALS = """
import json, os

from core.scoping import tenant_scope
from metrics.models import DailyRollup, DailyTotal
from metrics.rollups import rollups_rebuild
from surveys.models import Response
from tenancy.models import Organization

organization = Organization.objects.get(slug=os.environ["BENCH_SLUG"])


def rows():
    identity = ("survey_id", "question_key", "touchpoint_id", "day", "n", "counts")
    return (
        sorted(map(repr, DailyRollup.objects.values_list("channel", "language", *identity))),
        sorted(map(repr, DailyTotal.objects.values_list(*identity))),
    )


with tenant_scope(organization):
    incremental = rows()
    rollups_rebuild(organization=organization)
    print(json.dumps({"equal": rows() == incremental, "responses": Response.objects.count()}))
"""
