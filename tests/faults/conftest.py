"""Fixtures for the fault suite: the hostile agency server (tests/support/hostile_http.py) and feeds on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_http import HostileServer

from borderwatch.config import Settings
from borderwatch.specs import FeedSpec

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """The hostile agency, started on a free loopback port."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def other_origin() -> Iterator[HostileServer]:
    """A second loopback server standing for an internal admin endpoint a redirect may point at."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def fault_settings(tmp_path: Path, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An isolated home whose feeds resolve ``${BORDERWATCH_SIMULATOR_URL}`` to the hostile server."""
    monkeypatch.setenv("BORDERWATCH_HTTP_BACKOFF_SECONDS", "0.001")
    settings = Settings(
        home=tmp_path / "home",
        feeds_dir=REPO / "feeds",
        dbt_project_dir=REPO / "dbt_project",
        expectations_dir=REPO / "expectations",
        simulator_url=hostile.url,
    )
    settings.ensure_dirs()
    return settings


def _spec(kind: str, url: str, fmt: dict[str, Any], cursor: dict[str, Any], **source: Any) -> FeedSpec:
    return FeedSpec.model_validate(
        {
            "name": f"hostile_{kind.removeprefix('http_')}",
            "agency": "TEST",
            "title": "A feed served by the hostile test server",
            "source": {"kind": kind, "url": url, "max_retries": 1, **source},
            "format": fmt,
            "cursor": cursor,
            "tables": [
                {
                    "table": f"hostile_{kind.removeprefix('http_')}",
                    "primary_key": ["id"],
                    "columns": [
                        {"name": "id", "type": "varchar", "required": True},
                        {"name": "updated_at", "type": "varchar"},
                        {"name": "note", "type": "varchar"},
                    ],
                }
            ],
        }
    )


def api_spec(**source: Any) -> FeedSpec:
    """A JSON API feed at ``/api`` with an updated_since cursor; ``source`` overrides spec keys."""
    return _spec(
        "http_api",
        "${BORDERWATCH_SIMULATOR_URL}/api",
        {"type": "json_api"},
        {"kind": "updated_since", "field": "updated_at", "param": "updated_since"},
        **source,
    )


def files_spec(*, max_file_bytes: int | None = None, **source: Any) -> FeedSpec:
    """A CSV file feed whose index is ``/files/``; ``source`` overrides spec keys."""
    fmt: dict[str, Any] = {"type": "csv"}
    if max_file_bytes is not None:
        fmt["max_file_bytes"] = max_file_bytes
    return _spec("http_files", "${BORDERWATCH_SIMULATOR_URL}/files/", fmt, {"kind": "file_name"}, **source)


@pytest.fixture
def make_api_spec() -> Callable[..., FeedSpec]:
    return api_spec


@pytest.fixture
def make_files_spec() -> Callable[..., FeedSpec]:
    return files_spec
