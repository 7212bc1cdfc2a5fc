"""Every deploy knob is read from the environment here, strictly (django-environ).

`CXP_EMBEDDED=true` (set by `make run` when DATABASE_URL or REDIS_URL is missing) chooses the
embedded default explicitly: SQLite under var/, Celery tasks run in-process, email to var/mail/.
Without it DATABASE_URL, REDIS_URL and SECRET_KEY are required and nothing falls back silently.
"""

import os
import secrets
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core import queues
from cxplatform.api_docs import TAGS as API_TAGS
from cxplatform.schedule import BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

EMBEDDED = env.bool("CXP_EMBEDDED", default=False)
DEBUG = env.bool("DEBUG", default=False)


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it, or run `make run`, which uses the embedded default."
        )
    return value


# Only the embedded default may fall back to a known key; DEBUG alone never does.
if EMBEDDED:
    SECRET_KEY = env.str("SECRET_KEY", default="embedded-development-only-not-secret")
else:
    SECRET_KEY = _required("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address respondents and providers reach us at; links in email and SMS are built from it.
# Prometheus scrapes /metrics with this bearer token; without one the endpoint does not exist.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "anymail",
    "core",
    "tenancy",
    "accounts",
    "journeys",
    "surveys",
    "distribution",
    "metrics",
    "alerts",
    "reports",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxplatform.urls"
WSGI_APPLICATION = "cxplatform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.organization",
                "alerts.context_processors.case_count",
            ],
        },
    },
]

if EMBEDDED:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR}/var/db.sqlite3")
    }
else:
    DATABASES = {"default": env.db_url_config(_required("DATABASE_URL"))}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# SQLite cannot enforce "nulls not distinct" on the rollup key; the embedded default has one
# writer at a time, so the row lock in metrics.rollups is enough there.
SILENCED_SYSTEM_CHECKS = ["models.W047"] if EMBEDDED else []
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# A kept connection is checked before a request reuses it, so a database restart costs no error.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
# Behind PgBouncer in transaction mode a server-side cursor (`.iterator()`) would outlive the
# transaction that opened it: turn them off there (docs/scaling.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
# `manage.py migrate` goes straight to PostgreSQL when DATABASE_DIRECT_URL names it (core's migrate
# command), and lag-tolerant reads may go to a streaming replica (core/replica.py). In tests both
# are the default database.
for alias, variable in (("direct", "DATABASE_DIRECT_URL"), ("replica", "DATABASE_REPLICA_URL")):
    if not EMBEDDED and env.str(variable, default=""):
        DATABASES[alias] = {
            **env.db_url_config(env.str(variable)),
            "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
            "CONN_HEALTH_CHECKS": True,
            "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"],
            "TEST": {"MIRROR": "default"},
        }
for database in DATABASES.values():
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = "core.db.postgresql"  # tenant tables' keys (core/db/postgresql)
if "replica" in DATABASES:
    # An unreachable replica must cost a read a second at most before it falls back.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if EMBEDDED:
    REDIS_URL = ""
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    REDIS_URL = _required("REDIS_URL")
    # A Redis that hangs must not hold a request for the operating system's timeout.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
MEMBER_INVITATION_DAYS = env.int("MEMBER_INVITATION_DAYS", default=7)

# Login throttling: a username and address pair is locked out after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Django's authenticate() passes the email as `username` (the sign-in form's field); axes would
# otherwise look for USERNAME_FIELD ("email"), record every failure without a username and never
# lock the account out.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# How many reverse proxies of ours stand in front of the app. Each appends the address it saw to
# X-Forwarded-For, so the client is the Nth entry from the right; entries further left are the
# client's own and may be forged. 0: ignore the header and use the socket's peer address.
# Axes lockouts, respondent rate limits and stored respondent addresses all read it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# django-ratelimit: a cache that cannot count lets the request through rather than refusing it.
RATELIMIT_FAIL_OPEN = True

