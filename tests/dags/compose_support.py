"""Helpers for the compose tests: a generated `.env`, the compose file as compose resolves it."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE = REPO_ROOT / "docker-compose.yml"


def good_secrets() -> dict[str, str]:
    """Container variables with secrets generated the way .env.example says."""
    password = secrets.token_urlsafe(24)
    return {
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(64),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow:{password}@postgres/airflow",
    }


def write_generated_env(directory: Path) -> Path:
    """`.env.example` with every secret replaced by a freshly generated one (what an operator should do)."""
    values = {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(64),
    }
    lines = []
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values[key]}" if key in values and not line.startswith("#") else line)
    path = directory / "generated.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def docker_compose() -> str:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = (
            "docker-compose not installed (Debian: apt-get install -y docker-compose; make test does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def resolved_compose(env_file: Path) -> dict[str, Any]:
    """The compose file after interpolation and anchor merging: `docker-compose config` (no engine needed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "AIRFLOW_", "BORDERWATCH_"))}
    proc = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)
