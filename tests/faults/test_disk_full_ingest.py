"""Fault class: the disk fills up during ingest (held in issue 10's hostile run; guarded here).

Expected fate: wherever the write fails (the landing download, or the build file's commit), nothing of the
file is half-loaded: raw holds none of its rows, and a rerun once space is back loads every row exactly once.
The disk is "full" through RLIMIT_FSIZE in a child process (writes past the limit fail with EFBIG).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hostile_http import HostileServer

from borderwatch.config import Settings
from borderwatch.specs import FeedSpec

ROWS = 40_000
INGEST = r"""
import json, resource, signal, sys
from pathlib import Path
from borderwatch.config import Settings
from borderwatch.ingest import ingest_feed
from borderwatch.specs import FeedSpec
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
home, repo, url, spec, limit = sys.argv[1:6]
repo = Path(repo)
settings = Settings(Path(home), repo / "feeds", repo / "dbt_project", repo / "expectations", url)
settings.ensure_dirs()
if int(limit):
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
report = ingest_feed(settings, FeedSpec.model_validate_json(spec))
print(json.dumps({"status": report.status, "rows": report.rows_loaded}))
"""


def _ingest(settings: Settings, spec: FeedSpec, limit: int) -> subprocess.CompletedProcess[str]:
    repo = Path(__file__).resolve().parents[2]
    args = [str(settings.home), str(repo), settings.simulator_url, spec.model_dump_json(), str(limit)]
    return subprocess.run([sys.executable, "-c", INGEST, *args], capture_output=True, text=True, timeout=300)


def _rows(settings: Settings) -> int:
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        found = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'hostile_files'"
        ).fetchone()
        if not found or not found[0]:
            return 0
        row = con.execute("select count(*) from raw.hostile_files").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("limit", "where"), [(500_000, "landing download"), (3_000_000, "build file commit")]
)
def test_disk_full_during_ingest_loses_nothing(
    hostile: HostileServer,
    fault_settings: Settings,
    make_files_spec: Callable[..., FeedSpec],
    limit: int,
    where: str,
) -> None:
    """Fate: the run fails (report or exit code); raw holds none of the file; a rerun loads it once."""
    body = (
        "id,updated_at,note\n" + "".join(f"R{i:07d},2025-01-01,{'n' * 40}\n" for i in range(ROWS))
    ).encode()
    hostile.routes["/files/"] = lambda h: h.body(b'{"files": ["a.csv"]}')
    hostile.routes["/files/a.csv"] = lambda h: h.body(body)
    spec = make_files_spec()

    full = _ingest(fault_settings, spec, limit)
    failed = full.returncode != 0 or json.loads(full.stdout.splitlines()[-1])["status"] == "failed"
    assert failed, f"the {where} should have hit the limit: {full.stdout[-500:]}"
    assert _rows(fault_settings) == 0

    again = _ingest(fault_settings, spec, 0)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.splitlines()[-1]) == {"status": "loaded", "rows": ROWS}
    assert _rows(fault_settings) == ROWS
