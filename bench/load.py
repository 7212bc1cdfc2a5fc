"""A small closed-loop HTTP load generator: N threads, each with its own keep-alive connection.

It only ever talks to 127.0.0.1 and is bounded both in time (`duration`) and in count
(`max_requests`). Every response must have the expected status (200 unless told); anything
else, or a connection error, is counted as an error and the first few are kept to explain the
figure. A POST sends the same body every time.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
MAX_REQUESTS = 500_000
REQUEST_TIMEOUT = 10.0


@dataclass
class LoadResult:
    path: str
    requests: int
    errors: int
    elapsed: float
    latencies: list[float] = field(repr=False)
    error_samples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Successful requests per second of wall-clock time."""
        return (self.requests - self.errors) / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Latency at `fraction` (0.5 = median) in milliseconds, nearest-rank."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1] * 1000


@dataclass
class _Worker:
    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)


def measure(
    port: int,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    threads: int,
    duration: float,
    warmup: float = 0.0,
    max_requests: int = MAX_REQUESTS,
    method: str = "GET",
    body: bytes | None = None,
    expect: int = 200,
) -> LoadResult:
    """Load `method path` for `warmup` seconds (discarded), then measure it for `duration`
    seconds."""
    request = _Request(method, path, headers or {}, body, expect)
    if warmup > 0:
        _run(port, request, threads, warmup, max_requests)
    return _run(port, request, threads, duration, max_requests)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expect: int


def _run(port: int, request: _Request, threads: int, duration: float, cap: int) -> LoadResult:
    per_thread = max(1, cap // threads)
    workers = [_Worker() for _ in range(threads)]
    start_line = threading.Barrier(threads + 1)
    timing: dict[str, float] = {}

    def loop(worker: _Worker) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        start_line.wait()
        deadline = timing["deadline"]
        try:
            while worker.requests < per_thread:
                began = time.perf_counter()
                if began >= deadline:
                    break
                worker.requests += 1
                try:
                    connection.request(
                        request.method, request.path, body=request.body, headers=request.headers
                    )
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as error:
                    worker.errors += 1
                    _sample(worker, f"{type(error).__name__}: {error}")
                    connection.close()  # the next request opens a fresh connection
                    continue
                worker.latencies.append(time.perf_counter() - began)
                if response.status != request.expect:
                    worker.errors += 1
                    _sample(worker, f"HTTP {response.status}: {body[:120]!r}")
        finally:
            connection.close()

    pool = [threading.Thread(target=loop, args=(worker,), daemon=True) for worker in workers]
    for thread in pool:
        thread.start()
    timing["deadline"] = time.perf_counter() + duration
    started = time.perf_counter()
    start_line.wait()
    for thread in pool:
        thread.join(timeout=duration + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    stuck = sum(thread.is_alive() for thread in pool)
    result = LoadResult(
        path=request.path,
        requests=sum(worker.requests for worker in workers),
        errors=sum(worker.errors for worker in workers) + stuck,
        elapsed=elapsed,
        latencies=[latency for worker in workers for latency in worker.latencies],
        error_samples=[sample for worker in workers for sample in worker.error_samples][:3],
    )
    if stuck:
        result.error_samples.append(f"{stuck} thread(s) still waiting for an answer")
    return result


def combined(results: list[LoadResult]) -> LoadResult:
    """Slices of one load measured at different times (see `alternated`), as one result."""
    return LoadResult(
        path=results[0].path,
        requests=sum(result.requests for result in results),
        errors=sum(result.errors for result in results),
        elapsed=sum(result.elapsed for result in results),
        latencies=[latency for result in results for latency in result.latencies],
        error_samples=[sample for result in results for sample in result.error_samples][:3],
    )


def alternated(
    port: int, loads: list[dict], *, slices: int, duration: float, warmup: float
) -> list[LoadResult]:
    """Measure several loads (each `measure`'s keyword arguments) in `slices` alternating
    slices of `duration / slices` seconds each, after warming each up: a figure compared with
    another then meets the same moments of the machine, whose speed drifts over seconds."""
    for load in loads:
        measure(port, **load, duration=warmup)
    parts: list[list[LoadResult]] = [[] for _ in loads]
    for _ in range(slices):
        for load, measured in zip(loads, parts, strict=True):
            measured.append(measure(port, **load, duration=duration / slices))
    return [combined(measured) for measured in parts]


def _sample(worker: _Worker, text: str) -> None:
    if len(worker.error_samples) < 3:
        worker.error_samples.append(text)
