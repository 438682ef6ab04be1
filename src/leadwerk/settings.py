"""Leadwerk settings: one module, every value read from the environment.

A bad value stops start-up with a message that names the variable
(``ImproperlyConfigured``). See README.md for the table of variables.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent

ENVIRONMENTS = ("development", "production", "test")


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


LEADWERK_ENV = env_str("LEADWERK_ENV", "development")
if LEADWERK_ENV not in ENVIRONMENTS:
    raise ImproperlyConfigured(f"LEADWERK_ENV must be one of {', '.join(ENVIRONMENTS)}, not {LEADWERK_ENV!r}.")
PRODUCTION = LEADWERK_ENV == "production"
TESTING = LEADWERK_ENV == "test"

DATA_DIR = Path(env_str("LEADWERK_DATA_DIR", "var")).resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"LEADWERK_DATA_DIR {str(DATA_DIR)!r} cannot be created: {exc}") from exc

DEBUG = env_bool("LEADWERK_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("LEADWERK_DEBUG must not be on when LEADWERK_ENV=production.")

# --- secret key -------------------------------------------------------------
SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when LEADWERK_ENV=production.")
    # Local and demo use: generate once, keep it beside the database.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()
elif len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")

ALLOWED_HOSTS = env_list(
    "LEADWERK_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("LEADWERK_ALLOWED_HOSTS must name the host(s) when LEADWERK_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("LEADWERK_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("LEADWERK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Defaults for `leadwerk serve` (and `leadwerk demo`); command-line options override them.
SERVE_HOST = env_str("LEADWERK_HOST", "127.0.0.1")
SERVE_PORT = env_int("LEADWERK_PORT", 8000, minimum=1)
if SERVE_PORT > 65535:
    raise ImproperlyConfigured("LEADWERK_PORT must be between 1 and 65535.")
SERVE_WORKERS = env_int("LEADWERK_WEB_WORKERS", 1, minimum=1)

# --- apps -------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "auditlog",
    "huey.contrib.djhuey",
    "leadwerk.core",
    "leadwerk.accounts",
    "leadwerk.contacts",
    "leadwerk.leads",
    "leadwerk.imports",
    "leadwerk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadwerk.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadwerk.urls"
WSGI_APPLICATION = "leadwerk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadwerk.navigation.shell",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'leadwerk.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0 if TESTING else 60, conn_health_checks=True)
except Exception as exc:  # dj-database-url raises several types for bad URLs
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if TESTING else 600
    # WAL is switched on per connection in core.apps; IMMEDIATE transactions and a
    # busy timeout let the web server and the worker write side by side, and the backend
    # queues write transactions in turn (core/sqlite/base.py).
    _db["ENGINE"] = "leadwerk.core.sqlite"
    # Tests run on an in-memory database per process (Django's default for SQLite; said outright because
    # pytest-django recognises SQLite by Django's engine name only).
    _db["TEST"] = {"NAME": ":memory:"}
    _db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
elif _db["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to SQLite (sqlite:///…) or PostgreSQL (postgres://…).")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs ----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
HUEY_NAME = env_str("LEADWERK_HUEY_NAME", "leadwerk")
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": HUEY_NAME, "url": REDIS_URL}
else:
    HUEY = {"huey_class": "huey.SqliteHuey", "name": HUEY_NAME, "filename": str(DATA_DIR / "huey.sqlite3")}
# Tests run tasks at once, but through the real storage (SQLite file or Redis).
HUEY |= {"immediate": TESTING, "immediate_use_memory": False, "utc": True}
HUEY["consumer"] = {"workers": env_int("LEADWERK_WORKER_THREADS", 2, minimum=1), "worker_type": "thread"}
# Size of the demo tenants in percent (100: 20,000 people and 5,000 leads each); smaller loads faster.
DEMO_PERCENT = env_int("LEADWERK_DEMO_PERCENT", 100, minimum=1)
TASKS = {
    "default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend", "OPTIONS": {"enqueue_on_commit": True}}
}

# --- cache --------------------------------------------------------------------
if REDIS_URL:
    # The key prefix keeps parallel test runs (and several installations on one Redis) apart.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": HUEY_NAME,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only: speed
    if TESTING
    else ["django.contrib.auth.hashers.Argon2PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "leadwerk.accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Leadwerk] "
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Leadwerk"
AXES_FAILURE_LIMIT = env_int("LEADWERK_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_ENABLED = not TESTING or env_bool("LEADWERK_AXES_IN_TESTS", False)
# Behind N reverse proxies, the client address is the N-th from the right in X-Forwarded-For.
PROXY_COUNT = env_int("LEADWERK_PROXY_COUNT", 0)
if PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
USE_THOUSAND_SEPARATOR = True
LANGUAGE_COOKIE_NAME = "leadwerk_language"

# --- static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- mail -----------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587, minimum=1),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
            },
        }
    }
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST must name the SMTP server when LEADWERK_ENV=production.")
else:
    # No SMTP configured (local and demo use): mails are printed to the console.
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Leadwerk <leadwerk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security ---------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("LEADWERK_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("LEADWERK_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- audit ----------------------------------------------------------------------
AUDITLOG_LOGENTRY_MODEL = "accounts.AuditEntry"
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LEADWERK_LOG_LEVEL", "INFO")},
    # huey's consumer adds its own handler; do not print its lines twice.
    "loggers": {"axes": {"level": "WARNING"}, "huey": {"level": "INFO", "propagate": False}},
}

# --- lead scoring -------------------------------------------------------------------
# A recompute of 100,000 leads or more splits its id range over this many processes (1: in the calling
# process). Each child starts Django (about 5 s of CPU here), so it pays off only with free cores.
SCORING_PROCESSES = env_int("LEADWERK_SCORING_PROCESSES", 1, minimum=1)

# --- imports (see imports/README in docs: files are kept IMPORT_KEEP_DAYS, then deleted with their job) ---
IMPORT_DIR = DATA_DIR / "imports"
IMPORT_MAX_BYTES = env_int("LEADWERK_IMPORT_MAX_MB", 500, minimum=1) * 1024 * 1024
IMPORT_CHUNK_ROWS = env_int("LEADWERK_IMPORT_CHUNK_ROWS", 5000, minimum=1)
IMPORT_DRY_RUN_ROWS = env_int("LEADWERK_IMPORT_DRY_RUN_ROWS", 20000, minimum=1)
# 2: a large file's rows are normalised one chunk ahead in a second process (imports/preparing.py); 1: not.
IMPORT_PROCESSES = env_int("LEADWERK_IMPORT_PROCESSES", 2, minimum=1)
IMPORT_KEEP_DAYS = env_int("LEADWERK_IMPORT_KEEP_DAYS", 30, minimum=1)

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
