"""Dashboards and result pages at 10,000 and at 1,000,000 stored responses.

One organization is seeded with `manage.py seed_bench_responses` (the metrics benchmarks' seed),
given measurement plans, key touchpoints and comments, measured, grown to a million responses
with the same set-based SQL and measured again: the ratio compares the same pages of the same
organization. Pages are asked for through a real gunicorn with a signed-in owner's session.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from bench import server
from bench.bench_metrics import _database, _django, _seed
from bench.environment import BenchContext, BenchSetupError
from bench.load import LoadResult, measure
from bench.registry import Result, benchmark


@dataclass(frozen=True)
class Sizes:
    small: int  # responses stored at the first measurement
    large: int  # responses stored at the second
    requests: int  # measured requests per page and size
    warmup: int  # requests per page before measuring, discarded
    cap: float  # seconds at most per page and size (a page far too slow ends early)


FULL = Sizes(small=10_000, large=1_000_000, requests=60, warmup=5, cap=240.0)
QUICK = Sizes(small=1_000, large=5_000, requests=5, warmup=1, cap=60.0)
SLUG = "bench-dashboards"
TOUCHPOINTS = 20
DAYS = 365
KEY_TOUCHPOINTS = 5
NPS_TARGET = 30
COMMENT_SHARE = 0.125  # one response in eight leaves a comment
GUNICORN_WORKERS = 2
GOAL_P95_MS = 300.0
GOAL_RATIO = 1.2


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    goal: bool  # the goal lines apply: p95 <= 300 ms at the large size, ratio <= 1.2

    def path(self, ids: dict) -> str:
        slug = ids["slug"]
        reports = f"/o/{slug}/reports"
        return {
            "overview": f"/o/{slug}/",
            "touchpoint": f"{reports}/touchpoints/{ids['touchpoint']}/",
            "touchpoint_12m": f"{reports}/touchpoints/{ids['touchpoint']}/?"
            + urlencode({"range": "12m", "period": "week"}),
            "journey": f"{reports}/journeys/{ids['journey']}/",
            "ranking": f"{reports}/ranking/",
            "survey_list": f"/o/{slug}/surveys/",
            "survey_results": f"{reports}/surveys/{ids['survey']}/",
            "responses": f"{reports}/surveys/{ids['survey']}/responses/",
        }[self.key]


PAGES = [
    Page("overview", "organization overview (default: last 90 days)", goal=True),
    Page("touchpoint", "touchpoint dashboard (default: last 90 days)", goal=True),
    Page("touchpoint_12m", "touchpoint dashboard, last 12 months by week", goal=False),
    Page("journey", "journey heatmap (default: last 90 days)", goal=False),
    Page("ranking", "touchpoint ranking by NPS (default: last 90 days)", goal=False),
    Page("survey_list", "survey list", goal=False),
    Page("survey_results", "survey results (default: last 90 days)", goal=False),
    Page("responses", "responses list, first page of 50", goal=False),
]


def sizes(context: BenchContext) -> Sizes:
    return QUICK if context.quick else FULL


@benchmark("dashboards", title="Dashboards and result pages at 10,000 and 1,000,000 responses")
def dashboards(context: BenchContext) -> list[Result]:
    """One organization (20 touchpoints of one journey, one published NPS survey each, 5 of
    them key touchpoints, an NPS plan with target +30 at every touchpoint) holds first 10,000
    and then 1,000,000 responses (1,000 and 5,000 with --quick), spread over 365 days, four
    channels and three languages: seeded by `manage.py seed_bench_responses` and grown with
    the same set-based SQL; one response in eight carries the NPS template's follow-up comment
    (improve / better / liked by score). After each size the rollups are rebuilt and every
    table analysed (`VACUUM ANALYZE`, `ANALYZE`: autovacuum is off). The owner is signed in
    with Django's test client in a `manage.py shell` subprocess, which also counts each page's
    SQL queries; the pages are then asked for through a real gunicorn (2 sync workers,
    `DEBUG=false`) with that session cookie, by one client thread one request at a time (so a
    time is the request's own): 5 discarded requests per page (1 with --quick), then 60
    measured (5 with --quick; a page stops early after 240 s). Pages: the overview, the
    touchpoint dashboard with the default filters (last 90 days) and over the last 12 months
    by week, the journey heatmap, the touchpoint ranking, the survey list, one survey's results
    and its responses list (first page). Every answer must be 200. Figures: each page's p95
    at both sizes and its ratio (p95 at the large size over p95 at the small one; the notes
    give p50, the p50 ratio and the query counts). Goals (issue 12): overview and touchpoint
    dashboard p95 <= 300 ms at 1,000,000 responses and ratio <= 1.2; the notes say whether
    each was met. Times are on a shared machine; a single page's p95 moves with its neighbours.
    """
    size = sizes(context)
    _, seeded = _seed(context, SLUG, size.small, report=False)
    ids = {"slug": SLUG, **_django(context, PREPARE, BENCH_SLUG=SLUG, **_prepare_environ())}
    _analyze(context)
    small = _measure_size(context, size, ids)
    grown = _django(
        context,
        COMMON + GROW,
        BENCH_SLUG=SLUG,
        BENCH_ADD=str(size.large - size.small),
        BENCH_DAYS=str(DAYS),
        BENCH_COMMENT_SHARE=str(COMMENT_SHARE),
    )
    if grown["responses"] != size.large:
        raise BenchSetupError(
            f"{SLUG} holds {grown['responses']:,} responses after growing, not {size.large:,}."
        )
    started = time.monotonic()
    context.manage("rebuild_rollups", "--org", SLUG, timeout=1800)
    rebuilt = time.monotonic() - started
    _analyze(context)
    large = _measure_size(context, size, ids)
    results = [
        Result(
            name="dashboards.grow",
            figure=grown["seconds"] + rebuilt,
            unit="s",
            notes=f"{size.large - size.small:,} responses added to {size.small:,} (one NPS answer "
            f"each, {grown['comments']:,} comments) in {grown['seconds']:.0f} s with "
            f"VACUUM ANALYZE, then rebuild_rollups in {rebuilt:.0f} s; "
            f"{seeded['responses']:,} seeded before",
        )
    ]
    for page in PAGES:
        results += _page_results(page, size, small[page.key], large[page.key])
    return results


# --- set-up --------------------------------------------------------------------------------------


def _prepare_environ() -> dict[str, str]:
    return {
        "BENCH_KEY_TOUCHPOINTS": str(KEY_TOUCHPOINTS),
        "BENCH_TARGET": str(NPS_TARGET),
        "BENCH_COMMENT_SHARE": str(COMMENT_SHARE),
    }


def _analyze(context: BenchContext) -> None:
    """Planner statistics of every table, as autovacuum would leave them (it is off)."""
    with _database(context) as cursor:
        cursor.execute("ANALYZE")


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Measured:
    load: LoadResult
    queries: int
    status: int
    slowest_ms: float


def _measure_size(context: BenchContext, size: Sizes, ids: dict) -> dict[str, Measured]:
    """Count each page's queries in Django, then time it through gunicorn (one thread)."""
    paths = {page.key: page.path(ids) for page in PAGES}
    probe = _django(
        context,
        PROBE,
        BENCH_EMAIL=f"{SLUG}@example.com",
        BENCH_PATHS=json.dumps(paths),
    )
    headers = {"Cookie": f"{probe['cookie']}={probe['session']}"}
    measured = {}
    with server.running_server(context, workers=GUNICORN_WORKERS) as running:
        for page in PAGES:
            path = paths[page.key]
            measure(
                running.port,
                path,
                headers=headers,
                threads=1,
                duration=size.cap,
                max_requests=size.warmup,
            )
            load = measure(
                running.port,
                path,
                headers=headers,
                threads=1,
                duration=size.cap,
                max_requests=size.requests,
            )
            found = probe["pages"][page.key]
            measured[page.key] = Measured(
                load=load,
                queries=found["queries"],
                status=found["status"],
                slowest_ms=found["slowest_ms"],
            )
    return measured


def _page_results(page: Page, size: Sizes, small: Measured, large: Measured) -> list[Result]:
    rows = []
    for label, count, found in (("small", size.small, small), ("large", size.large, large)):
        load = found.load
        p95 = load.percentile_ms(0.95)
        notes = (
            f"{page.label}; {count:,} responses stored; p50 {load.percentile_ms(0.5):.1f} ms; "
            f"{load.requests - load.errors:,} requests one at a time in {load.elapsed:.1f} s; "
            f"{found.queries} SQL queries (slowest {found.slowest_ms:.1f} ms)"
        )
        if page.goal and label == "large":
            notes += f"; goal <= {GOAL_P95_MS:.0f} ms: {'met' if p95 <= GOAL_P95_MS else 'MISSED'}"
        errors = load.errors + (found.status != 200)
        if found.status != 200:
            notes += f"; the query count's request answered {found.status}"
        if load.error_samples:
            notes += "; errors: " + " | ".join(load.error_samples)
        rows.append(
            Result(
                name=f"dashboards.{page.key}.{label}_p95",
                figure=p95,
                unit="ms",
                notes=notes,
                errors=errors,
            )
        )
    ratio = _ratio(large.load.percentile_ms(0.95), small.load.percentile_ms(0.95))
    notes = (
        f"p95 at {size.large:,} / p95 at {size.small:,} responses (p50 ratio "
        f"{_ratio(large.load.percentile_ms(0.5), small.load.percentile_ms(0.5)):.2f}); "
        f"SQL queries {small.queries} -> {large.queries}"
    )
    if page.goal:
        notes += f"; goal <= {GOAL_RATIO}: {'met' if ratio <= GOAL_RATIO else 'MISSED'}"
    rows.append(
        Result(
            name=f"dashboards.{page.key}.ratio",
            figure=ratio,
            unit="x",
            notes=notes,
            errors=small.load.errors + large.load.errors,
        )
    )
    return rows


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


# --- code run inside Django (`manage.py shell -c`) -----------------------------------------------

# Adds the NPS template's follow-up comment (the question its score leads to) to a share of the
# organization's responses after `after`; returns how many.
COMMON = '''
import os

COMMENTS = {
    "improve": ["The queue at the checkout was far too long", "Nobody could answer my question",
                "The product I came for was sold out", "Prices went up again"],
    "better": ["A little more staff at lunch time", "Clearer signs in the store",
               "Faster delivery would help"],
    "liked": ["Friendly and helpful staff", "Quick and easy as always",
              "Clean store and a good selection"],
}

ADD_COMMENTS = """
INSERT INTO surveys_answer (
    organization_id, response_id, question_id, value_int, value_int_2, value_text, value_choices
)
SELECT
    a.organization_id, a.response_id, q.id, NULL, NULL,
    CASE q.key
        WHEN 'improve' THEN (%(improve)s::text[])[1 + floor(random() * %(improve_count)s)::int]
        WHEN 'better' THEN (%(better)s::text[])[1 + floor(random() * %(better_count)s)::int]
        ELSE (%(liked)s::text[])[1 + floor(random() * %(liked_count)s)::int]
    END,
    '[]'::jsonb
FROM surveys_answer AS a
JOIN surveys_question AS scored ON scored.id = a.question_id AND scored.metric = 'nps'
JOIN surveys_question AS q
    ON q.version_id = scored.version_id
    AND q.key = CASE
        WHEN a.value_int <= 6 THEN 'improve' WHEN a.value_int <= 8 THEN 'better' ELSE 'liked'
    END
WHERE a.organization_id = %(organization)s AND a.response_id > %(after)s
    AND a.value_int IS NOT NULL AND random() < %(share)s
ORDER BY a.response_id
"""


def add_comments(cursor, organization, after):
    parameters = {"organization": organization.pk, "after": after,
                  "share": float(os.environ["BENCH_COMMENT_SHARE"])}
    for key, texts in COMMENTS.items():
        parameters[key] = texts
        parameters[f"{key}_count"] = len(texts)
    cursor.execute(ADD_COMMENTS, parameters)
    return cursor.rowcount
'''

PREPARE = (
    """
import json, os
from decimal import Decimal

from django.db import connection, transaction

from core.scoping import tenant_scope
from journeys.models import MeasurementPlan, Touchpoint
from journeys.services import measurement_plan_create, touchpoint_update
from surveys.models import Survey
from tenancy.actors import Actor
from tenancy.models import Organization
"""
    + COMMON
    + """
organization = Organization.objects.get(slug=os.environ["BENCH_SLUG"])
key_count = int(os.environ["BENCH_KEY_TOUCHPOINTS"])
target = Decimal(os.environ["BENCH_TARGET"])
with tenant_scope(organization), transaction.atomic():
    actor = Actor.system(organization)
    touchpoints = list(
        Touchpoint.objects.select_related("journey").order_by("stage__position", "position", "pk")
    )
    planned = set(
        MeasurementPlan.objects.filter(metric="nps").values_list("touchpoint_id", flat=True)
    )
    for number, touchpoint in enumerate(touchpoints):
        if number < key_count and not touchpoint.is_key:
            touchpoint_update(actor=actor, touchpoint=touchpoint, is_key=True)
        if touchpoint.pk not in planned:
            measurement_plan_create(
                actor=actor, touchpoint=touchpoint, metric="nps", target_value=target
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        comments = add_comments(cursor, organization, 0)
    first = touchpoints[0]
    survey = Survey.objects.filter(touchpoint=first).order_by("pk").first()
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE surveys_answer")
print(json.dumps({
    "journey": first.journey.public_id,
    "touchpoint": first.public_id,
    "survey": survey.public_id,
    "comments": comments,
}))
"""
)

GROW = """
import json, os, secrets, time, zoneinfo
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core.scoping import tenant_scope
from metrics.management.commands.seed_bench_responses import (
    CHANNELS, INSERT_RESPONSES, LANGUAGES, NPS_VALUES,
)
from surveys.models import Question, Response, Survey
from surveys.services.responses import survey_response_counts_refresh
from tenancy.models import Organization

# The seed's answers, for the responses after `after` only.
INSERT_NPS_ANSWERS = '''
INSERT INTO surveys_answer (
    organization_id, response_id, question_id, value_int, value_int_2, value_text, value_choices
)
SELECT
    r.organization_id, r.id, q.question_id,
    (%(values)s::int[])[1 + floor(random() * %(value_count)s)::int],
    NULL, '', '[]'::jsonb
FROM surveys_response AS r
JOIN unnest(%(surveys)s::bigint[], %(questions)s::bigint[]) AS q (survey_id, question_id)
    ON q.survey_id = r.survey_id
WHERE r.organization_id = %(organization)s AND r.id > %(after)s
ORDER BY r.id
'''

organization = Organization.objects.get(slug=os.environ["BENCH_SLUG"])
count = int(os.environ["BENCH_ADD"])
days = int(os.environ["BENCH_DAYS"])
began = time.monotonic()
with tenant_scope(organization):
    surveys = list(Survey.objects.order_by("pk"))
    questions = {
        question.version_id: question.pk
        for question in Question.objects.filter(metric="nps", version__survey__in=surveys)
    }
    after = Response.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    today = timezone.localdate(timezone=zone)
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), zone)
    common = {"organization": organization.pk, "surveys": [survey.pk for survey in surveys]}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.29)")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            # As the seed: every reference comes from rows just read.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            INSERT_RESPONSES,
            {
                **common,
                "salt": secrets.token_hex(8),
                "versions": [survey.current_version_id for survey in surveys],
                "touchpoints": [survey.touchpoint_id for survey in surveys],
                "touchpoint_count": len(surveys),
                "channels": CHANNELS,
                "channel_count": len(CHANNELS),
                "languages": LANGUAGES,
                "language_count": len(LANGUAGES),
                "start": start,
                "span": (timezone.now() - start).total_seconds(),
                "count": count,
            },
        )
        cursor.execute(
            INSERT_NPS_ANSWERS,
            {
                **common,
                "after": after,
                "questions": [questions[survey.current_version_id] for survey in surveys],
                "values": NPS_VALUES,
                "value_count": len(NPS_VALUES),
            },
        )
        comments = add_comments(cursor, organization, after)
    survey_response_counts_refresh(organization=organization)
    with connection.cursor() as cursor:
        for table in ("surveys_response", "surveys_answer"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(json.dumps({
        "responses": Response.objects.count(),
        "comments": comments,
        "seconds": time.monotonic() - began,
    }))
"""

PROBE = """
import json, os

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User

user = User.objects.get(email=os.environ["BENCH_EMAIL"])
client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
client.force_login(user)
pages = {}
for key, path in json.loads(os.environ["BENCH_PATHS"]).items():
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    times = sorted(float(query["time"]) for query in captured.captured_queries)
    pages[key] = {
        "status": response.status_code,
        "queries": len(captured),
        "slowest_ms": times[-1] * 1000 if times else 0.0,
    }
print(json.dumps({
    "cookie": settings.SESSION_COOKIE_NAME,
    "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
    "pages": pages,
}))
"""
