"""House style is enforced by the test command, not only by pre-commit: ruff and sqlfluff must be clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from borderwatch.config import REPO_ROOT

BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_is_clean() -> None:
    check = _run([str(BIN / "ruff"), "check", "."], REPO_ROOT)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run([str(BIN / "ruff"), "format", "--check", "."], REPO_ROOT)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow
def test_sqlfluff_is_clean_on_the_dbt_models(tmp_path: Path) -> None:
    env = {**os.environ, "BORDERWATCH_BUILD_DB": str(tmp_path / "lint.duckdb")}
    result = _run(
        [str(BIN / "sqlfluff"), "lint", "models", "--processes", "1"], REPO_ROOT / "dbt_project", env
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
