"""The printed table and docs/benchmarks.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.environment import Timing
from bench.registry import Benchmark, Result


@dataclass(frozen=True)
class Section:
    benchmark: Benchmark
    results: list[Result]
    seconds: float


def table(results: Sequence[Result]) -> str:
    """A plain-text table for the terminal."""
    header = ("benchmark", "figure", "unit", "errors", "notes")
    rows = [(r.name, r.formatted_figure(), r.unit, str(r.errors), r.notes) for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            [
                row[0].ljust(widths[0]),
                row[1].rjust(widths[1]),
                *(c.ljust(w) for c, w in zip(row[2:4], widths[2:4], strict=True)),
                row[4],
            ]
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths] + ["-----"]), *map(line, rows)])


def markdown(
    sections: Sequence[Section],
    *,
    machine: dict[str, str],
    timing: Timing,
    command: str,
    database: str,
    when: datetime | None = None,
) -> str:
    """docs/benchmarks.md: where and how the figures were measured, then every result."""
    when = when or datetime.now(UTC)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (the runner in `bench/`); do not edit by hand, run it again.",
        "Figures from one machine are comparable with each other, not with another machine's.",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']} memory, "
        f"{machine['os']}",
        f"- Software: Python {machine['python']}, PostgreSQL {machine['postgresql']}, "
        f"Redis {machine['redis']}",
        f"- Command: `{command}`",
        f"- Load: {timing.threads} client threads; each URL warmed up for {timing.warmup:g} s, "
        f"then measured for {timing.duration:g} s",
        f"- Isolation: database `{database}` (dropped and recreated each run) and Redis "
        "databases 14 and 13, one run at a time, on the servers named by `DATABASE_URL` and "
        "`REDIS_URL`",
        "",
        "## Results",
        "",
        "| benchmark | figure | unit | errors | notes |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for section in sections:
        for r in section.results:
            notes = r.notes.replace("|", "\\|")
            lines.append(
                f"| `{r.name}` | {r.formatted_figure()} | {r.unit} | {r.errors} | {notes} |"
            )
    for section in sections:
        lines += [
            "",
            f"## `{section.benchmark.name}`: {section.benchmark.title}",
            "",
            section.benchmark.description,
            "",
            f"Took {section.seconds:.0f} s, seeding and server start included.",
        ]
    return "\n".join(lines) + "\n"
