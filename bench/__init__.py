"""Benchmarks behind `make bench` (`python -m bench`).

Each `bench/bench_<name>.py` module registers its benchmarks with `@benchmark(...)` from
`bench.registry`; the runner imports every such module, so adding a benchmark is one new module.
Benchmarks run against their own PostgreSQL database (`cxplatform_bench`) and Redis databases 14
and 13 (one run at a time: a PostgreSQL advisory lock makes a second run wait),
never the development or test ones, and drive the application through `manage.py` and a real
gunicorn server in subprocesses: this package never imports Django itself.
"""
