"""Runs the registered benchmarks in the isolated environment and reports them."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import registry
from bench.environment import (
    BENCH_DATABASE,
    FULL_TIMING,
    QUICK_TIMING,
    BenchSetupError,
    exclusive_run,
    machine,
    prepare,
)
from bench.report import Section, markdown, table

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cxplatform"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
COMMAND = "make bench"


@dataclass(frozen=True)
class Run:
    sections: list[Section]
    document: str

    @property
    def results(self) -> list[registry.Result]:
        return [result for section in self.sections for result in section.results]

    @property
    def errors(self) -> int:
        return sum(result.errors for result in self.results)


def run(
    *,
    only: Sequence[str] = (),
    quick: bool = False,
    database_name: str = BENCH_DATABASE,
    database_url: str | None = None,
    redis_url: str | None = None,
    echo=print,
) -> Run:
    """Prepare the bench database, run the selected benchmarks, return their results and report."""
    benchmarks = registry.discover()
    unknown = sorted(set(only) - set(benchmarks))
    if unknown:
        raise BenchSetupError(
            f"Unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(benchmarks))}."
        )
    selected = [benchmarks[name] for name in sorted(benchmarks) if not only or name in only]
    timing = QUICK_TIMING if quick else FULL_TIMING
    database_url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    sections = []
    with exclusive_run(database_url, echo=echo):
        echo(f"Preparing database {database_name} and Redis db 14 (migrate)...")
        context = prepare(
            database_url,
            redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
            name=database_name,
            timing=timing,
            quick=quick,
        )
        for benchmark in selected:
            echo(f"Running {benchmark.name}: {benchmark.title}...")
            started = time.monotonic()
            results = benchmark.function(context)
            sections.append(Section(benchmark, results, time.monotonic() - started))
    document = markdown(
        sections,
        machine=machine(context),
        timing=timing,
        command=COMMAND,
        database=database_name,
    )
    return Run(sections=sections, document=document)


def report(outcome: Run, *, output: Path | None, echo=print) -> None:
    echo("")
    echo(table(outcome.results))
    if output is None:
        return
    if outcome.errors:
        echo(f"\n{outcome.errors} error(s): {output} left as it was.")
        return
    output.write_text(outcome.document)
    echo(f"\nWrote {output}")
