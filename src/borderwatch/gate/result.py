"""The gate's verdict (one typed result, passed between steps as JSON) and its run ids."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class GateError(RuntimeError):
    """The gate itself could not run (not a data-quality failure); the message says what to fix."""


@dataclass
class GateResult:
    """The verdict: ``passed`` is false when any block-severity check failed.

    ``data_docs_path`` is the run's offline report page (every check with its owner), beside
    ``summary_path``; ``reports/gate/index.html`` lists every run. ``timings`` says where the gate's
    time went (``gx_wait_s``: time spent waiting for GX's import, the part not hidden by a warm worker).
    """

    passed: bool
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    summary_path: Path | None = None
    data_docs_path: Path | None = None
    run_id: str = ""
    created_at: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary_path"] = str(self.summary_path) if self.summary_path else None
        data["data_docs_path"] = str(self.data_docs_path) if self.data_docs_path else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        """Inverse of :meth:`as_dict` (Airflow passes the verdict between tasks as JSON)."""
        return cls(
            passed=bool(data["passed"]),
            blocking_failures=list(data.get("blocking_failures", [])),
            warnings=list(data.get("warnings", [])),
            checks=list(data.get("checks", [])),
            summary_path=Path(data["summary_path"]) if data.get("summary_path") else None,
            data_docs_path=Path(data["data_docs_path"]) if data.get("data_docs_path") else None,
            run_id=str(data.get("run_id", "")),
            created_at=str(data.get("created_at", "")),
            timings={str(k): float(v) for k, v in (data.get("timings") or {}).items()},
        )


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique name for one gate run (UTC timestamp + short random suffix), never ``__none__``."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a reader (the index of runs) never sees half a summary."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
