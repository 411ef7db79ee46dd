#!/usr/bin/env bash
# System tools some tests use that are not Python packages: Debian's docker-compose (to validate
# docker-compose.yml; no engine is needed). Installed only when missing and we may use apt.
set -u
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing docker-compose (Debian package) to validate docker-compose.yml ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/tmp/borderwatch-ci-tools.log 2>&1 \
      || echo "could not install docker-compose (see /tmp/borderwatch-ci-tools.log); the compose test will say so"
  fi
fi
exit 0
