"""A bench-only Django site: the application plus a bare view to compare the API with.

gunicorn loads it with DJANGO_SETTINGS_MODULE=bench.site.settings, only in benchmarks; the
application's own settings and URLs never include it.
"""
