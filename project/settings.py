"""Settings, all read from the environment in this one place.

Every variable has a safe default so a fresh clone runs offline: SQLite, the in-memory
channel layer, the embedded Ably-compatible broker and the demo model. The README's
configuration table documents each variable; `chat/checks.py` refuses unusable values.
"""

from __future__ import annotations

from pathlib import Path

import environ

from project import local_secrets

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))
_local = local_secrets.load_or_create(DATA_DIR)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_local["django_secret_key"])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before `channels`: its `runworker` command replaces Channels' own (see chat/agent/worker.py).
    "chat",
    "channels",
    "django_htmx",
    "broker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (chat/csp.py).
    "chat.csp.ContentSecurityPolicyMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

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
                "chat.context_processors.sidebar",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
# Keep connections open between requests: the broker and the agent touch the database for every
# streamed append, and reconnecting each time cost more than the work itself (see bench/).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The agent worker writes while pages read; WAL and a busy timeout keep SQLite usable
    # under that light concurrency.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env.float("SQLITE_BUSY_TIMEOUT_SECONDS", default=20),
            # Writers take the lock at BEGIN, so they wait out the busy timeout instead of failing with
            # SQLITE_BUSY when a read transaction would otherwise have to upgrade.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The Redis database is the URL's path (redis://host:6379/3). The socket timeout must exceed
