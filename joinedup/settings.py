"""JoinedUp settings. Every deployment knob is an environment variable; see `.env.example`."""

import hmac
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from joinedup.lib.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("JOINEDUP_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Development is the default so a fresh clone runs with one command; production sets DEBUG=0.
DEBUG = env_bool("DEBUG", True)

_DEV_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if not _DEV_KEY_FILE.exists():
        _DEV_KEY_FILE.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _DEV_KEY_FILE.read_text().strip()
elif not DEBUG and SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY is the development default; set a real one.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "django_htmx",
    "ninja",
    "django_tasks_db",
    "health_check",
    "oauth2_provider",
    "joinedup.people",
    "joinedup.audit",
    "joinedup.consent",
    "joinedup.record",
    "joinedup.referrals",
    "joinedup.measures",
    "joinedup.evaluation",
    "joinedup.risk",
    "joinedup.portal",
    "joinedup.feedback",
    "joinedup.reminders",
    "joinedup.messaging",
    "joinedup.governance",
    "joinedup.fhir",
    "joinedup.api",
    "joinedup.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "joinedup.people.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "joinedup.people.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "joinedup.people.middleware.RequestIdMiddleware",
    "joinedup.people.middleware.StaffSecurityMiddleware",
    "joinedup.errors.BadInputMiddleware",
]

ROOT_URLCONF = "joinedup.urls"
WSGI_APPLICATION = "joinedup.wsgi.application"

FORM_RENDERER = "joinedup.lib.forms.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "joinedup" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "joinedup.people.navigation.navigation",
            ],
        },
    },
]

# Embedded SQLite by default so a clone runs with no services; DATABASE_URL selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'joinedup.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before each request reuses it, so a database that
        # restarted costs no request an error.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_TRANSACTION_POOLING", False
):
    # Behind PgBouncer in transaction mode a connection is anyone's between transactions:
    # no cursor may outlive one, and no connection parameter can be sent (set them on the
    # database role instead; see the README's national deployment).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Production databases sit on SSDs, where an index probe costs little more than a
    # sequential read; PostgreSQL's default (4) makes it scan whole tables for caseloads.
    # Its queries are short, yet some are costed high enough for PostgreSQL to compile them
    # first (JIT): 22 ms of a 29 ms query on My day. Compiling pays only on long analyses.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c random_page_cost={env_str('POSTGRES_RANDOM_PAGE_COST', '1.1')} -c jit=off"
        # `joinedup serve` stops a query after 30 s (before gunicorn gives up on the worker),
        # so a hung database gets the 503 page; other processes wait as long as they need.
        f" -c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 0)}"
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so the audit chain never forks;
    # write-ahead logging lets the server's workers, the worker and the scheduler read while
    # one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
if env_str("TEST_DATABASE_NAME", ""):
    # Lets two test runs share one PostgreSQL server without sharing a test database.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
# Service reports and benchmarks read through their own alias, so a deployment can point it at
# a read replica; by default it is the same database. Tests mirror default (no second database).
# A replica is reached as the primary is: the same kept connections, checks, timeout and
# query settings (a hung replica must not hang a server worker longer than the primary could).
_AS_DEFAULT = ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS", "DISABLE_SERVER_SIDE_CURSORS")
DATABASES["reports"] = (
    dj_database_url.parse(env_str("REPORTS_DATABASE_URL"))
    | {key: DATABASES["default"][key] for key in _AS_DEFAULT if key in DATABASES["default"]}
    if env_str("REPORTS_DATABASE_URL", "")
    else {**DATABASES["default"]}
) | {"TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"

# The key of research extracts' pseudonyms (HMAC-SHA256): stable, and kept out of every
# extract. Required when DEBUG is off; in development one is derived from SECRET_KEY.
RESEARCH_PSEUDONYM_KEY = env_secret("RESEARCH_PSEUDONYM_KEY")
# The smallest k an extract may use without an approval under a data sharing agreement.
RESEARCH_MIN_K = env_int("RESEARCH_MIN_K", 5)

# The audit log's hash chain is an HMAC (SHA-256) under this key, kept outside the database,
# and a signed checkpoint of its head is written outside the database after each append
# (to AUDIT_CHECKPOINT_FILE and the "joinedup.audit.checkpoint" log), so whoever holds only
# the database cannot rewrite the log unnoticed. Keep the key stable: the log verifies only
# under the key it was written with. Required when DEBUG is off; in development one is
# derived from SECRET_KEY. An empty AUDIT_CHECKPOINT_FILE keeps checkpoints in the log only.
AUDIT_CHAIN_KEY = env_secret("AUDIT_CHAIN_KEY")
if not AUDIT_CHAIN_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY must be set when DEBUG is off.")
    AUDIT_CHAIN_KEY = hmac.new(SECRET_KEY.encode(), b"joinedup.audit.chain", "sha256").hexdigest()
AUDIT_CHECKPOINT_FILE = env_str("AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl"))

