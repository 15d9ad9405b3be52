"""Claimtrail settings: one module, configured from the environment.

Every value comes from an environment variable read through a small typed helper that
rejects bad values with ImproperlyConfigured. Defaults are for local development on
SQLite; production sets SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS (see README.md).
"""

import importlib.util
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`; the first when unset."""
    value = os.environ.get(name) or choices[0]
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random secret "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
            "for local development set DEBUG=true instead."
        )
    # Development only: a fixed, obviously insecure key so sessions survive restarts.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "import_export",
    "simple_history",
    "axes",
    # Two-factor sign-in to the admin (config.two_factor): authenticator apps and
    # recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Security keys and passkeys (WebAuthn) as the second factor.
    "django_otp_webauthn",
    "csp",
    "django_prometheus",
    # Background tasks (captures, quote rechecks, archive requests): Django's Tasks API
    # (django-tasks, as Django 6 ships it), jobs kept in the database (django-tasks-db).
    "django_tasks",
    "django_tasks_db",
    "jobs",
    "sources",
    "claims",
    "webhooks",
    "api",
    # Synthetic data and benchmarks, where the folder is present (not in production images).
    *(["bench"] if importlib.util.find_spec("bench") else []),
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics (django-prometheus): first and last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.KnownMethodsMiddleware",
    # /healthz, /readyz and /metrics, for probes and Prometheus: before the host check
    # and the HTTPS redirect.
    "config.health.HealthCheckMiddleware",
    # Every database wait of a request bounded (DATABASE_QUERY_WAIT_SECONDS and others).
    "config.bounds.BoundedQueriesMiddleware",
    # At most STREAMS_PER_PROCESS downloads streamed at once (STREAMS_PER_CLIENT each).
    "config.middleware.StreamLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the session and CSRF middleware, so it sees the cookies they set.
    "config.middleware.ReaderCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session gave a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Where each request reads: a replica for readers, the primary for editors and writers.
    "config.replicas.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The admin asks for the second factor of those who set it up, and of superusers.
    "config.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records request.user on every history entry: "who changed what".
    "simple_history.middleware.HistoryRequestMiddleware",
    # Views' latencies by name, for /metrics (django-prometheus asks for it last, after
    # everything but django-axes, which insists on being last itself).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Answers a locked-out sign-in (see AXES_* below); last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp) on every response: scripts, styles, fonts and
# images from this site only, as served (no CDN); no inline scripts, no frames, no
# plugins. Swagger UI's script is served as a file (SpectacularSwaggerSplitView) and its
# icons are data: images; the pages embed ClaimReview as JSON-LD, which is not run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Signing in to the admin (django-axes; api.throttling.SignInHandler):
# - after AXES_FAILURE_LIMIT wrong passwords for one account from one address, that
#   account is locked for that address for an hour. Only for that address: locking the
#   account everywhere would let anyone lock an editor out, and locking the address would
#   lock every account behind a newsroom's shared NAT.
# - guessing one account from many addresses is slowed instead: from the
#   AXES_FAILURE_LIMIT-th failure (all addresses counted), each sign-in to that account
#   waits LOGIN_SLOWDOWN_SECONDS after the last failure, doubled at each further one up to
#   LOGIN_SLOWDOWN_MAX_SECONDS (429 with Retry-After); then the right password gets in.
#   An address the account signed in from before is not slowed.
# An administrator lifts both sooner by deleting the entries under Axes -> Access attempts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
# Two-factor sign-in (config.two_factor): required of superusers; each editor may turn it
# on. A wrong code counts as a failed sign-in above.
SUPERUSERS_REQUIRE_TWO_FACTOR = env_bool("SUPERUSERS_REQUIRE_TWO_FACTOR", True)
OTP_TOTP_ISSUER = "Claimtrail"
# Security keys (config.two_factor): a second factor after the password, never instead of
# it. Their relying party is the host the editor reached, or WEBAUTHN_RP_ID (a parent
# domain, for an admin served on several subdomains).
# The origin a key's signature must name is the one the request came to (its host checked
# against ALLOWED_HOSTS; a wrong scheme behind a proxy fails closed), so
# OTP_WEBAUTHN_ALLOWED_ORIGINS, which django-otp-webauthn checks for, is not used.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "config.two_factor.Helper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "config.two_factor.relying_party"
OTP_WEBAUTHN_RP_NAME = "Claimtrail"
WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID")
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused sign-in (locked or slowed) checks no password, so it is not counted: the hour
# runs from the last wrong password, and the slow-down grows only with guesses.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "api.throttling.SignInHandler"
LOGIN_SLOWDOWN_SECONDS = env_int("LOGIN_SLOWDOWN_SECONDS", 1)
LOGIN_SLOWDOWN_MAX_SECONDS = env_int("LOGIN_SLOWDOWN_MAX_SECONDS", 60)
# The client's address as the rate limits see it (NUM_PROXIES).
AXES_CLIENT_IP_CALLABLE = "api.throttling.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_LOCKOUT_CALLABLE = "api.throttling.sign_in_refused"
# Where signing in lands when its `next` is missing or refused (another site's address):
# the admin, rather than Django's /accounts/profile/, which this project does not have.
LOGIN_REDIRECT_URL = "admin:index"

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

# Read replicas (config/replicas.py; docs/deploy.md): PostgreSQL streaming replicas of the
# primary, comma-separated. Readers' requests read from one that answers and is at most
# REPLICA_MAX_LAG_SECONDS behind (each process looks every REPLICA_CHECK_SECONDS); a
# client that wrote reads the primary for REPLICA_READ_AFTER_WRITE_SECONDS.
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    _replica = dj_database_url.parse(
        _url, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must be postgres:// URLs.")
    # A replica that does not answer is skipped after this long, not waited for.
    _replica.setdefault("OPTIONS", {})["connect_timeout"] = env_int("REPLICA_CONNECT_TIMEOUT", 2)
    # In tests, a replica is the test database itself.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 10)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 2)
REPLICA_READ_AFTER_WRITE_SECONDS = env_int("REPLICA_READ_AFTER_WRITE_SECONDS", 30)
if REPLICA_READ_AFTER_WRITE_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS:
    # A replica may be this far behind before it is skipped: a writer pinned for less
    # could read from it before their write has arrived.
    raise ImproperlyConfigured(
        "REPLICA_READ_AFTER_WRITE_SECONDS must be at least REPLICA_MAX_LAG_SECONDS"
        " + REPLICA_CHECK_SECONDS."
    )
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]

# PgBouncer in transaction mode (docs/deploy.md): each transaction may run on another
# server connection, so nothing may outlive a transaction. With DATABASE_POOLING=transaction
# connections send no startup options (PgBouncer refuses them: set jit for the database
# instead) and Django's server-side cursors are off (one held open past its transaction
# would be looked for on another connection). Claimtrail's own code sets nothing for a
# session (SET LOCAL only), and its exports stream without cursors: COPY, or pages of ids.
DATABASE_POOLING = env_choice("DATABASE_POOLING", ("session", "transaction"))

# Nothing waits forever (config.bounds): a request's query waits at most this long on the
# primary, on a replica, and in /readyz's checks; a new connection, connect_timeout.
DATABASE_QUERY_WAIT_SECONDS = env_int("DATABASE_QUERY_WAIT_SECONDS", 30)
REPLICA_QUERY_WAIT_SECONDS = env_int("REPLICA_QUERY_WAIT_SECONDS", 5)
READYZ_WAIT_SECONDS = env_int("READYZ_WAIT_SECONDS", 2)
# How long a writer waits for another's row lock (sources/locks.py) before it is retried
# and then told "someone else was saving this".
DATABASE_LOCK_WAIT_SECONDS = env_int("DATABASE_LOCK_WAIT_SECONDS", 5)
# Streamed downloads (exports, snapshots) each hold a thread while their client reads:
# each process serves at most this many at once, and this many per client; past it, 429.
# Keep it below gunicorn's threads (GUNICORN_THREADS, 8), so others are always answered.
STREAMS_PER_PROCESS = env_int("STREAMS_PER_PROCESS", 4)
STREAMS_PER_CLIENT = env_int("STREAMS_PER_CLIENT", 2)

for _database in DATABASES.values():
    if _database["ENGINE"] != "django.db.backends.postgresql":
        continue
    # Django's backend, with each request's queries watched (config/postgresql/base.py).
    _database["ENGINE"] = "config.postgresql"
    _options = _database.setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    # A peer that vanished (a host gone, a network cut) is noticed in about a minute.
    _options.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
    if DATABASE_POOLING == "transaction":
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
    else:
        # PostgreSQL's JIT compiler spends about half a second compiling any query it
        # estimates as expensive: a loss for short web requests. PG_JIT=on brings it back.
        _options["options"] = f"-c jit={env_str('PG_JIT', 'off')}"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Uploaded files (source snapshots) go through STORAGES["default"]: local files here by
# default; a django-storages backend (S3 and the like) in production.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
SNAPSHOT_MAX_BYTES = env_int("SNAPSHOT_MAX_BYTES", 10 * 1024 * 1024)
# A snapshot's text is read in a child process (sources.snapshots) given at most this many
# seconds and bytes of memory: a file built to stall or swell a parser is refused in words.
SNAPSHOT_READ_SECONDS = env_int("SNAPSHOT_READ_SECONDS", 20)
SNAPSHOT_READ_MEMORY_BYTES = env_int("SNAPSHOT_READ_MEMORY_BYTES", 512 * 1024 * 1024)
if SNAPSHOT_READ_SECONDS < 1 or SNAPSHOT_READ_MEMORY_BYTES < 64 * 1024 * 1024:
    raise ImproperlyConfigured(
        "SNAPSHOT_READ_SECONDS must be at least 1, and SNAPSHOT_READ_MEMORY_BYTES at least "
        "67108864 (64 MB: the reader itself needs some)."
    )
# A quote not in its source's snapshot is "close" when a passage scores at least this
# (0 to 100; sources.quotes), else "not found".
QUOTE_CLOSE_SCORE = env_int("QUOTE_CLOSE_SCORE", 90)
if not 0 <= QUOTE_CLOSE_SCORE <= 100:
    raise ImproperlyConfigured("QUOTE_CLOSE_SCORE must be from 0 to 100.")
# Hosts of web archives beyond the Wayback Machine, archive.today and Perma.cc
# (sources.archives), comma-separated: a source's archive URL must be in one.
ARCHIVE_HOSTS = env_list("ARCHIVE_HOSTS")
# manage.py check_links: requests at once, seconds per link (redirects included), seconds
# between requests to one host, and who is asking.
LINK_CHECK_CONCURRENCY = env_int("LINK_CHECK_CONCURRENCY", 8)
LINK_CHECK_TIMEOUT = env_int("LINK_CHECK_TIMEOUT", 20)
LINK_CHECK_HOST_INTERVAL = env_int("LINK_CHECK_HOST_INTERVAL", 2)
# Links to loopback or private addresses are not fetched unless this is true (an intranet).
LINK_CHECK_ALLOW_PRIVATE = env_bool("LINK_CHECK_ALLOW_PRIVATE", False)
LINK_CHECK_USER_AGENT = env_str(
    "LINK_CHECK_USER_AGENT",
    "Claimtrail-LinkCheck/1.0 (checks that the sources a fact check cites are still online)",
)

# Background tasks (jobs.engine): in the database, run by `manage.py worker` processes.
# TASKS_BACKEND=immediate runs each task as it is enqueued, in the same process (tests).
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[env_choice("TASKS_BACKEND", ("database", "immediate"))],
        "QUEUES": [],
    }
}
# A task that fails for a passing reason is tried again after TASK_RETRY_SECONDS, doubled
# each time, at most TASK_MAX_ATTEMPTS times in all.
TASK_RETRY_SECONDS = env_int("TASK_RETRY_SECONDS", 60)
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 5)
# Each worker says it is alive every WORKER_HEARTBEAT_SECONDS; a task running on a worker
# silent for WORKER_LEASE_SECONDS (killed, its machine gone) is run again by another.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_LEASE_SECONDS = env_int("WORKER_LEASE_SECONDS", 120)
if not 0 < WORKER_HEARTBEAT_SECONDS < WORKER_LEASE_SECONDS:
    raise ImproperlyConfigured(
        "WORKER_HEARTBEAT_SECONDS must be above 0 and below WORKER_LEASE_SECONDS."
    )
# /readyz fails when no worker has beaten for WORKER_LEASE_SECONDS (a deployment whose
# captures would otherwise wait unseen).
TASKS_REQUIRE_WORKER = env_bool("TASKS_REQUIRE_WORKER", False)
# The watch over cited pages (claims.watch): every WATCH_INTERVAL_SECONDS (a day), each
# cited page fetched once, quotes changed at the source flagged. 0 turns it off.
WATCH_INTERVAL_SECONDS = env_int("WATCH_INTERVAL_SECONDS", 24 * 3600)
# Tasks enqueued by workers on a schedule: {task path: seconds between runs}.
TASK_SCHEDULE: dict[str, int] = {
    **({"claims.tasks.watch_sources": WATCH_INTERVAL_SECONDS} if WATCH_INTERVAL_SECONDS else {}),
    # Webhook deliveries whose task was never enqueued (webhooks.events).
    "webhooks.tasks.sweep": 300,
}
# Webhooks (webhooks/): how long a receiver has to answer a delivery, and the address of
# this site as the events' links give it.
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# A source saved with a URL and no snapshot is captured in the background (sources.capture):
# fetched within CAPTURE_TIMEOUT seconds in all and SNAPSHOT_MAX_BYTES, from public
# addresses only (LINK_CHECK_ALLOW_PRIVATE lets an intranet, or tests, through).
CAPTURE_ON_SAVE = env_bool("CAPTURE_ON_SAVE", True)
CAPTURE_TIMEOUT = env_int("CAPTURE_TIMEOUT", 30)
# Each capture also asks a web archive to save the page (sources.archive_requests) when
# ARCHIVE_SAVE_URL is set: a Save Page Now compatible endpoint (the Wayback Machine's is
# https://web.archive.org/save), with its keys from the environment. Off by default.
ARCHIVE_SAVE_URL = env_str("ARCHIVE_SAVE_URL")
ARCHIVE_ACCESS_KEY = env_str("ARCHIVE_ACCESS_KEY")
ARCHIVE_SECRET_KEY = env_str("ARCHIVE_SECRET_KEY")
CAPTURE_USER_AGENT = env_str(
    "CAPTURE_USER_AGENT",
    "Claimtrail-Capture/1.0 (keeps a copy of the pages a fact check cites)",
)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Long free-text claims and quotes are legitimate; a form with many inline citations
# can exceed Django's default of 1,000 fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True


def cache_settings(redis_url: str) -> dict[str, dict[str, object]]:
    """Redis when a URL is given, else a cache per process (fine for one process; set
    REDIS_URL so rate limits hold across workers)."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # Rate limits are all the cache holds, and they fail open (api.throttling):
            # a slow or absent Redis may cost a request a quarter of a second, no more.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }


CACHES = cache_settings(env_str("REDIS_URL"))

# /metrics (config/metrics.py) answers the bearer of this token; unset, it is off.
METRICS_TOKEN = env_str("METRICS_TOKEN")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.DjangoModelPermissionsOrAnonReadOnly",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_ANON_RATE", "60/minute"),
        "user": env_str("API_TOKEN_RATE", "1000/minute"),
        # Wrong API tokens from one client address; past it, any token from there is a 429
        # for the rest of the period (api.throttling.BadTokenThrottle).
        "bad_token": env_str("API_BAD_TOKEN_RATE", "20/minute"),
    },
    # Anonymous clients are counted by address. X-Forwarded-For is the client's to write,
    # so it is believed only as far as the proxies in front of us are known: with
    # NUM_PROXIES=N the address the Nth proxy from us saw; with 0 (the default) the socket's.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPagination",
    # Writes are JSON: a form encoding cannot carry a list of objects (a claim's citations),
    # and takes an empty field for one left out (`kind=` would become the default kind), so
    # it is refused (415). Only a snapshot's upload is multipart (api.views).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# On PostgreSQL, CSV exports stream COPY output; false forces the (slower) Python writer.
CSV_EXPORT_USE_COPY = env_bool("CSV_EXPORT_USE_COPY", default=True)
# PostgreSQL's work_mem for one CSV export (SET LOCAL, that statement only): its hash
# tables of claims, sources and chains. docs/performance.md has the figures.
CSV_EXPORT_WORK_MEM = env_str("CSV_EXPORT_WORK_MEM", "256MB")
_work_mem = re.fullmatch(r"([1-9][0-9]{0,9})(kB|MB|GB)", CSV_EXPORT_WORK_MEM)
if not _work_mem or int(_work_mem[1]) * {"kB": 1, "MB": 1024, "GB": 1024**2}[_work_mem[2]] < 64:
    raise ImproperlyConfigured(
        "CSV_EXPORT_WORK_MEM must be a size of 64kB or more, such as 256MB or 1GB, "
        f"not {CSV_EXPORT_WORK_MEM!r}."
    )

# Editors' CSV import (django-import-export): in one transaction, for anyone who may add.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
# The most rows one imported file may have: a larger one is refused whole, in words,
# before any row is read (split it), so a preview ends within the request's time.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 500)

# The full-text index `migrate` creates on PostgreSQL: "auto" is RUM where the extension
# can be created, GIN otherwise; "gin" always GIN (CI runs the search tests on both).
SEARCH_INDEX = env_choice("SEARCH_INDEX", ("auto", "gin"))

# How long a shared cache (a proxy or CDN) may keep an anonymous reader's response.
HTTP_CACHE_SECONDS = env_int("HTTP_CACHE_SECONDS", 60)

# How many independent origins (claims.rules: where citations' paths end) a claim's
# supporting evidence needs before a "supported" verdict is published, at every door.
PUBLISH_MIN_SUPPORTING_ORIGINS = env_int("PUBLISH_MIN_SUPPORTING_ORIGINS", 1)
if PUBLISH_MIN_SUPPORTING_ORIGINS < 1:
    raise ImproperlyConfigured("PUBLISH_MIN_SUPPORTING_ORIGINS must be 1 or more.")

# Whether a verdict (a claim's rating, rationale and citations) is published only once an
# editor other than the last one to change it has signed it off (claims.workflow), at
# every door. Off: one editor may publish their own work (a desk of one).
PUBLISH_REQUIRES_SECOND_EDITOR = env_bool("PUBLISH_REQUIRES_SECOND_EDITOR", True)

# Where the CSV exports' data package is served (api.urls' "datapackage"; a test checks):
# every CSV response links to it. sources.exports reads it here, rather than reverse() a
# route of a layer above it, and hands it to the export engine as a parameter.
DATA_PACKAGE_PATH = "/api/v1/datapackage.json"

# Named as the author of every ClaimReview: the organization publishing the reviews.
CLAIMREVIEW_AUTHOR = env_str("CLAIMREVIEW_AUTHOR", "Claimtrail")

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "api.exceptions.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Claimtrail API",
    "DESCRIPTION": (
        "Claims with who made them, when, and every citation with its reliability note, "
        "each source with its provenance back to primary sources. Anonymous clients read "
        "published claims; journalists use a token (`Authorization: Bearer <token>`) "
        "issued by an editor; editors can also write."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Without deep links an operation's path is text, not a link inside its toggle button
    # (axe: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-standardized-errors documents its error codes as enums; name them once.
    "ENUM_NAME_OVERRIDES": {
        "PersonKindEnum": "sources.models.PersonKind",
        "SourceKindEnum": "sources.models.SourceKind",
        "ReliabilityEnum": "sources.models.Reliability",
        "RatingEnum": "claims.models.Rating",
        "StateEnum": "claims.models.State",
        "ValidationErrorEnum": (
            "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices"
        ),
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "api.schema.indexed_error_attrs",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
