"""Every `SELECT ... FOR UPDATE` names the organization (ARCHITECTURE.md, "Growing past one
machine"): Citus refuses a row lock that could reach more than one shard. Read from the source, so
a new lock site is checked the day it is written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("core", "tenancy", "accounts", "journeys", "surveys", "distribution", "metrics", "alerts",
        "reports", "webhooks")  # fmt: skip
LOCK = re.compile(r"select_for_update\(")
# Lines before and after the lock call that make up its statement (a chained query).
BEFORE, AFTER = 4, 4


def lock_sites():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines):
                if LOCK.search(line):
                    statement = "\n".join(lines[max(0, number - BEFORE) : number + AFTER + 1])
                    yield f"{path.relative_to(ROOT)}:{number + 1}", statement


def test_there_are_lock_sites_to_check():
    assert len(list(lock_sites())) > 20


def test_every_row_lock_names_the_organization():
    unscoped = [site for site, statement in lock_sites() if "organization" not in statement]
    assert unscoped == []
