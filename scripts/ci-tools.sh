#!/usr/bin/env bash
# System tools some tests use that are not Python packages, from Debian's packages:
#   docker-compose  validates docker-compose.yml (no Docker engine needed)
#   chromium        renders the quality gate's Data Docs headless
#   postgresql      server binaries (initdb/pg_ctl) for the serving-warehouse, Celery-metadata and compose
#                   topology tests
#   redis-server    the Celery broker of the distributed-Airflow tests
# Installed only when missing and we are root with apt; otherwise the tests say what is missing.
set -u
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (Debian packages) for the tests ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") \
      >/tmp/borderwatch-ci-tools.log 2>&1 \
      || echo "could not install ${missing[*]} (see /tmp/borderwatch-ci-tools.log); the tests that need them will say so"
  else
    echo "not installing ${missing[*]}: needs root and apt-get; the tests that need them will say so"
  fi
fi
exit 0
