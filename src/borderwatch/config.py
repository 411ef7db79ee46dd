"""Where BorderWatch keeps its files, resolved once from the environment.

Every path derives from ``BORDERWATCH_HOME`` so tests, benchmarks and Airflow workers can each run
against their own directory tree without touching the others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8765"
HOME_MARKER = ".borderwatch-home"
"""File ``borderwatch init`` writes at the top of a home: what makes a directory an installation."""


class SettingsError(ValueError):
    """A setting (environment variable or option) has a value BorderWatch cannot use; names the fix."""


class HomeNotInitialisedError(SettingsError):
    """``--home`` / ``BORDERWATCH_HOME`` names a directory that is not an initialised BorderWatch home."""


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

    @property
    def marker(self) -> Path:
        """Written by ``borderwatch init``; its presence is what makes ``home`` an installation."""
        return self.home / HOME_MARKER

    def is_initialised(self) -> bool:
        """An explicit ``init`` ran here, or the home predates the marker (it already holds an archive)."""
        if self.marker.is_file():
            return True
        return self.landing_dir.is_dir() and self.warehouse_dir.is_dir()

    def require_initialised(self) -> None:
        """Refuse a home nobody initialised: a typo in ``--home`` must not start a new empty installation."""
        if not self.is_initialised():
            raise HomeNotInitialisedError(
                f"{self.home} is not an initialised BorderWatch home; check --home / BORDERWATCH_HOME "
                f"for a typo, or create it with `borderwatch init --home {self.home}`"
            )

    def ensure_dirs(self) -> None:
        for path in (
            self.landing_dir,
            self.inbox_dir,
            self.warehouse_dir,
            self.published_dir,
            self.reports_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


def init_home(settings: Settings) -> bool:
    """Create the home's directories and marker (``borderwatch init``); True when it was not one before.

    Idempotent: initialising an existing home changes nothing in it.
    """
    created = not settings.marker.is_file()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.ensure_dirs()
    _share_group_write(settings)
    if created:
        settings.marker.write_text(
            "BorderWatch home, created by `borderwatch init`. Everything below belongs to it.\n",
            encoding="utf-8",
        )
    return created


def _share_group_write(settings: Settings) -> None:
    """Give the home's subdirectories the home's group-write and setgid bits.

    A deployment hands the home to a group (the Airflow image: gid 0, mode 2775) so that every service's
    uid can write it; directories ``init`` creates must not narrow that to their creator (a root-run init
    used to leave ``inbox/`` and ``reports/`` unwritable for uid 50000).
    """
    mode = settings.home.stat().st_mode
    shared = mode & (stat.S_IWGRP | stat.S_ISGID)
    if not shared & stat.S_IWGRP:
        return
    for path in (
        settings.landing_dir,
        settings.inbox_dir,
        settings.warehouse_dir,
        settings.published_dir,
        settings.reports_dir,
    ):
        current = path.stat().st_mode
        if (current & shared) != shared:
            path.chmod(stat.S_IMODE(current) | shared | stat.S_IRGRP | stat.S_IXGRP)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    """An integer setting; a typo is an error naming the variable, not a ValueError traceback."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be a whole number of at least 1 (default {default})")
    return value


def installed_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings of an existing installation, its directories present: how the CLI and every Airflow task open
    a home. A home nobody initialised (a typo in ``--home`` or in the deployment's ``BORDERWATCH_HOME``) is
    refused with :class:`HomeNotInitialisedError`, never created empty and published from."""
    settings = get_settings(home)
    settings.require_initialised()
    settings.ensure_dirs()
    return settings


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Read settings from ``BORDERWATCH_*`` environment variables, with repo-relative defaults."""
    env = os.environ
    root = Path(home or env.get("BORDERWATCH_HOME") or REPO_ROOT / "var").expanduser().resolve()
    simulator_url = env.get("BORDERWATCH_SIMULATOR_URL", DEFAULT_SIMULATOR_URL).rstrip("/")
    if not simulator_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"BORDERWATCH_SIMULATOR_URL={simulator_url!r} must be an http:// or https:// URL "
            f"(default {DEFAULT_SIMULATOR_URL})"
        )
    return Settings(
        home=root,
        feeds_dir=Path(env.get("BORDERWATCH_FEEDS_DIR", REPO_ROOT / "feeds")),
        dbt_project_dir=Path(env.get("BORDERWATCH_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project")),
        expectations_dir=Path(env.get("BORDERWATCH_EXPECTATIONS_DIR", REPO_ROOT / "expectations")),
        simulator_url=simulator_url,
        keep_versions=_positive_int(env, "BORDERWATCH_KEEP_VERSIONS", 5),
    )
