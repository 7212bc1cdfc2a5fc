"""Contacts imported per second from CSV, through the real import code."""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path

from bench.environment import BenchContext, BenchSetupError
from bench.registry import Result, benchmark

FULL_ROWS = 100_000
QUICK_ROWS = 10_000
SLUG = "bench-import"


@benchmark("contacts_import", title="Contacts imported per second from a CSV file")
def contacts_import(context: BenchContext) -> list[Result]:
    """Rows per second of `manage.py import_contacts_csv` on a generated CSV of 100,000 contacts
    (10,000 with --quick): external id, name, email, a Finnish mobile number written the way
    people type it (`040 1234567`), language, plan and store. The command runs the same code as
    the `distribution.tasks.import_contacts` Celery task (upload and row count, column mapping,
    then batches of 1,000 rows: one lookup query for the batch's external ids, emails and phones,
    `bulk_create`, `bulk_update`, error rows and a progress update per batch), in one process
    against the bench PostgreSQL; the time includes decoding the file and counting its rows,
    not starting Python. First the file is imported into an empty organization (every row is
    created), then a second file with the same people and a changed `plan` column is imported
    (every row matched by external id and updated). Every row must be imported without errors.
    """
    rows = QUICK_ROWS if context.quick else FULL_ROWS
    context.manage(
        "create_organization",
        SLUG,
        "--name",
        "Bench import",
        "--owner-email",
        f"{SLUG}@example.com",
        # One token, "=" joined: a random password may start with "-".
        f"--owner-password={secrets.token_urlsafe(18)}",
    )
    with tempfile.TemporaryDirectory() as directory:
        create_file = Path(directory) / "contacts.csv"
        update_file = Path(directory) / "contacts-updated.csv"
        _write(create_file, rows, plan="gold")
        _write(update_file, rows, plan="platinum")
        created = _run(context, create_file, rows, expect="created")
        updated = _run(context, update_file, rows, expect="updated")
    return [
        Result(
            name="contacts_import.create",
            figure=created["rows_per_second"],
            unit="rows/s",
            notes=f"{rows:,} new contacts in {created['seconds']:.1f} s",
            errors=int(created["errors"]),
        ),
        Result(
            name="contacts_import.update",
            figure=updated["rows_per_second"],
            unit="rows/s",
            notes=f"{rows:,} existing contacts matched by external id and updated in "
            f"{updated['seconds']:.1f} s",
            errors=int(updated["errors"]),
        ),
    ]


def _write(path: Path, rows: int, *, plan: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,name,email,phone,language,plan,store\n")
        for n in range(rows):
            out.write(
                f"CRM-{n},Asiakas {n},asiakas{n}@example.fi,040 {n:07d},"
                f"{('fi', 'sv', 'en')[n % 3]},{plan},Store {n % 40}\n"
            )


def _run(context: BenchContext, path: Path, rows: int, *, expect: str) -> dict[str, float]:
    output = context.manage(
        "import_contacts_csv", str(path), "--org", SLUG, "--map", "plan=attribute", timeout=1800
    )
    figures = {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", output)}
    if figures.get(expect) != rows or figures.get("errors"):
        raise BenchSetupError(f"import_contacts_csv did not {expect} {rows} rows: {output!r}")
    return figures
