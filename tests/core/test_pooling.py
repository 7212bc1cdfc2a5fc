"""Running behind PgBouncer in transaction mode (docs/scaling.md): server-side cursors can be
switched off, `migrate` goes straight to PostgreSQL when a direct address is given, and the bench
takes no database session lock."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import load_command_class
from django.db import connection

from accounts.models import User
from bench.environment import exclusive_run

ROOT = Path(__file__).resolve().parents[2]


def _settings_in_a_process(**environ) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES; "
        "print(d['default']['DISABLE_SERVER_SIDE_CURSORS'], sorted(d), "
        "d.get('replica', {}).get('OPTIONS', {}).get('connect_timeout'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxplatform.settings", **environ}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_server_side_cursors_are_off_only_when_asked():
    assert _settings_in_a_process().startswith("False")
    assert _settings_in_a_process(DISABLE_SERVER_SIDE_CURSORS="true").startswith("True")


def test_direct_and_replica_addresses_become_their_own_aliases():
    url = os.environ["DATABASE_URL"]
    shown = _settings_in_a_process(DATABASE_DIRECT_URL=url, DATABASE_REPLICA_URL=url)
    assert shown == "False ['default', 'direct', 'replica'] 1"


def test_migrate_goes_to_the_direct_address_when_there_is_one(settings):
    command = load_command_class("core", "migrate")
    assert command.create_parser("manage.py", "migrate").parse_args([]).database == "default"
    settings.DATABASES = {**settings.DATABASES, "direct": settings.DATABASES["default"]}
    parser = command.create_parser("manage.py", "migrate")
    assert parser.parse_args([]).database == "direct"
    assert parser.parse_args(["--database", "default"]).database == "default"


@pytest.mark.django_db
def test_iterating_without_server_side_cursors_opens_no_named_cursor(org, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    opened = []
    original = connection.create_cursor
    monkeypatch.setattr(
        connection, "create_cursor", lambda name=None: opened.append(name) or original(name)
    )
    list(User.objects.all().iterator(chunk_size=10))
    assert opened == [None]


def test_two_bench_runs_wait_for_each_other_without_a_database_session_lock():
    said = []
    url = os.environ["DATABASE_URL"]
    with exclusive_run(url, echo=said.append):
        waiter = subprocess.Popen(
            [sys.executable, "-c",
             "import os; from bench.environment import exclusive_run\n"
             "with exclusive_run(os.environ['DATABASE_URL']): print('ran')"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        with pytest.raises(subprocess.TimeoutExpired):
            waiter.wait(timeout=2)
    output, _ = waiter.communicate(timeout=20)
    assert "Another benchmark run is in progress" in output and output.strip().endswith("ran")
