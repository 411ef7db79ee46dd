"""Load reports: what one feed's ingest (pull, inbox or replay) did, kept in raw._loads and as JSON."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
from rich.markup import escape

from borderwatch.config import Settings
from borderwatch.ingest.contract import new_load_id, utc_now

Status = Literal["loaded", "unchanged", "failed"]
ROW_COUNTS = ("rows_in", "rows_loaded", "rows_quarantined", "rows_duplicate")


@dataclass
class TableLoadResult:
    """What one file contributed to one raw table."""

    feed: str
    table: str
    file_name: str
    file_sha256: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    duplicate_file: bool = False


@dataclass
class FileLoadResult:
    """One landed file across all of its feed's tables."""

    feed: str
    file_name: str
    file_sha256: str
    status: str  # 'loaded' | 'duplicate'
    tables: list[TableLoadResult] = field(default_factory=list)
    cursor_value: str | None = None
    revision: int = 1
    supersedes: str | None = None

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    @property
    def rows_duplicate(self) -> int:
        return sum(t.rows_duplicate for t in self.tables)


@dataclass
class LoadReport:
    """Counts for one feed in one run. ``balanced`` must hold: every row read is accounted for."""

    feed: str
    status: Status = "unchanged"
    load_id: str = ""
    source: str = "pull"  # 'pull' | 'inbox' | 'replay'
    files_seen: int = 0
    files_loaded: int = 0
    files_duplicate: int = 0
    files_rejected: int = 0
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    error: str | None = None
    # 'source': the agency could not be reached (stale, not wrong: the gate warns);
    # 'data': what arrived is wrong (drift, reject rate, unreadable file: the gate blocks)
    failure_kind: Literal["source", "data"] | None = None
    cursor: str | None = None
    started_at: dt.datetime = field(default_factory=utc_now)
    finished_at: dt.datetime | None = None
    files: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.load_id:
            self.load_id = new_load_id(self.feed)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_loaded + self.rows_quarantined + self.rows_duplicate

    def add_file(self, result: FileLoadResult) -> None:
        """Fold one file's outcome into the totals."""
        if result.status == "duplicate":
            self.files_duplicate += 1
        else:
            self.files_loaded += 1
        for name in ROW_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(result, name))
        if result.cursor_value is not None:
            self.cursor = result.cursor_value
        self.files.append(
            {
                "file_name": result.file_name,
                "sha256": result.file_sha256,
                "status": result.status,
                "revision": result.revision,
                "supersedes": result.supersedes,
                "tables": {
                    t.table: [t.rows_in, t.rows_loaded, t.rows_quarantined, t.rows_duplicate]
                    for t in result.tables
                },
            }
        )

    def add_error(
        self, message: str, *, file_name: str | None = None, kind: Literal["source", "data"] = "data"
    ) -> None:
        """Record a failure; several (inbox, replay) are joined, and a data failure outranks a source one."""
        self.error = message if not self.error else f"{self.error}\n{message}"
        self.failure_kind = "data" if "data" in (kind, self.failure_kind) else "source"
        if file_name is not None:
            self.files.append({"file_name": file_name, "status": "rejected", "error": message})

    def finish(self) -> LoadReport:
        """Settle the status: failed if any error, loaded if raw changed, otherwise unchanged."""
        self.finished_at = utc_now()
        changed = self.rows_loaded or self.rows_quarantined
        self.status = "failed" if self.error else "loaded" if changed else "unchanged"
        return self

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["balanced"] = self.balanced
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def save_report(con: duckdb.DuckDBPyConnection, settings: Settings, report: LoadReport) -> Path:
    """Store a finished report in raw._loads and as JSON under ``reports/loads/``; returns the path."""
    data = report.as_dict()
    con.execute(
        "INSERT INTO raw._loads (load_id, feed, started_at, finished_at, report, status, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            report.load_id,
            report.feed,
            report.started_at,
            report.finished_at,
            json.dumps(data, ensure_ascii=False, default=str),
            report.status,
            report.error,
        ],
    )
    out_dir = settings.reports_dir / "loads"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.load_id}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def render_reports(reports: list[LoadReport]) -> None:
    """Print a rich table of load reports (one line per feed)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="BorderWatch ingest", show_lines=False)
    for name in ("feed", "source", "status"):
        table.add_column(name)
    for name in ("files", "dup files", "rows in", "loaded", "quarantined", "dup rows"):
        table.add_column(name, justify="right")
    for r in reports:
        colour = {"loaded": "green", "unchanged": "cyan", "failed": "red"}[r.status]
        counts = (str(getattr(r, c)) for c in ("files_loaded", "files_duplicate", *ROW_COUNTS))
        table.add_row(r.feed, r.source, f"[{colour}]{r.status}[/{colour}]", *counts)
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # logs and CI: do not squeeze the table to 80 columns
    console.print(table)
    for r in reports:
        if r.error:
            console.print(f"[red]{r.feed}[/red]: {escape(r.error)}", markup=True, highlight=False)
