"""docker-compose.yml, Dockerfile and .env.example: valid for compose, structurally sound, no secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from .compose_support import good_secrets, resolved_compose, write_generated_env
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


def test_the_simulator_gets_no_airflow_secret_and_may_bind_its_container_interface(compose):
    simulator = compose["services"]["feed-simulator"]
    env = _env(simulator)
    assert not [k for k in env if SECRET_KEYS.search(k) or k.startswith("AIRFLOW") or "SQL_ALCHEMY" in k]
    assert "${" not in "".join(env.values()), "nothing from .env reaches the simulator"
    command = simulator["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0" and "--allow-remote" in command
    assert "ports" not in simulator, "the simulator is reached by service name only, never from the host"


def test_init_runs_as_the_runtime_uid_through_borderwatch_not_a_root_shell(compose):
    init = compose["services"]["airflow-init"]
    runtime_user = compose["services"]["airflow-scheduler"]["user"]
    assert init["user"] == runtime_user == "${AIRFLOW_UID:-50000}:0"
    assert init["entrypoint"] == ["borderwatch"] and init["command"] == ["deploy-init"]


def test_the_image_hands_the_home_to_the_runtime_group():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert "chown -R airflow:0 /opt/borderwatch" in text and "chmod 2775 /opt/borderwatch/home" in text


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("AIRFLOW__CORE__FERNET_KEY", "change-me-fernet-key-32-url-safe-base64-bytes=", "placeholder"),
        ("AIRFLOW__CORE__FERNET_KEY", "bm90LWEta2V5", "decodes to 9 bytes"),
        ("AIRFLOW__API_AUTH__JWT_SECRET", "change-me-jwt-secret", "placeholder"),
        ("AIRFLOW__API_AUTH__JWT_SECRET", "tiny-jwt-8", "shorter than 32"),
        ("AIRFLOW__API__SECRET_KEY", "", "is not set"),
        (
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "postgresql+psycopg2://airflow:change-me-postgres-password@postgres/airflow",
            "POSTGRES_PASSWORD is still the placeholder",
        ),
    ],
)
def test_placeholder_and_weak_secrets_are_refused(name, value, problem):
    from borderwatch.orchestration.deploy import InsecureSecretError, check_deployment_secrets

    env = good_secrets()
    env[name] = value
    with pytest.raises(InsecureSecretError, match=problem) as caught:
        check_deployment_secrets(env)
    if value:
        assert value not in str(caught.value), "a secret's value is never echoed"


def test_the_env_example_as_copied_is_refused_and_generated_secrets_pass(tmp_path):
    """`cp .env.example .env` without replacing the secrets: the init service refuses to start."""
    from borderwatch.orchestration.deploy import InsecureSecretError, check_deployment_secrets

    config = resolved_compose(REPO_ROOT / ".env.example")
    with pytest.raises(InsecureSecretError) as caught:
        check_deployment_secrets(_env(config["services"]["airflow-init"]))
    for name in ("AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert name in str(caught.value)
    check_deployment_secrets(
        _env(resolved_compose(write_generated_env(tmp_path))["services"]["airflow-init"])
    )


def test_superset_reads_the_warehouse_read_only_from_a_pinned_image(compose):
    superset = compose["services"]["superset"]
    assert "borderwatch-home:/opt/borderwatch/home:ro" in superset["volumes"]
    assert all(str(p).startswith("127.0.0.1:") for p in superset["ports"])
    assert superset["healthcheck"]["test"] and superset["build"]["context"] == "superset"
    dockerfile = (REPO_ROOT / "superset" / "Dockerfile").read_text()
    assert re.search(r"apache/superset:\d+\.\d+\.\d+\b", dockerfile), "the Superset image is pinned"
    assert re.search(r'"duckdb==[\d.]+" "duckdb-engine==[\d.]+"', dockerfile), "the DuckDB driver is pinned"
    lock = (REPO_ROOT / "uv.lock").read_text()
    assert 'name = "apache-superset"' not in lock, "Superset stays out of the project's lock"
    duckdb_pin = re.search(r'"duckdb==([\d.]+)"', dockerfile).group(1)  # type: ignore[union-attr]
    assert f'name = "duckdb"\nversion = "{duckdb_pin}"' in lock, (
        "Superset reads with the duckdb the lock writes"
    )