# channels-redis's 5 s blocking pop, or every idle worker times out (redis-py's default is 5 s).
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=15.0)
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="chat")
# The agent: a queued run no worker claimed within this long is ended `error` by the reaper;
# its job expires from Redis at the same age, so no job outlives its run's claim window.
AGENT_CLAIM_TIMEOUT_SECONDS = env.int("AGENT_CLAIM_TIMEOUT_SECONDS", default=120)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
                        "socket_connect_timeout": 5,
                        "retry_on_timeout": False,
                    }
                ],
                "prefix": CHANNEL_LAYER_PREFIX,
                "expiry": AGENT_CLAIM_TIMEOUT_SECONDS,
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Browser libraries installed from npm by the setup step; never copied into git.
    ("vendor/ably", NODE_MODULES / "ably" / "build"),
    # Live markdown in the browser (static/chat/markdown.js): self-contained ES module builds.
    ("vendor/markdown-it", NODE_MODULES / "markdown-it" / "dist" / "browser"),
    ("vendor/dompurify", NODE_MODULES / "dompurify" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS behind a proxy (see the README's Deployment section); all off by default for local use.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
# The broker's REST routes: agent workers and the admin's Stop call them over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^time$", r"^is-the-internet-up\.txt$", r"^keys/", r"^channels/"]
# "HTTP_X_FORWARDED_PROTO,https": trust the proxy's header saying the request came over HTTPS.
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None

# Ably: unset ABLY_ENDPOINT means the embedded broker in this process.
ABLY_API_KEY = env.str("ABLY_API_KEY", default=_local["ably_api_key"])
ABLY_API_KEY_IS_LOCAL = "ABLY_API_KEY" not in env.ENVIRON
ABLY_ENDPOINT = env.str("ABLY_ENDPOINT", default="")
ABLY_PORT = env.int("ABLY_PORT", default=0)
ABLY_TLS = env.bool("ABLY_TLS", default=True)
ABLY_TOKEN_TTL_SECONDS = env.int("ABLY_TOKEN_TTL_SECONDS", default=3600)
EMBEDDED_BROKER = not ABLY_ENDPOINT
if EMBEDDED_BROKER:
    # Ably SDK requests to paths nobody serves get Ably's JSON 40400, not the site's HTML page.
    MIDDLEWARE.insert(0, "broker.not_found.ably_not_found_middleware")
# Browsers reach Ably through this site's own address (a proxy routes the Ably paths to the
# broker processes) even though ABLY_ENDPOINT is set for the server side. See chat/ably_endpoint.py.
ABLY_BROWSER_SAME_ORIGIN = env.bool("ABLY_BROWSER_SAME_ORIGIN", default=False)
# The embedded broker (see docs/broker.md); Ably's own values by default.
BROKER_SITE_CODE = env.str("BROKER_SITE_CODE", default="local")
BROKER_TOKEN_DEFAULT_TTL_MS = env.int("BROKER_TOKEN_DEFAULT_TTL_MS", default=3_600_000)
BROKER_TOKEN_MAX_TTL_MS = env.int("BROKER_TOKEN_MAX_TTL_MS", default=86_400_000)
BROKER_TOKEN_REQUEST_MAX_SKEW_MS = env.int("BROKER_TOKEN_REQUEST_MAX_SKEW_MS", default=120_000)
BROKER_MAX_MESSAGE_SIZE = env.int("BROKER_MAX_MESSAGE_SIZE", default=65536)
BROKER_IDEMPOTENCY_WINDOW_MS = env.int("BROKER_IDEMPOTENCY_WINDOW_MS", default=120_000)
BROKER_SANDBOX = env.bool("BROKER_SANDBOX", default=False)
BROKER_HISTORY_RETENTION_HOURS = env.float("BROKER_HISTORY_RETENTION_HOURS", default=0)
BROKER_MAX_IDLE_INTERVAL_MS = env.int("BROKER_MAX_IDLE_INTERVAL_MS", default=15_000)
BROKER_CONNECTION_STATE_TTL_MS = env.int("BROKER_CONNECTION_STATE_TTL_MS", default=120_000)
BROKER_MAX_FRAME_SIZE = env.int("BROKER_MAX_FRAME_SIZE", default=524_288)
BROKER_TOKEN_RENEWAL_LEAD_MS = env.int("BROKER_TOKEN_RENEWAL_LEAD_MS", default=30_000)
BROKER_PRESENCE_LEAVE_DELAY_MS = env.int("BROKER_PRESENCE_LEAVE_DELAY_MS", default=15_000)
BROKER_APPEND_ROLLUP_WINDOW_MS = env.int("BROKER_APPEND_ROLLUP_WINDOW_MS", default=40)
BROKER_MAX_OUTBOUND_BACKLOG = env.int("BROKER_MAX_OUTBOUND_BACKLOG", default=10_000)
BROKER_MAX_INBOUND_RATE = env.float("BROKER_MAX_INBOUND_RATE", default=50)
BROKER_INBOUND_BURST = env.float("BROKER_INBOUND_BURST", default=500)
BROKER_MAX_INBOUND_BACKLOG = env.int("BROKER_MAX_INBOUND_BACKLOG", default=1000)
BROKER_MAX_INBOUND_BACKLOG_BYTES = env.int("BROKER_MAX_INBOUND_BACKLOG_BYTES", default=8 * 1024 * 1024)
BROKER_SERVER_ID = env.str("BROKER_SERVER_ID", default="local-1")
# Several broker processes on one database share stored events over Redis pub/sub.
BROKER_REDIS_URL = env.str("BROKER_REDIS_URL", default=REDIS_URL)
BROKER_REDIS_PREFIX = env.str("BROKER_REDIS_PREFIX", default="broker")
BROKER_CACHED_CHANNELS = env.int("BROKER_CACHED_CHANNELS", default=1000)

# Where agents reach a web process's embedded broker (loopback); port 0 = in that web process,
# the port it serves on; elsewhere unset means "not configured" (chat/ably_endpoint.py).
EMBEDDED_BROKER_HOST = env.str("EMBEDDED_BROKER_HOST", default="127.0.0.1")
EMBEDDED_BROKER_PORT = env.int("EMBEDDED_BROKER_PORT", default=0)

# The agent worker.
AGENT_IN_PROCESS = env.bool("AGENT_IN_PROCESS", default=True)
AGENT_LOCATE_TIMEOUT_SECONDS = env.float("AGENT_LOCATE_TIMEOUT_SECONDS", default=10.0)
AGENT_HEARTBEAT_SECONDS = env.float("AGENT_HEARTBEAT_SECONDS", default=5.0)
AGENT_REAP_AFTER_SECONDS = env.float("AGENT_REAP_AFTER_SECONDS", default=30.0)
AGENT_REAP_INTERVAL_SECONDS = env.float("AGENT_REAP_INTERVAL_SECONDS", default=10.0)
# Streamed deltas within this window travel as one append (0 = one append per token).
AGENT_APPEND_WINDOW_MS = env.float("AGENT_APPEND_WINDOW_MS", default=40.0)
AGENT_SHUTDOWN_GRACE_SECONDS = env.float("AGENT_SHUTDOWN_GRACE_SECONDS", default=5.0)
AGENT_DB_RETRY_SECONDS = env.float("AGENT_DB_RETRY_SECONDS", default=15.0)

# The model (see chat/agent/providers).
LLM_PROVIDER = env.str("LLM_PROVIDER", default="demo")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=1024)
DEMO_TOKENS_PER_SECOND = env.float("DEMO_TOKENS_PER_SECOND", default=30.0)

# LOG_LEVEL sets every logger; unset, the app logs INFO and the chatty libraries (the Ably SDK logs each
# connection step at INFO, daphne each request) only warnings.
LOG_LEVEL = env.str("LOG_LEVEL", default="").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL or "INFO"},
    "loggers": {name: {"level": LOG_LEVEL or "WARNING"} for name in ("daphne", "ably", "httpx", "httpcore")},
}
