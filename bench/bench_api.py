"""The cost of the tenant API machinery, as a ratio against a bare Django view."""

from __future__ import annotations

import http.client
import json
import secrets

from bench.environment import BenchContext, BenchSetupError
from bench.load import LoadResult, measure
from bench.registry import Result, benchmark
from bench.server import running_server

BARE_PATH = "/livez"
TENANT_PATH = "/api/v1/orgs/bench/"
WORKERS = 2


@benchmark("api", title="Authenticated tenant API read against a bare Django view")
def api_read_ratio(context: BenchContext) -> list[Result]:
    """Requests per second of `GET /api/v1/orgs/bench/` with a read API key
    (`Authorization: Bearer <key>`: the key found by its prefix and its hash checked, the
    organization resolved by slug, the policy asked, the tenant scope opened, DRF serialization;
    two PostgreSQL queries) against `GET /livez` (a bare Django view through the full middleware
    stack, no database), on the same gunicorn server in the same run.
    Two organizations exist (`bench` and `rival`, each with an owner and a key), created with
    `manage.py create_organization` and `create_api_key`. gunicorn runs 2 sync workers
    (`DEBUG=false`); sync workers close the connection after each response, so the client
    reconnects every request, the same for both URLs. The load generator is this Python process
    on the same machine: closed-loop threads, each URL warmed up and then measured for a fixed
    time; every response must be 200. Latencies include queueing behind the two workers.
    """
    key = _seed(context)
    timing = context.timing
    with running_server(context, workers=WORKERS) as server:
        auth = {"Authorization": f"Bearer {key}"}
        _check_tenant_read(server.port, auth)
        bare = measure(
            server.port,
            BARE_PATH,
            threads=timing.threads,
            duration=timing.duration,
            warmup=timing.warmup,
        )
        tenant = measure(
            server.port,
            TENANT_PATH,
            headers=auth,
            threads=timing.threads,
            duration=timing.duration,
            warmup=timing.warmup,
        )
    ratio = tenant.rps / bare.rps if bare.rps else 0.0
    return [
        _row("api.bare_view", f"GET {BARE_PATH}", bare),
        _row("api.tenant_read", f"GET {TENANT_PATH} with a read key", tenant),
        Result(
            name="api.tenant_to_bare_ratio",
            figure=ratio,
            unit="ratio",
            notes=f"tenant read rps / bare view rps ({1 / ratio:.1f}x slower)"
            if ratio
            else "no successful bare requests",
            errors=bare.errors + tenant.errors,
        ),
    ]


def _seed(context: BenchContext) -> str:
    """Two organizations with owners and keys; return the read key of `bench`."""
    for slug, name in (("bench", "Bench"), ("rival", "Rival")):
        context.manage(
            "create_organization",
            slug,
            "--name",
            name,
            "--owner-email",
            f"{slug}@example.com",
            # One token, "=" joined: a random password may start with "-".
            f"--owner-password={secrets.token_urlsafe(18)}",
        )
    context.manage("create_api_key", "--org", "rival", "--name", "rival", "--scope", "read")
    output = context.manage(
        "create_api_key", "--org", "bench", "--name", "bench", "--scope", "read"
    )
    return output.strip().splitlines()[-1].strip()


def _check_tenant_read(port: int, headers: dict[str, str]) -> None:
    """Fail before measuring if the key does not read its organization."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", TENANT_PATH, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200 or json.loads(body).get("slug") != "bench":
        raise BenchSetupError(f"GET {TENANT_PATH} answered {response.status}: {body[:300]!r}")


def _row(name: str, what: str, load: LoadResult) -> Result:
    notes = (
        f"{what}; p50 {load.percentile_ms(0.5):.1f} ms, p95 {load.percentile_ms(0.95):.1f} ms; "
        f"{load.requests:,} requests in {load.elapsed:.1f} s"
    )
    if load.error_samples:
        notes += "; errors: " + " | ".join(load.error_samples)
    return Result(name=name, figure=load.rps, unit="req/s", notes=notes, errors=load.errors)
