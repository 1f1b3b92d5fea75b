"""Superset's configuration for the NIS2 dashboards (SUPERSET_CONFIG_PATH, set by meltano.yml).

Superset reads this file on top of its defaults. The values come from the `superset` plugin's
settings, which Meltano hands to Superset as environment variables (meltano.yml). Nothing here
fetches anything at run time: no telemetry, no map tiles, no fonts or scripts from elsewhere
(the Content-Security-Policy below lets the browser load only what this server serves).
"""

import os

_STATE_DIR = os.environ.get("NIS2_SUPERSET_STATE_DIR", "var/superset")

# Signs the session cookies and encrypts the warehouse password stored in the metadata
# database; Superset refuses to start without one (setting `secret_key`, sensitive).
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Superset's own metadata (users, charts, dashboards): never the warehouse.
SQLALCHEMY_DATABASE_URI = os.environ.get(
    "NIS2_SUPERSET_METADATA_URI", f"sqlite:///{os.path.abspath(_STATE_DIR)}/superset.db"
)
SQLALCHEMY_TRACK_MODIFICATIONS = False

APP_NAME = "NIS2 dashboards"

# Dashboards render every chart at once (the browser test checks each one): no lazy loading.
FEATURE_FLAGS = {
    "DASHBOARD_VIRTUALIZATION": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "EMBEDDED_SUPERSET": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
}

# Nothing leaves this machine: Superset's page footer always carries a telemetry pixel, and
# map charts fetch tiles; this policy lets the browser load only this server's own files.
SCARF_ANALYTICS = False
MAPBOX_API_KEY = ""
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []

# No caches to run beside it (the queries read small marts).
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Limits Superset keeps in memory otherwise (flask-limiter warns without a backend).
RATELIMIT_STORAGE_URI = "memory://"

# The dashboards are for people on this machine (127.0.0.1); sign-in is Superset's own.
SESSION_COOKIE_SAMESITE = "Lax"
SHOW_STACKTRACE = False
