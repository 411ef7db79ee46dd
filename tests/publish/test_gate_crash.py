"""kill -9 during the gate: nothing is published, and the same candidate is audited again on rerun."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from borderwatch import pipeline
from borderwatch.config import Settings
from borderwatch.gate import GateResult
from borderwatch.locking import build_writer_lock
from borderwatch.publish import current_version, sha256_file
from borderwatch.warehouse import BuildResult

AUDIT_TASK = textwrap.dedent(
    """
    import json, sys
    from borderwatch.config import get_settings
    from borderwatch.orchestration import steps
    print("auditing", flush=True)
    steps.run_audit(json.loads(sys.argv[2]), settings=get_settings(sys.argv[1]))
    print("audited", flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_during_the_gate_publishes_nothing_and_the_rerun_audits_the_same_candidate(
    home: Settings, passed: GateResult, publish_now
) -> None:
    """Fate: `current` and the candidate are untouched, the lock is free, the rerun audits and publishes."""
    first = publish_now(home, passed)
    with duckdb.connect(str(home.build_db)) as con:
        con.execute("delete from marts.fct_raids where raid_id >= 'R000250'")
    built = pipeline.Built(BuildResult(ok=True), pipeline.snapshot(home))
    task = subprocess.Popen(
        [sys.executable, "-c", AUDIT_TASK, str(home.home), json.dumps(built.as_dict())],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert task.stdout is not None and task.stdout.readline().strip() == "auditing"
    time.sleep(1.0)  # inside the gate (GX import or checkpoint); the fate is the same if it already ended
    task.send_signal(signal.SIGKILL)
    task.wait(timeout=60)

    assert current_version(home) == first.version
    assert sha256_file(built.candidate.path) == built.candidate.sha256
    with build_writer_lock(home, timeout=1):
        pass  # the audit never held the writer lock, so a killed audit cannot leave it held

    audited = pipeline.audit(home, pipeline.Built.from_dict(json.loads(json.dumps(built.as_dict()))))
    assert audited.passed, audited.gate.blocking_failures
    again = pipeline.publish(home, audited, notify=False)
    assert again.version != first.version and again.row_counts["marts.fct_raids"] == 250
    manifest = json.loads(again.manifest_path.read_text())
    assert manifest["candidate"] == built.candidate.sha256