# System-to-system clients (FHIR and the JSON API) use OAuth 2.0 client credentials. Each
# client application belongs to a system user with one membership (an organisation and a
# service), so every read goes through the same access policy as that service's staff.
FHIR_RESOURCES = (
    "Patient",
    "Organization",
    "HealthcareService",
    "ServiceRequest",
    "Task",
    "EpisodeOfCare",
    "Questionnaire",
    "QuestionnaireResponse",
    "Observation",
    "Flag",
    "Consent",
    "AuditEvent",
)
OAUTH2_PROVIDER = {
    "SCOPES": {
        "system/*.read": "Read every resource the client's service may see",
        **{f"system/{name}.read": f"Read {name} resources" for name in FHIR_RESOURCES},
        "system/Group.read": "Read the caseload of the client's own service as a Group",
        "system/QuestionnaireResponse.write": "Send questionnaire responses",
        "system/Observation.write": "Send questionnaire scores without their answers",
        "system/ServiceRequest.write": "Send referrals",
        "system/Bundle.write": "Send transaction bundles",
        "api.read": "Read through the JSON API",
        "api.write": "Change through the JSON API",
    },
    "DEFAULT_SCOPES": [],
    "SCOPES_BACKEND_CLASS": "joinedup.fhir.scopes.RegisteredScopes",
    # Clients may also authenticate with a signed assertion (SMART Backend Services).
    "OAUTH2_VALIDATOR_CLASS": "joinedup.fhir.smart.Validator",
    "OAUTH2_BACKEND_CLASS": "joinedup.fhir.smart.Backend",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_TOKEN_SECONDS", 3600),
    # The OAuth 2.0 Security Best Current Practice (RFC 9700) in full.
    **{
        f"COMPLIANT_BCP_RFC9700_{rule}": True
        for rule in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
        )
    },
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Argon2id, the first choice of OWASP's password storage guidance, at Django's settings
# (2 passes over 100 MiB): memory-hard, and about a third of the core time of PBKDF2's
# 1,500,000 rounds. Passwords stored under PBKDF2 still verify, and are stored again under
# Argon2 at the next sign-in; FHIR client secrets stored under PBKDF2 still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# Accounts are created by organisation admins, never by self sign-up.
ACCOUNT_ADAPTER = "joinedup.people.adapters.AccountAdapter"
# Rate limits and used second-factor codes live in the cache, so it is shared by every server
# process and every server: a table in the database (made by `migrate`), not each process's
# memory, where five workers would allow five times the attempts and accept a code twice.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "joinedup_cache",
    }
}
# Wrong passwords are limited per account (5 in 5 minutes) and, more loosely, per client,
# so that one person's mistakes never lock out everyone behind the same address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/5m/ip,5/5m/key",
    "login": "60/m/ip",
    # The public self-referral form: loosely per address (a campus shares a few), tightly per
    # email or phone given.
    "self_referral": "30/h/ip,3/d/key",
}
# Behind a TLS proxy every request comes from the proxy: the client's address is read from the
# header the proxy sets (TRUSTED_CLIENT_IP_HEADER, e.g. X-Real-IP) or from X-Forwarded-For,
# counting TRUSTED_PROXY_COUNT proxies from the right. Left unset, REMOTE_ADDR is used.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("TRUSTED_CLIENT_IP_HEADER") or None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "JoinedUp"

# Staff sessions end after this many idle seconds; students keep Django's default age.
STAFF_IDLE_TIMEOUT = env_int("STAFF_IDLE_TIMEOUT", 30 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
BREAK_GLASS_HOURS = env_int("BREAK_GLASS_HOURS", 4)
# Questionnaire links sent to students stop working after this many hours.
COMPLETION_LINK_HOURS = env_int("COMPLETION_LINK_HOURS", 72)
# Reminders (joinedup.reminders): appointments are reminded this many hours before they start.
REMINDER_LEAD_HOURS = env_int("REMINDER_LEAD_HOURS", 24)
# Text message reminders go through GOV.UK Notify when a key and a template are set; the
# template's whole body is ((message)). Without them, students are offered email only.
NOTIFY_API_KEY = env_secret("NOTIFY_API_KEY")
NOTIFY_BASE_URL = env_str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
NOTIFY_SMS_TEMPLATE_ID = env_str("NOTIFY_SMS_TEMPLATE_ID")
# Thresholds of the gap rules (joinedup.referrals.rules).
GAP_THRESHOLDS = {
    "declined_days": env_int("GAP_DECLINED_DAYS", 7),
    "nhs_discharge_days": env_int("GAP_NHS_DISCHARGE_DAYS", 7),
    "held_weeks": env_int("GAP_HELD_WEEKS", 6),
    "no_contact_weeks": env_int("GAP_NO_CONTACT_WEEKS", 4),
    "waiting_risk_rank": env_int("GAP_WAITING_RISK_RANK", 2),
    "concern_hours": env_int("GAP_CONCERN_HOURS", 48),
}

LANGUAGE_CODE = "en-gb"
# Students read their pages, emails and texts in English or Welsh (joinedup/portal/welsh.py).
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "joinedup" / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    ("nhsuk", BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("chartjs-annotation", BASE_DIR / "node_modules" / "chartjs-plugin-annotation" / "dist"),
    ("chartjs-sankey", BASE_DIR / "node_modules" / "chartjs-chart-sankey" / "dist"),
    BASE_DIR / "joinedup" / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Documents and letters kept on students' records, through `default_storage`. Never served
# as static or media files: only through the access policy (`record:entry-file`).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
# Documents about students are readable by the app's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

_EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_secret("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "JoinedUp <no-reply@joinedup.localhost>")

# Queued in the database and run by `joinedup worker`, in development as in production.
TASKS = {"default": {"BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

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

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe the app directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Nothing here uses the camera, microphone, location, payment or other powerful features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "fullscreen",
        "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "screen-wake-lock", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

# One JSON object per line in production (LOG_FORMAT=json), each with the request id the
# audit log records; plain lines in development.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "joinedup.lib.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env_str("LOG_FORMAT", "plain" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Checkpoints of the audit chain go to the log stream whatever LOG_LEVEL says.
        "joinedup.audit.checkpoint": {"level": "INFO"},
        # One line per request (LOG_REQUESTS=0 to leave them out).
        "joinedup.request": {"level": "INFO" if env_bool("LOG_REQUESTS", True) else "WARNING"},
    },
}
