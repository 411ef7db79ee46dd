"""Serving copies of published versions for BI tools on other machines (PostgreSQL)."""

from borderwatch.serving.postgres import (
    ServedVersion,
    ServingError,
    ServingSettings,
    serve_publication,
    serve_rollback,
    serving_settings,
)

__all__ = [
    "ServedVersion",
    "ServingError",
    "ServingSettings",
    "serve_publication",
    "serve_rollback",
    "serving_settings",
]
