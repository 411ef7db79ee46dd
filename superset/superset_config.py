"""Superset settings for the BorderWatch service (read by the image through SUPERSET_CONFIG_PATH)."""

import os

# Signs sessions; start.sh refuses to start with the .env.example placeholder.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
# Superset's own metadata (users, imported dashboards) in its volume; the warehouse is never written.
SQLALCHEMY_DATABASE_URI = "sqlite:////app/superset_home/superset.db"
# Only the warehouse connection shipped in assets/ (DuckDB, read-only); no file uploads into it.
PREVENT_UNSAFE_DB_CONNECTIONS = True
FEATURE_FLAGS = {"DASHBOARD_CROSS_FILTERS": True}
