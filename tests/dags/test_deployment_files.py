"""docker-compose.yml, Dockerfile and .env.example: valid for compose, structurally sound, no secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from .conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
SECRET_KEYS = re.compile(r"(PASSWORD|SECRET|FERNET|_KEY)$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return (
        {k: str(v) for k, v in env.items()} if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
    )


def test_docker_compose_config_is_valid():
    binary = shutil.which("docker-compose")
    if binary is None:
        message = (
            "docker-compose not installed (Debian: apt-get install -y docker-compose; make test does it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run(
        [binary, "-f", str(COMPOSE), "--env-file", str(REPO_ROOT / ".env.example"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose not installed (covered by test_docker_compose_config_is_valid)")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "AIRFLOW_"))}
    proc = subprocess.run(
        [binary, "-f", str(COMPOSE), "--env-file", str(empty), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode != 0
    assert "in .env" in proc.stderr


def test_services_present_with_healthchecks(compose):
    services = compose["services"]
    assert AIRFLOW_SERVICES | {"postgres", "feed-simulator"} <= set(services)
    for name in AIRFLOW_SERVICES - {"airflow-init"} | {"postgres", "feed-simulator"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_startup_is_gated_on_init_and_a_healthy_postgres(compose):
    services = compose["services"]
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def test_warehouse_home_is_a_named_volume_shared_by_all_airflow_services(compose):
    assert "borderwatch-home" in compose["volumes"]
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert "borderwatch-home:/opt/borderwatch/home" in service["volumes"], name
        assert _env(service)["BORDERWATCH_HOME"] == "/opt/borderwatch/home"


def test_no_hard_coded_secrets(compose):
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if SECRET_KEYS.search(key) or "SQL_ALCHEMY_CONN" in key:
                assert "${" in value, f"{name}: {key} must come from .env, not be written in the file"
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in COMPOSE.read_text()


def test_ui_binds_loopback_only(compose):
    ports = compose["services"]["airflow-apiserver"]["ports"]
    assert all(str(p).startswith("127.0.0.1:") for p in ports)


def test_env_example_has_every_variable_the_compose_file_requires():
    body = "\n".join(line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#"))
    required = set(re.findall(r"\$\{(\w+):\?", body))
    example = dict(
        line.split("=", 1)
        for line in (REPO_ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required and required <= set(example)
    assert all("change-me" in example[k] or k.endswith(("_USER", "_DB")) for k in required)


def test_dockerfile_installs_the_frozen_lock_on_the_airflow_image():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2-python3.11" in text
    assert "uv export --frozen" in text and "--require-hashes" in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text
