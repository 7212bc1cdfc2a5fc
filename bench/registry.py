"""The benchmark registry: `@benchmark("name")` on a function taking a `BenchContext`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.environment import BenchContext


@dataclass(frozen=True)
class Result:
    """One row of the report: a figure with its unit, the errors seen while measuring it, notes."""

    name: str
    figure: float
    unit: str
    notes: str = ""
    errors: int = 0

    def formatted_figure(self) -> str:
        if abs(self.figure) >= 100:
            return f"{self.figure:,.0f}"
        return f"{self.figure:,.2f}"


BenchmarkFunction = Callable[["BenchContext"], list[Result]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    function: BenchmarkFunction

    @property
    def description(self) -> str:
        """The function's docstring: what is measured and how (copied into docs/benchmarks.md)."""
        return inspect.cleandoc(self.function.__doc__ or "")


_REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, *, title: str) -> Callable[[BenchmarkFunction], BenchmarkFunction]:
    """Register `function` under `name` (what `python -m bench --only <name>` selects)."""

    def register(function: BenchmarkFunction) -> BenchmarkFunction:
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"Two benchmarks are named {name!r}.")
        _REGISTRY[name] = Benchmark(name=name, title=title, function=function)
        return function

    return register


def discover() -> dict[str, Benchmark]:
    """Import every `bench/bench_*.py` module, in name order, and return the registry."""
    package = importlib.import_module("bench")
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name.startswith("bench_"):
            importlib.import_module(f"bench.{module.name}")
    return dict(_REGISTRY)
