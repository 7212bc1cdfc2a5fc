"""The isolated world benchmarks run in: their own PostgreSQL database and Redis database.

`prepare()` derives both from DATABASE_URL and REDIS_URL (same servers, other names), drops and
recreates the database, empties the Redis database and migrates, all before any benchmark runs.
The development and test databases are never opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import redis
from psycopg2 import sql

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "cxplatform_bench"
BENCH_REDIS_DB = 14
# The invitations benchmark's worker: a database of its own, see bench_invitations.
WORKER_REDIS_DB = 13
# Signs sessions of a throw-away database on 127.0.0.1; never used anywhere else.
BENCH_SECRET_KEY = "bench-only-secret-never-used-outside-the-benchmark-database"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}


class BenchSetupError(RuntimeError):
    """The benchmark environment could not be prepared; the message says what to fix."""


@dataclass(frozen=True)
class Timing:
    """How long each measured load runs, after how much discarded warm-up, with how many threads."""

    duration: float
    warmup: float
    threads: int


FULL_TIMING = Timing(duration=8.0, warmup=2.0, threads=8)
QUICK_TIMING = Timing(duration=1.0, warmup=0.3, threads=4)


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` on the same server (scheme normalised for libpq)."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise BenchSetupError(f"DATABASE_URL must point at PostgreSQL, not {parts.scheme!r}.")
    return urlunsplit(("postgresql", parts.netloc, f"/{name}", parts.query, ""))


def with_redis_db(url: str, db: int) -> str:
    """`url` naming Redis database `db` on the same server."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise BenchSetupError(f"REDIS_URL must point at Redis, not {parts.scheme!r}.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@dataclass(frozen=True)
class BenchContext:
    """What every benchmark receives: where its database and Redis are, and how long to measure."""

    database_url: str
    redis_url: str
    timing: Timing
    quick: bool

    def environ(self, **overrides: str) -> dict[str, str]:
        """Environment for a subprocess running the application against the bench services."""
        environ = dict(os.environ)
        environ.pop("CXP_EMBEDDED", None)
        environ.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": BENCH_SECRET_KEY,
                "DEBUG": "false",
                "STATIC_MANIFEST": "false",
                "ALLOWED_HOSTS": "127.0.0.1",
                "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
                "PYTHONUNBUFFERED": "1",
                # The bench client plays the one proxy in front: its X-Forwarded-For entry is
                # the respondent's address, so each simulated respondent has its own rate limit.
                "TRUSTED_PROXY_COUNT": "1",
                # Benchmarks send far more than an integration's minute from one key: the
                # limit is still counted (its Redis round trip is part of the cost), never hit.
                "API_RATE_LIMIT_PER_MINUTE": "100000000",
            }
        )
        environ.update(overrides)
        return environ

    def manage(self, *args: str, timeout: float = 600) -> str:
        """Run `manage.py <args>` against the bench database; return its standard output."""
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise BenchSetupError(
                f"manage.py {' '.join(args[:1])} failed ({completed.returncode}):\n"
                f"{completed.stderr.strip() or completed.stdout.strip()}"
            )
        return completed.stdout


def prepare(
    database_url: str, redis_url: str, *, name: str, timing: Timing, quick: bool
) -> BenchContext:
    """Recreate the bench database `name` and empty Redis db 14; migrate; return the context."""
    if "bench" not in name:
        raise BenchSetupError(f"Refusing to drop {name!r}: bench database names contain 'bench'.")
    if database_name(database_url) == name:
        raise BenchSetupError(
            f"DATABASE_URL names {name!r} itself; point it at the development database."
        )
    bench_url = with_database(database_url, name)
    template = _migrated_template_name()
    migrated = _recreate_database(database_url, name, template=template)
    bench_redis = with_redis_db(redis_url, BENCH_REDIS_DB)
    if redis_url in (bench_redis, with_redis_db(redis_url, WORKER_REDIS_DB)):
        raise BenchSetupError(
            f"REDIS_URL uses database {BENCH_REDIS_DB} or {WORKER_REDIS_DB}, which benchmarks use."
        )
    try:
        redis.Redis.from_url(bench_redis, socket_connect_timeout=3).flushdb()
    except redis.RedisError as error:
        raise BenchSetupError(f"Redis is not reachable at {redis_url}: {error}") from error
    context = BenchContext(
        database_url=bench_url, redis_url=bench_redis, timing=timing, quick=quick
    )
    if not migrated:
        context.manage("migrate", "--noinput")
        _save_as_template(database_url, name, template)
    return context


