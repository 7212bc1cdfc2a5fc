"""Benchmarks behind `make bench` (`python -m bench`).

Each `bench/bench_<name>.py` module registers its benchmarks with `@benchmark(...)` from
`bench.registry`; the runner imports every such module, so adding a benchmark is one new module.
Benchmarks run against their own PostgreSQL database (`cxplatform_bench`) and Redis database 14,
never the development or test ones, and drive the application through `manage.py` and a real
gunicorn server in subprocesses: this package never imports Django itself.
"""
