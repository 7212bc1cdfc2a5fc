"""`python -m bench [--quick] [--only NAME ...] [--output PATH]` (what `make bench` runs).

A full run of every benchmark rewrites docs/benchmarks.md; a quick or partial run only prints,
unless --output names a file. Exits 1 when any request failed or set-up went wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.environment import BENCH_DATABASE, PROJECT_ROOT, BenchSetupError
from bench.runner import report, run

DOCUMENT = PROJECT_ROOT / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="short durations (proves the code runs)"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run this benchmark (repeat)"
    )
    parser.add_argument("--output", type=Path, help="write the Markdown report here")
    parser.add_argument("--database", default=BENCH_DATABASE, help="bench database name")
    options = parser.parse_args(argv)
    only = [name for value in options.only for name in value.split(",") if name]
    output = options.output
    if output is None and not options.quick and not only:
        output = DOCUMENT
    try:
        outcome = run(only=only, quick=options.quick, database_name=options.database)
    except BenchSetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    report(outcome, output=output)
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main())