LANGUAGE_CODE = "en"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# plotly.js is served from the installed plotly package (no CDN, no committed copy); only the one
# file is published, not the rest of its package_data (cxplatform/staticfiles.py says why).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "cxplatform.staticfiles.PackageFileFinder",
]
STATIC_PACKAGE_FILES = {"vendor/plotly/plotly.min.js": ("plotly", "package_data/plotly.min.js")}
# Production serves hashed, compressed files made by collectstatic; development and tests serve
# straight from the source folders.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not (DEBUG or EMBEDDED))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
if not STATIC_MANIFEST:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:25")
if (EMBEDDED or DEBUG) and not env.str("EMAIL_URL", default=""):
    # Each email becomes an .eml file under var/mail/ and one log line (core/mail.py).
    EMAIL_CONFIG["EMAIL_BACKEND"] = "core.mail.EmlFileBackend"
vars().update(EMAIL_CONFIG)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Production sends through an email provider with django-anymail: set EMAIL_BACKEND to the
# provider's backend (e.g. anymail.backends.postmark.EmailBackend) and its ANYMAIL_* variables
# (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN); every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"].
# Bounce and complaint webhooks live at /hooks/email/<provider>/tracking/ behind basic auth with
# ANYMAIL_WEBHOOK_SECRET ("user:password"); without one a random secret refuses every call.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
# Only that provider's webhook answers (others are 404): the one EMAIL_BACKEND names, or
# EMAIL_WEBHOOK_PROVIDER (e.g. "postmark") when mail leaves through the provider's SMTP relay.
EMAIL_WEBHOOK_PROVIDER = env.str(
    "EMAIL_WEBHOOK_PROVIDER",
    default=EMAIL_BACKEND.split(".")[2] if EMAIL_BACKEND.startswith("anymail.backends.") else "",
)
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
ANYMAIL.setdefault("WEBHOOK_SECRET", f"unset:{secrets.token_urlsafe(24)}")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cxplatform <noreply@localhost>")

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection around every task unless this is set;
# one metrics task per response ran 1.8 times as fast with the connection kept. Kept connections
# are closed as Django does for requests, after an error or CONN_MAX_AGE (core.tasks), and at
# least every N tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Every task has a time limit: this default, or a tighter one on the task itself.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=840)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
# One queue per class of work, each with a worker pool of its own (core/queues.py).
CELERY_TASK_ROUTES = queues.ROUTES
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
# One effective scheduler at a time: RedBeat keeps the schedule in Redis and holds a lock there,
# so a second beat (a deploy overlap, a mistake) waits instead of sending every job twice. The
# lock lapses 25 s (5 loops) after its holder dies, and a waiting beat takes over.
if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "cxplatform.beat.Scheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_BEAT_MAX_LOOP_INTERVAL = 5
CELERY_TIMEZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.ResourceAutoSchema",
    # JSON only: the browsable API is not offered (the docs are at /api/v1/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    # Requests per minute per API key (or signed-in user), counted in Redis: core/throttling.py.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# The default limit of an API key (ApiKey.rate_limit_per_minute overrides it) and of a signed-in
