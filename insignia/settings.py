"""Django settings, read from the environment (see README, "Configuration").

``INSIGNIA_ENV`` is ``development`` (default; ``make run``), ``test`` (``make test``) or
``production``. Development reads defaults from ``var/dev.env``, which ``make run`` writes
once, so ``manage.py`` run by hand uses the same database, keys and base URL as the server.
Outside development and test, ``SECRET_KEY``, ``INSIGNIA_KEY_ENCRYPTION_KEY``,
``INSIGNIA_BASE_URL`` and ``DATABASE_URL`` are required.

About 570 lines: every setting is here once, with the comment saying why it has its value.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from insignia.env import Env, environ, read_env_file

# Lets admin.ModelAdmin[Model] and other generic annotations work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

_bootstrap = Env(environ())
INSIGNIA_ENV = _bootstrap.choice(
    "INSIGNIA_ENV", ("development", "test", "production"), "development"
)
DEVELOPMENT = INSIGNIA_ENV == "development"
TESTING = INSIGNIA_ENV == "test"
PRODUCTION = INSIGNIA_ENV == "production"

env = Env(environ(), read_env_file(VAR_DIR / "dev.env") if DEVELOPMENT else None)

# Fixed, public values for the test suite only; development gets random ones from var/dev.env.
_TEST_SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789"  # noqa: S105 - public test value
_TEST_KEY_ENCRYPTION_KEY = (
    "dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI"  # base64url of 32 test bytes
)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    INSIGNIA_KEY_ENCRYPTION_KEY: str | None = env.str("INSIGNIA_KEY_ENCRYPTION_KEY")
elif TESTING:
    SECRET_KEY = env.str("SECRET_KEY", _TEST_SECRET_KEY)
    INSIGNIA_KEY_ENCRYPTION_KEY = env.str("INSIGNIA_KEY_ENCRYPTION_KEY", _TEST_KEY_ENCRYPTION_KEY)
else:
    SECRET_KEY = env.optional_str("SECRET_KEY") or ""
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and var/dev.env is missing: run `make run` once, or "
            "`python -m insignia.devenv`, or set INSIGNIA_ENV and SECRET_KEY yourself."
        )
    # Signing fails closed at the point of use when this is missing (never at import time).
    INSIGNIA_KEY_ENCRYPTION_KEY = env.optional_str("INSIGNIA_KEY_ENCRYPTION_KEY")

DEBUG = env.bool("DEBUG", DEVELOPMENT)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when INSIGNIA_ENV=production.")

# The public origin used in every URL and identifier the platform issues (DIDs, credential ids).
INSIGNIA_BASE_URL = env.str(
    "INSIGNIA_BASE_URL", None if PRODUCTION else f"http://127.0.0.1:{env.int('PORT', 8000)}"
).rstrip("/")
_base = urlsplit(INSIGNIA_BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname or _base.path not in {"", "/"}:
    raise ImproperlyConfigured(
        f"INSIGNIA_BASE_URL={INSIGNIA_BASE_URL!r} must be an origin like https://badges.example.edu"
    )
if PRODUCTION and _base.scheme != "https":
    raise ImproperlyConfigured("INSIGNIA_BASE_URL must use https in production.")

ALLOWED_HOSTS = [_base.hostname, *env.list("ALLOWED_HOSTS")]
if not PRODUCTION:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}", *env.list("CSRF_TRUSTED_ORIGINS")]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_countries",
    "insignia",
    "rest_framework",
    "drf_spectacular",
    "oauth2_provider",
    "axes",  # sign-in throttling: accounts.throttling
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes, stored hashed: accounts.otp
    # Apps from the bottom layer up (DESIGN.md §3; the import contracts in .importlinter).
    "accounts",
    "issuers",
    "events",
    "badges",
    "verification",
    "frameworks",
    "endorsements",
    "achievements",
    "awarding",
    "earners",
    "signon",
    "sharing",
    "wallets",
    "webhooks",
    "integrations",
    "ob3api",
    "lti",
    "analytics",
]

MIDDLEWARE = [
    "insignia.middleware.HealthCheckMiddleware",
    # Outside the rest, so every answer (https redirects, static files, refusals) has a CSP.
    "insignia.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A client already over its verify limit is refused here, before sessions or its body.
    "verification.middleware.VerifyFloodMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "issuers.permissions.RoleCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with the cool-down page.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected static files itself; runserver and tests use finders.
    _after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
    MIDDLEWARE.insert(_after_security, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "insignia.urls"
WSGI_APPLICATION = "insignia.wsgi.application"

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
                "insignia.context_processors.site",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'insignia.sqlite3'}"
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL", None if PRODUCTION else _default_db),
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite (`make run`) ignores an index's covering columns (INCLUDE), which only the awards
# list's "expired" filter at PostgreSQL volumes needs; its warning would greet every start.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing cost is not what the suite tests; keep it fast.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "manage:login"
LOGIN_REDIRECT_URL = "manage:home"
LOGOUT_REDIRECT_URL = "manage:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Sign-in that resists guessing (accounts.throttling). django-axes counts failed
# password sign-ins on every form (staff, learner, admin) in the database and refuses a
# sign-in, even with the right password, until the cool-down has passed: after
# AXES_FAILURE_LIMIT failures for one address from anywhere, or after
# INSIGNIA_SIGNIN_FAILURES_PER_CLIENT failures for one address from one client. The client is
# found as for the verifier's limits (INSIGNIA_TRUSTED_PROXIES).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", True)
AXES_HANDLER = "accounts.throttling.SignInAttempts"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 20)
INSIGNIA_SIGNIN_FAILURES_PER_CLIENT = env.int("INSIGNIA_SIGNIN_FAILURES_PER_CLIENT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 15))
# A locked-out attempt is not counted, so the cool-down the page announces is the real one.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.throttling.username_of"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Password reset and learner sign-up e-mail an address: per client and per address, in a
# fixed window (seconds), counted in the cache like the verifier's limits.
INSIGNIA_ACCOUNT_MAIL_WINDOW = env.int("INSIGNIA_ACCOUNT_MAIL_WINDOW", 60 * 60)
INSIGNIA_ACCOUNT_MAIL_PER_CLIENT = env.int("INSIGNIA_ACCOUNT_MAIL_PER_CLIENT", 10)
INSIGNIA_ACCOUNT_MAIL_PER_ADDRESS = env.int("INSIGNIA_ACCOUNT_MAIL_PER_ADDRESS", 3)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The __Host- prefix under production, as for the session cookie ("Security headers" below).
LANGUAGE_COOKIE_NAME = "__Host-insignia_language" if PRODUCTION else "insignia_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True  # read by the server only (LocaleMiddleware)
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail: console in development, SMTP when EMAIL_URL-like settings are given.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.optional_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env.optional_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
# Seconds before a mail server that stopped answering is given up on (the notification's row
# stays locked while a send waits; the sweeper retries it later).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", f"Insignia <no-reply@{_base.hostname}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis in production; development and tests run tasks in-process unless a broker is set.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", None if PRODUCTION else "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", not PRODUCTION and not env.raw("CELERY_BROKER_URL")
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The sweeper re-enqueues bulk batches and e-mails whose tasks were lost; reminders
# go to learners who have not claimed their badge (DESIGN.md §8).
CELERY_BEAT_SCHEDULE = {
    "sweep-bulk-batches": {
        "task": "awarding.bulk.tasks.sweep_bulk_batches",
        "schedule": float(env.int("BULK_SWEEP_SECONDS", 60)),
    },
    "send-claim-reminders": {
        "task": "badges.notifications.tasks.send_claim_reminders",
        "schedule": 3600.0,
    },
    # Imported badges are re-verified (revocation, expiry) at least daily.
    "recheck-imported-badges": {"task": "earners.tasks.recheck_imports", "schedule": 3600.0},
    # Evidence behind granted recognition decisions is re-verified at least daily.
    "recheck-recognition-evidence": {
        "task": "frameworks.recognition.tasks.recheck_recognition_evidence",
        "schedule": 3600.0,
    },
    # Webhooks: retries and deliveries whose worker died; award.expired; old events pruned.
    "deliver-webhooks": {
        "task": "webhooks.tasks.deliver_due",
        "schedule": float(env.int("WEBHOOK_SWEEP_SECONDS", 10)),
    },
    "emit-expired-awards": {"task": "webhooks.tasks.emit_expired", "schedule": 300.0},
    # Status lists signed again an hour before a request would have to (badges.statuslists).
    "sign-due-status-lists": {
        "task": "badges.statuslists.tasks.sign_due_lists",
        "schedule": 3600.0,
    },
    # Badge page views buffered in Redis become ViewEvent rows (earners.viewcounts).
    "flush-view-counts": {
        "task": "earners.tasks.flush_view_counts",
        "schedule": float(env.int("VIEW_FLUSH_SECONDS", 10)),
    },
    "prune-webhook-events": {"task": "webhooks.tasks.prune_events", "schedule": 3600.0},
    # Console analytics: what happened since the last fold added to the daily rollups.
    "fold-analytics": {
        "task": "analytics.tasks.fold_analytics",
        "schedule": float(env.int("ANALYTICS_FOLD_SECONDS", 60)),
    },
    # Campus sign-on: identity providers' metadata re-read daily; SAML keys rotated in time.
    "refresh-signon-metadata": {"task": "signon.tasks.refresh_metadata", "schedule": 3600.0},
    "rotate-signon-keys": {"task": "signon.tasks.rotate_sp_keys", "schedule": 86400.0},
    "sync-lti-courses": {
        "task": "lti.tasks.sync_courses",
        "schedule": float(env.int("LTI_SYNC_SECONDS", 900)),
    },
    "rotate-lti-keys": {"task": "lti.tasks.rotate_tool_keys", "schedule": 86400.0},
}
# Webhooks (Standard Webhooks): seconds per POST; a delivery's lease (longer than a POST, so
# only a dead worker's delivery is taken again); hours of retries before a delivery is dead;
# an endpoint is disabled after this many dead deliveries in a row or hours of failures; the
# old secret keeps signing this long after a rotation; events are kept this many days.
WEBHOOK_TIMEOUT_SECONDS = float(env.int("WEBHOOK_TIMEOUT_SECONDS", 10))
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", 60)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", 24)
WEBHOOK_DISABLE_AFTER_DEAD = env.int("WEBHOOK_DISABLE_AFTER_DEAD", 5)
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", 72)
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", 24)
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", 30)
# Receivers must speak https in production (elsewhere http is allowed for trying things out).
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", PRODUCTION)
RECOGNITION_RECHECK_HOURS = env.int("RECOGNITION_RECHECK_HOURS", 24)
BULK_CHUNK = env.int("BULK_CHUNK", 250)  # rows per transaction, at most 1000
# Threads per issuing task, each with its own connection: one signs while another waits on
# PostgreSQL (awarding.bulk.services.issue_pending); 1 on SQLite whatever this says.
BULK_LANES = env.int("BULK_LANES", 2)
BULK_PARALLEL_TASKS = env.int("BULK_PARALLEL_TASKS", 2)  # tasks started per batch
BULK_STALE_SECONDS = env.int("BULK_STALE_SECONDS", 120)  # quiet this long → re-enqueued
BULK_MAX_ROWS = env.int("BULK_MAX_ROWS", 10_000)
# Bounds on a bulk upload (console and API), checked before and while it is parsed
# (``awarding.bulk.readers``/``parse``, ``common.spreadsheets``): the file's size; lines read
# at all, blank ones included; columns read; characters in one value (longer values are row
# errors; the csv module refuses values past 131,072 characters outright, and a CSV line past
# columns x characters is refused before it is split). An XLSX file is a zip archive: its
# parts' declared sizes unpacked in all, any part over 1 MiB compressed more than this ratio,
# its number of parts, shared strings and cells (openpyxl parses ~100,000 cells a second, even
# past the columns read) are checked before openpyxl opens it.
BULK_MAX_UPLOAD_BYTES = env.int("BULK_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
BULK_MAX_LINES = env.int("BULK_MAX_LINES", 20_000)
BULK_MAX_COLUMNS = env.int("BULK_MAX_COLUMNS", 100)
BULK_MAX_FIELD_CHARS = env.int("BULK_MAX_FIELD_CHARS", 10_000)
BULK_XLSX_MAX_UNCOMPRESSED_BYTES = env.int("BULK_XLSX_MAX_UNCOMPRESSED_BYTES", 50 * 1024 * 1024)
BULK_XLSX_MAX_RATIO = env.int("BULK_XLSX_MAX_RATIO", 100)
BULK_XLSX_MAX_MEMBERS = env.int("BULK_XLSX_MAX_MEMBERS", 1_000)
BULK_XLSX_MAX_SHARED_STRINGS = env.int("BULK_XLSX_MAX_SHARED_STRINGS", 150_000)
BULK_XLSX_MAX_CELLS = env.int("BULK_XLSX_MAX_CELLS", 150_000)  # 10,000 rows x 15 columns
CLAIM_REMINDER_DAYS = env.int("CLAIM_REMINDER_DAYS", 7)
# Without a broker (make run), issue bulk batches in a background thread so the console's
# progress bar moves; tests run them in-process and synchronously.
BULK_BACKGROUND_THREAD = env.bool(
    "BULK_BACKGROUND_THREAD", DEVELOPMENT and CELERY_TASK_ALWAYS_EAGER
)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API caller becomes an ``integrations.auth.Caller``: an OAuth 2.0 access token, an
    # issuer token (``ins_…``), a staff token (``Authorization: Token …``) or a session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.auth.OAuthAuthentication",
        "integrations.auth.IssuerTokenAuthentication",
        "integrations.auth.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's defaults, with a JSON parser that answers deep nesting with a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# The OAuth 2.0 authorisation server (django-oauth-toolkit). Tokens are stored only as their
# SHA-256 (RFC 9700 storage); client secrets are hashed. Scopes are listed in
# ``integrations.oauth.scopes``; a token may narrow them further to named issuers.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named by our migrations
OAUTH2_PROVIDER = {
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "PKCE_REQUIRED": True,
    "ALLOWED_CODE_CHALLENGE_METHODS": ["S256"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_REFRESH_TOKEN_SECONDS", 90 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "SCOPES_BACKEND_CLASS": "integrations.oauth.scopes.ScopesBackend",
    "OAUTH2_VALIDATOR_CLASS": "integrations.oauth.validators.Validator",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if not PRODUCTION else ["https"],
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
}
SPECTACULAR_SETTINGS = {
    # Choice sets sharing a field name get names of their own (``integrations.v1.docs``).
    "ENUM_NAME_OVERRIDES": {
        "AwardStateEnum": "integrations.v1.docs.AWARD_STATE_VALUES",
        "BatchStateEnum": "integrations.v1.docs.BATCH_STATE_VALUES",
        "RowStateEnum": "integrations.v1.docs.ROW_STATE_VALUES",
        "VersionStatusEnum": "integrations.v1.docs.VERSION_STATUS_VALUES",
    },
    "TITLE": "Insignia API",
    "DESCRIPTION": "Issue, manage and verify Open Badges 3.0 micro-credentials.",
    "VERSION": "1",
}

# Wallet delivery (OID4VCI and the Learner Credential Wallet): how long an offer, an access
# token and a proof nonce live, and how many wrong transaction codes lock an offer.
INSIGNIA_WALLET_OFFER_SECONDS = env.int("INSIGNIA_WALLET_OFFER_SECONDS", 10 * 60)
INSIGNIA_WALLET_TOKEN_SECONDS = env.int("INSIGNIA_WALLET_TOKEN_SECONDS", 5 * 60)
INSIGNIA_WALLET_NONCE_SECONDS = env.int("INSIGNIA_WALLET_NONCE_SECONDS", 5 * 60)
INSIGNIA_WALLET_TX_CODE_TRIES = env.int("INSIGNIA_WALLET_TX_CODE_TRIES", 3)
# Send a transaction code by e-mail with each OID4VCI offer (a second factor to the QR code).
INSIGNIA_WALLET_TX_CODE = env.bool("INSIGNIA_WALLET_TX_CODE", True)

# Upload limits for logos and issuer images (bytes, pixels per side).
INSIGNIA_MAX_IMAGE_BYTES = env.int("INSIGNIA_MAX_IMAGE_BYTES", 1024 * 1024)
INSIGNIA_MAX_IMAGE_PIXELS = env.int("INSIGNIA_MAX_IMAGE_PIXELS", 2048)

# Cache: shared rate-limit counters. Redis in production (CACHE_URL or REDIS_URL), local memory
# otherwise (one process: limits are then per process).
_cache_url = env.optional_str("CACHE_URL") or env.optional_str("REDIS_URL")
CACHES: dict[str, Any] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            # A Redis that stops answering costs at most a second, then the rate limits
            # refuse (common/ratelimit.py) instead of requests hanging on it.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Badge page views are counted in this Redis and flushed into the database in batches
# (earners.viewcounts); without one (make run, tests) each view is inserted directly.
INSIGNIA_VIEW_BUFFER_URL = env.optional_str("INSIGNIA_VIEW_BUFFER_URL") or _cache_url or ""
# Two deployments (or a benchmark beside a server) sharing one Redis database need their own.
INSIGNIA_VIEW_BUFFER_KEY = env.str("INSIGNIA_VIEW_BUFFER_KEY", "insignia:views")

# Verifier (verification app): per-client limits per minute, concurrent verifications per
# process before shedding with 429, and the safe fetcher's total deadline in seconds.
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (0: use the peer address).
INSIGNIA_TRUSTED_PROXIES = env.int("INSIGNIA_TRUSTED_PROXIES", 0)
# Fonts for the generated share cards; empty means Noto Sans CJK from the system.
INSIGNIA_CARD_FONT = env.optional_str("INSIGNIA_CARD_FONT") or ""
INSIGNIA_CARD_FONT_BOLD = env.optional_str("INSIGNIA_CARD_FONT_BOLD") or ""
# Fonts for the PDF certificates; empty means Noto Sans CJK from the system, else the bundled
# subset in static/fonts (earners.pdf).
INSIGNIA_PDF_FONT = env.optional_str("INSIGNIA_PDF_FONT") or ""
INSIGNIA_PDF_FONT_BOLD = env.optional_str("INSIGNIA_PDF_FONT_BOLD") or ""
INSIGNIA_VERIFY_RATE_LIMIT = env.int("INSIGNIA_VERIFY_RATE_LIMIT", 60)
INSIGNIA_RECIPIENT_RATE_LIMIT = env.int("INSIGNIA_RECIPIENT_RATE_LIMIT", 10)
INSIGNIA_VERIFY_MAX_IN_FLIGHT = env.int("INSIGNIA_VERIFY_MAX_IN_FLIGHT", 4)
# One client's verifications running at once, across every web process (S-19).
INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT = env.int("INSIGNIA_VERIFY_MAX_IN_FLIGHT_PER_CLIENT", 2)
INSIGNIA_FETCH_DEADLINE = 10.0
# One budget per verification (verification.budget), whatever the entry point (page, API,
# CLI, backpack import, recognition evidence, re-checks): a wall-clock deadline in seconds for
# the whole run, which every fetch inside it shares (each gets what is left, at most
# INSIGNIA_FETCH_DEADLINE), and caps on the fetches and endorsements one run may make/check.
# 15 s lets a credential, its key, status list and a few endorsements load from a slow host
# while a verification slot (INSIGNIA_VERIFY_MAX_IN_FLIGHT) is never held much longer.
# Exceeding any gives the verdict "took too long to check" / "too complex to check".
INSIGNIA_VERIFY_DEADLINE = float(env.int("INSIGNIA_VERIFY_DEADLINE", 15))
INSIGNIA_VERIFY_MAX_FETCHES = env.int("INSIGNIA_VERIFY_MAX_FETCHES", 40)
INSIGNIA_VERIFY_MAX_ENDORSEMENTS = env.int("INSIGNIA_VERIFY_MAX_ENDORSEMENTS", 10)
# Tests only: {"host[:port]": "127.0.0.1:<port>"} lets the fetcher reach a loopback test
# server standing in for that host. Never set in production.
INSIGNIA_FETCH_ALLOWLIST: dict[str, str] = {}
if DEVELOPMENT:
    # Trying campus sign-on under `make run` with an identity provider on this machine
    # (README, "Campus sign-on"): "127.0.0.1:8091" lets the server read its metadata.
    INSIGNIA_FETCH_ALLOWLIST = {h: h for h in env.list("INSIGNIA_DEV_LOOPBACK_HOSTS", [])}
# Trusted-issuer registries (verification.registries), most authoritative first: the issuer
# check of every verification says "listed in: …" or warns "not listed" (never a failure).
# JSON, [{"name": "…", "url": "https://…/registry.json"}], DCC known-issuer registries
# ("dcc-legacy" format); "url": "own" is this platform's own registry (/registry/issuers.json),
# read from the database; {"name", "type": "oidf", "trustAnchorEC": "https://…"} an OpenID
# Federation registry (signed entity statements). The default is only our own: no outside
# registry is vouched for unless an operator names it. "[]" turns the check off.
INSIGNIA_REGISTRY_NAME = env.str("INSIGNIA_REGISTRY_NAME", f"{_base.hostname} issuer registry")
_registries_text = env.optional_str("INSIGNIA_ISSUER_REGISTRIES")
try:
    INSIGNIA_ISSUER_REGISTRIES: list[dict[str, str]] = (
        json.loads(_registries_text)
        if _registries_text
        else [{"name": INSIGNIA_REGISTRY_NAME, "url": "own"}]
    )
except ValueError as _error:
    raise ImproperlyConfigured(f"INSIGNIA_ISSUER_REGISTRIES is not JSON: {_error}") from None
if not isinstance(INSIGNIA_ISSUER_REGISTRIES, list) or not all(
    isinstance(r, dict)
    and isinstance(r.get("name"), str)
    and isinstance(r.get("url", r.get("trustAnchorEC")), str)
    for r in INSIGNIA_ISSUER_REGISTRIES
):
    raise ImproperlyConfigured('INSIGNIA_ISSUER_REGISTRIES must be [{"name": …, "url": …}, …]')
# A registry is downloaded again after this many seconds; when it cannot be, the last copy is
# used for up to INSIGNIA_REGISTRY_STALE_SECONDS (with a warning), then it counts as unreachable.
INSIGNIA_REGISTRY_CACHE_SECONDS = env.int("INSIGNIA_REGISTRY_CACHE_SECONDS", 3600)
INSIGNIA_REGISTRY_STALE_SECONDS = env.int("INSIGNIA_REGISTRY_STALE_SECONDS", 24 * 3600)
# A registry larger than this is refused (DCC's community registry is about 6 KiB).
INSIGNIA_REGISTRY_MAX_BYTES = env.int("INSIGNIA_REGISTRY_MAX_BYTES", 2 * 1024 * 1024)
# Seconds one registry download may take (less when the verification has less time left).
INSIGNIA_REGISTRY_FETCH_DEADLINE = 5.0
# JSON request bodies of our DRF views (``common.parsers.JSONParser``): deeper nesting is a 400.
INSIGNIA_JSON_MAX_DEPTH = 128
# 7 MiB: the API takes a 5 MiB image as base64 (about 6.7 MiB) and answers its own errors.
DATA_UPLOAD_MAX_MEMORY_SIZE = 7 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security headers and cookies (tests/security/test_headers_cookies.py crawls every page for
# them; `check --deploy` is clean with production settings, tests/test_settings.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The Content-Security-Policy of every page (insignia.middleware): scripts, requests, frames
# and fonts from this server only, no inline script and no eval (every script is a file under
# static/js; htmx's eval and injected styles are off, base.html), images also as data: URLs,
# styles also inline (style= attributes), no plugins, no <base>, no framing. No form-action:
# the auto-posting pages (templates/auto_post.html) send a deep-linking answer to the LMS, and
# sign-in forms are redirected to the campus identity provider, which form-action would block.
# The pages an LMS opens in a frame (the LTI login, launch and dynamic registration,
# @xframe_options_exempt) may be framed from any https page: an LMS frames them from its own
# host, which may be none of the URLs it registered (Canvas's issuer is canvas.instructure.com,
# its pages each school's host); a test LMS on this machine serves plain http.
# Images also from the base URL's origin: badge images are linked by absolute URL (credentials).
INSIGNIA_CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; "
    f"img-src 'self' data: {_base.scheme}://{_base.netloc}; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
INSIGNIA_LMS_FRAME_ANCESTORS = "https:" if PRODUCTION else "http: https:"
# Cookies: the session's, the CSRF token's and the language's are read by the server only
# (the CSRF token reaches htmx from the page, base.html), never sent on another site's POST
# (Lax), and under production https-only with the __Host- prefix (no Domain, Path=/, so no
# subdomain can set or shadow them). The campus sign-on and LTI cookies are set by their views
# (signon, lti): HttpOnly, Secure over https, Lax (LTI: None over https, its launch is a
# cross-site POST). Django's messages cookie takes the session cookie's flags.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Renaming signs everyone out once, on the first deployment with these names.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
}
