"""Where BorderWatch keeps its files, resolved once from the environment.

Every path derives from ``BORDERWATCH_HOME`` so tests, benchmarks and Airflow workers can each run
against their own directory tree without touching the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Settings:
    """Resolved locations and endpoints for one BorderWatch installation."""

    home: Path
    feeds_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path
    simulator_url: str
    keep_versions: int = 5

    @property
    def landing_dir(self) -> Path:
        """Content-addressed, immutable archive of every fetched payload."""
        return self.home / "landing"

    @property
    def inbox_dir(self) -> Path:
        """Drop inbox: agencies deliver file-based feeds here."""
        return self.home / "inbox"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        """The single-writer build file: raw schema plus dbt's models."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def build_lock(self) -> Path:
        """Advisory lock held by whoever writes the build file."""
        return self.warehouse_dir / "build.lock"

    @property
    def published_dir(self) -> Path:
        return self.warehouse_dir / "published"

    @property
    def current_db(self) -> Path:
        """Symlink to the published DuckDB file that BI tools open (read-only)."""
        return self.warehouse_dir / "current.duckdb"

    @property
    def current_dir(self) -> Path:
        """Symlink to the published version directory (Parquet exports and manifest)."""
        return self.warehouse_dir / "current"

    @property
    def reports_dir(self) -> Path:
        """Load reports, gate summaries, Data Docs and failure reports."""
        return self.home / "reports"

    def ensure_dirs(self) -> None:
        for path in (
            self.landing_dir,
            self.inbox_dir,
            self.warehouse_dir,
            self.published_dir,
            self.reports_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings from ``BORDERWATCH_*`` environment variables, with repo-relative defaults."""
    env = os.environ
    root = Path(home or env.get("BORDERWATCH_HOME") or REPO_ROOT / "var").resolve()
    return Settings(
        home=root,
        feeds_dir=Path(env.get("BORDERWATCH_FEEDS_DIR", REPO_ROOT / "feeds")),
        dbt_project_dir=Path(env.get("BORDERWATCH_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project")),
        expectations_dir=Path(env.get("BORDERWATCH_EXPECTATIONS_DIR", REPO_ROOT / "expectations")),
        simulator_url=env.get("BORDERWATCH_SIMULATOR_URL", DEFAULT_SIMULATOR_URL).rstrip("/"),
        keep_versions=int(env.get("BORDERWATCH_KEEP_VERSIONS", "5")),
    )
