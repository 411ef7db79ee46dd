"""``borderwatch deploy-init``: the compose init service, as one typed command instead of a root shell script.

It refuses placeholder and weak secrets (so a copied ``.env.example`` never reaches production), creates
the BorderWatch home in the shared volume as the runtime uid (so ``inbox/`` and ``reports/`` stay writable
for every service), migrates the Airflow metadata DB and creates the single-writer pool.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from borderwatch.config import Settings, SettingsError, init_home

PLACEHOLDER_MARKERS = ("change-me", "changeme", "replace-me", "example", "placeholder")
MIN_SECRET_CHARS = 32
MIN_PASSWORD_CHARS = 12
GENERATE_FERNET = 'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
GENERATE_TOKEN = 'python -c "import secrets; print(secrets.token_urlsafe(64))"'


class InsecureSecretError(SettingsError):
    """A deployment secret is missing, still the placeholder from ``.env.example``, or too weak."""


@dataclass(frozen=True)
class SecretRule:
    """One secret the Airflow services receive: the container variable and the ``.env`` entry behind it."""

    env_var: str
    dotenv_var: str
    kind: str  # "fernet", "token" or "database_url"


SECRETS = (
    SecretRule("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_FERNET_KEY", "fernet"),
    SecretRule("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_JWT_SECRET", "token"),
    SecretRule("AIRFLOW__API__SECRET_KEY", "AIRFLOW_API_SECRET_KEY", "token"),
    SecretRule("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "POSTGRES_PASSWORD", "database_url"),
)


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def _fernet_problem(value: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return "is not url-safe base64"
    return None if len(raw) == 32 else f"decodes to {len(raw)} bytes, a Fernet key has 32"


def secret_problem(rule: SecretRule, value: str | None) -> str | None:
    """Why ``value`` is unusable for ``rule`` (missing, placeholder, weak, malformed), or None when fine.

    The message never contains the value itself: secrets are not echoed into logs.
    """
    if not value:
        return "is not set"
    if rule.kind == "database_url":
        password = urlsplit(value).password or ""
        if not password:
            return "has no password in the database URL"
        if _is_placeholder(password):
            return "is still the placeholder from .env.example"
        if len(password) < MIN_PASSWORD_CHARS:
            return f"is shorter than {MIN_PASSWORD_CHARS} characters"
        return None
    if _is_placeholder(value):
        return "is still the placeholder from .env.example"
    if rule.kind == "fernet":
        return _fernet_problem(value)
    if len(value) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    return None


def check_deployment_secrets(env: Mapping[str, str] | None = None) -> None:
    """Raise ``InsecureSecretError`` naming every unusable secret (by its ``.env`` name) and the fix."""
    env = os.environ if env is None else env
    problems = [
        f"{rule.dotenv_var} {problem}"
        for rule in SECRETS
        if (problem := secret_problem(rule, env.get(rule.env_var))) is not None
    ]
    if problems:
        raise InsecureSecretError(
            "refusing to start with unsafe secrets: "
            + "; ".join(problems)
            + f". Set them in .env: the Fernet key with `{GENERATE_FERNET}`, the other secrets with "
            f"`{GENERATE_TOKEN}`, and a Postgres password of at least {MIN_PASSWORD_CHARS} characters"
        )


def deploy_init(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """Everything the compose init service does, in order; returns what it did, one line per step."""
    from borderwatch.orchestration.factory import BUILD_POOL, BUILD_POOL_DESCRIPTION
    from borderwatch.orchestration.local import run_airflow

    env = dict(os.environ if env is None else env)
    check_deployment_secrets(env)
    done = ["secrets: none is a placeholder or too weak"]
    created = init_home(settings)
    done.append(f"home {settings.home}: {'initialised' if created else 'already initialised'}")
    run_airflow(["db", "migrate"], env)
    done.append("airflow metadata DB migrated")
    run_airflow(["pools", "set", BUILD_POOL, "1", BUILD_POOL_DESCRIPTION], env)
    done.append(f"pool {BUILD_POOL} (size 1) set")
    return done