TEMPLATE_PREFIX = "cxplatform_bench_template_"


def _migrated_template_name() -> str:
    """The name of a database migrated by exactly this checkout's migrations: a copy of it is
    a fresh bench database without the 20 s of `migrate` (the test suite prepares six)."""
    digest = hashlib.sha256()
    for path in sorted(PROJECT_ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return TEMPLATE_PREFIX + digest.hexdigest()[:16]


def _save_as_template(database_url: str, name: str, template: str) -> None:
    """Keep a copy of the just-migrated `name` as `template`; older templates are dropped."""
    with _maintenance_cursor(database_url) as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [TEMPLATE_PREFIX.replace("_", r"\_") + "%"],
        )
        for (stale,) in cursor.fetchall():
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale))
            )
        cursor.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(template), sql.Identifier(name)
            )
        )


# Any number, the same in every run: the PostgreSQL advisory lock one bench run holds.
RUN_LOCK_FILE = Path(tempfile.gettempdir()) / "cxplatform-bench.lock"


@contextlib.contextmanager
def exclusive_run(database_url: str, *, echo=print):
    """Hold a machine-wide file lock for the whole run: two runs (a `make bench` and the bench
    tests of a `make test`, say) would share Redis databases 13 and 14, and one's workers would
    take the other's tasks, so the second run waits for the first to finish. A file lock, not a
    PostgreSQL session lock: the database may sit behind a transaction-mode pooler."""
    try:
        psycopg2.connect(with_database(database_url, "postgres"), connect_timeout=5).close()
    except psycopg2.Error as error:
        raise BenchSetupError(f"PostgreSQL is not reachable ({error}).") from error
    with open(RUN_LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            echo("Another benchmark run is in progress; waiting for it to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def drop_database(database_url: str, name: str) -> None:
    """Drop a bench database (the test of the runner cleans up after itself with this)."""
    if "bench" not in name:
        raise BenchSetupError(f"Refusing to drop {name!r}: bench database names contain 'bench'.")
    _recreate_database(database_url, name, create=False)


def _recreate_database(
    database_url: str, name: str, *, create: bool = True, template: str | None = None
) -> bool:
    """Drop and (unless `create` is false) create `name`; True when it was copied from an
    existing migrated `template`, so it needs no `migrate`."""
    with _maintenance_cursor(database_url) as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not create:
            return False
        if template:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            if cursor.fetchone():
                cursor.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
                return True
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return False


@contextlib.contextmanager
def _maintenance_cursor(database_url: str):
    try:
        connection = psycopg2.connect(with_database(database_url, "postgres"), connect_timeout=5)
    except psycopg2.Error as error:
        raise BenchSetupError(f"PostgreSQL is not reachable ({error}).") from error
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def machine(context: BenchContext) -> dict[str, str]:
    """Where the figures were measured: cores, memory, CPU, OS, Python, PostgreSQL, Redis."""
    return {
        "cores": str(os.cpu_count() or "unknown"),
        "memory": _memory(),
        "cpu": _cpu_model(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "postgresql": _postgresql_version(context.database_url),
        "redis": _redis_version(context.redis_url),
    }


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgresql_version(database_url: str) -> str:
    connection = psycopg2.connect(database_url, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def _redis_version(redis_url: str) -> str:
    return str(redis.Redis.from_url(redis_url).info("server").get("redis_version", "unknown"))