# user's calls to the API from the browser.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
SPECTACULAR_SETTINGS = {
    "TITLE": "cxplatform API",
    "DESCRIPTION": (
        "Customer-experience feedback: journeys, touchpoints, surveys, responses and metrics. "
        "Authenticate with `Authorization: Bearer <api key>`. Every path is scoped to one "
        "organization; another organization's objects answer 404. Errors are "
        '`{"message", "code", "extra"}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The resources, described and in reading order (an operation's tag comes from its view).
    "TAGS": API_TAGS,
    # Choice sets that share a field name ("status", "kind", "metric") get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "AlertRuleKindEnum": "alerts.enums.RuleKind",
        "ConditionMetricEnum": "alerts.enums.ConditionMetric",
        "PlannableMetricEnum": "journeys.enums.plannable_metric_choices",
        "AlertStatusEnum": "alerts.enums.AlertStatus",
        "CaseStatusEnum": "alerts.enums.CaseStatus",
        "CaseEventKindEnum": "alerts.enums.CaseEventKind",
        "ImprovementStatusEnum": "alerts.enums.ImprovementStatus",
        "CampaignChannelEnum": "distribution.enums.CampaignChannel",
        "ResponseChannelEnum": "surveys.enums.Channel",
        "WebhookEventTypeEnum": "webhooks.enums.EventType",
        "WebhookDeliveryStatusEnum": "webhooks.enums.DeliveryStatus",
        "LanguageEnum": "tenancy.enums.Language",
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts come only from our static files (no inline script
# or event handler in any template), and no page may be framed but the builder's preview
# (surveys/urls.py). Inline styles stay allowed: style="" attributes, the respondent page's brand
# colour, and the <style> elements plotly.js and htmx add.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],  # plotly.js draws a PNG from a blob: image
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
if not (DEBUG or EMBEDDED):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # TLS ends at the reverse proxy, which also redirects http:// to https:// (Django's own
    # redirect would loop behind a proxy that sends no X-Forwarded-Proto); SECURE_SSL_REDIRECT=true
    # turns it on all the same, the health probes excepted.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$", r"^metrics$"]
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS.append("security.W008")
    # Browsers keep to https for a year, on subdomains too (SECURE_HSTS_SECONDS=0 turns it off).
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Metrics: a score whose 95 % interval is wider than this half-width (in the score's own units)
# is flagged as low precision even with 30 or more answers. METRICS_MAX_MARGIN_NPS=10 and so on.
METRICS_MAX_MARGIN = {
    metric: value
    for metric in (
        "nps",
        "csat",
        "ces",
        "ces_legacy",
        "womi",
        "yes_no",
        "smiley",
        "rating",
        "emotion",
    )
    if (value := env.float(f"METRICS_MAX_MARGIN_{metric.upper()}", default=0.0))
}
# The window the KPI list and journey map call "current", and the significance level of changes.
METRICS_CURRENT_WINDOW_DAYS = env.int("METRICS_CURRENT_WINDOW_DAYS", default=90)
METRICS_SIGNIFICANCE_LEVEL = env.float("METRICS_SIGNIFICANCE_LEVEL", default=0.95)

# Distribution: SMS through Twilio. TWILIO_API_BASE_URL stays empty in production; tests and
# benchmarks point it at a local fake server. TWILIO_DEFAULT_SENDER is used when an organization
# has no sender of its own (DistributionSettings.sms_sender).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
TWILIO_DEFAULT_SENDER = env.str("TWILIO_DEFAULT_SENDER", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# The first wait before an invitation the provider could not take (429, 5xx, timeout) is sent
# again; it doubles with each retry, up to an hour.
INVITATION_RETRY_SECONDS = env.int("INVITATION_RETRY_SECONDS", default=30)
# How long a two-way SMS conversation waits for the comment before the score is recorded alone.
SMS_COMMENT_WAIT_HOURS = env.int("SMS_COMMENT_WAIT_HOURS", default=12)
# An email's unsubscribe link works this long after the email was sent (a signed, dated token).
UNSUBSCRIBE_LINK_DAYS = env.int("UNSUBSCRIBE_LINK_DAYS", default=400)

# Outbound HTTP to user-supplied URLs (chat webhooks; core/safe_http.py): every call times out, and
# private or internal addresses are refused unless listed in OUTBOUND_ALLOWED_NETWORKS (CIDRs, e.g.
# an on-premise chat server's 10.1.2.3/32; tests allow 127.0.0.1/32). http:// only when
# OUTBOUND_ALLOW_HTTP is set (tests and such on-premise servers).
OUTBOUND_HTTP_TIMEOUT_SECONDS = env.float("OUTBOUND_HTTP_TIMEOUT_SECONDS", default=5.0)
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", default=[])
OUTBOUND_ALLOW_HTTP = env.bool("OUTBOUND_ALLOW_HTTP", default=False)

# Reports: exports up to this many responses download at once; larger ones run as a task.
REPORTS_EXPORT_SYNC_MAX_ROWS = env.int("REPORTS_EXPORT_SYNC_MAX_ROWS", default=5000)
