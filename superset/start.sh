#!/bin/sh
# The superset compose service: refuse placeholder secrets, migrate Superset's metadata, create the admin,
# import the dashboards as code (./assets, Superset's export-bundle format) and serve on :8088.
set -eu

refuse_placeholder() {  # name value
  case "$2" in
    ""|*change-me*)
      echo "$1 is unset or still the placeholder from .env.example; set it in .env, e.g. with" \
           "python -c \"import secrets; print(secrets.token_urlsafe(64))\"" >&2
      exit 2 ;;
  esac
}
refuse_placeholder SUPERSET_SECRET_KEY "${SUPERSET_SECRET_KEY:-}"
refuse_placeholder SUPERSET_ADMIN_PASSWORD "${SUPERSET_ADMIN_PASSWORD:-}"
ADMIN="${SUPERSET_ADMIN_USER:-admin}"

superset db upgrade
superset fab create-admin --username "$ADMIN" --firstname BorderWatch --lastname Admin \
  --email "$ADMIN@borderwatch.invalid" --password "$SUPERSET_ADMIN_PASSWORD"   # no-op when it exists
superset init
python -c 'import shutil; shutil.make_archive("/tmp/borderwatch-dashboards", "zip", "/app/borderwatch", "assets")'
superset import-dashboards --path /tmp/borderwatch-dashboards.zip --username "$ADMIN"
exec /usr/bin/run-server.sh
