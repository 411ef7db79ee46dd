"""Write-audit-publish: audit an immutable candidate, publish exactly it, switch readers atomically.

Layout under ``settings.warehouse_dir``::

    candidates/<id>/warehouse.duckdb         the build's marts + reference in published form (storage
                                             v1.2.0, keys, comments), written by DuckDB right after
                                             `dbt build`; read-only. It starts from the served version's
                                             file when the night only kept or appended rows, else it is
                                             written whole
    candidates/<id>/gate_inputs.duckdb       the gate's inputs (raw._loads), attached as ``raw`` when the
                                             gate opens the candidate; never published
    candidates/<id>/candidate.json           its sha256 (the id is its first 16 hex digits), fingerprint
                                             and any contract-key violation found while writing it
    candidates/<id>/dictionary.json          dbt's descriptions and contract keys for what was built
    published/<version>/warehouse.duckdb     the candidate's file itself (a hard link where the
                                             filesystem allows): exactly the audited bytes
    published/<version>/parquet/<table>/<writer>.parquet   a mart's parts, named by the version that wrote
                                             each; descriptions in KV metadata. Served parts are hard
                                             links: an unchanged mart links them all, one that only
                                             gained rows links them and adds one part of the new rows
    published/<version>/report.html          the offline publication report (figures and charts)
    published/<version>/manifest.json        version, row counts, sha256 of every file, Parquet paths,
                                             data dictionary, gate summary, the candidate it came from
    current        -> published/<version>    the ONE pointer that changes (atomic rename of a symlink)
    current.duckdb -> current/warehouse.duckdb   fixed; never changes, so it can't disagree with current

The gate audits a candidate, never the live build file, and :func:`publish` refuses any candidate whose
bytes differ from the ones audited (it hashes the file it places in the version): an operator's
``borderwatch build`` between audit and publish changes the build file, not the candidate. Every function
here that writes runs under the writer lock, which only :mod:`borderwatch.pipeline` takes. A version is
built in ``published/.tmp-<version>/``, fsynced, renamed into place, and only then is ``current`` swapped.
A crash at any step leaves ``current`` on a complete version; the next run removes leftovers. Readers with
the old file open keep reading it.

Modules: :mod:`.candidate` (snapshot, fingerprint), :mod:`.release` (publish one version),
:mod:`.versions` (list, verify, rollback, repair, retention), :mod:`.dictionary` (descriptions, keys),
:mod:`.core` (names on disk, result types; hashing and fsync are :mod:`borderwatch.files`).
"""

from borderwatch.files import sha256_file
from borderwatch.publish.candidate import (
    Candidate,
    candidates_dir,
    content_fingerprint,
    gate_inputs_problem,
    snapshot_candidate,
)
from borderwatch.publish.core import (
    CANDIDATE_META,
    CANDIDATES_DIR,
    CRASH_ENV,
    CRASH_STEPS,
    DB_NAME,
    DICTIONARY_NAME,
    GATE_INPUTS,
    MANIFEST_NAME,
    PARQUET_META_PREFIX,
    PARQUET_SCHEMA,
    PUBLISHED_SCHEMAS,
    REPAIR_COMMAND,
    REPORT_NAME,
    STORAGE_VERSION,
    TMP_PREFIX,
    GateVerdict,
    Publication,
    PublishError,
)
from borderwatch.publish.dictionary import dbt_dictionary, published_dictionary, undocumented_columns
from borderwatch.publish.release import git_describe, publish
from borderwatch.publish.versions import (
    RepairReport,
    apply_retention,
    cleanup_stale,
    current_publication,
    current_version,
    list_versions,
    parquet_set,
    read_manifest,
    repair,
    rollback,
    verify_version,
)

__all__ = [
    "CANDIDATES_DIR",
    "CANDIDATE_META",
    "CRASH_ENV",
    "CRASH_STEPS",
    "DB_NAME",
    "DICTIONARY_NAME",
    "GATE_INPUTS",
    "MANIFEST_NAME",
    "PARQUET_META_PREFIX",
    "PARQUET_SCHEMA",
    "PUBLISHED_SCHEMAS",
    "REPAIR_COMMAND",
    "REPORT_NAME",
    "STORAGE_VERSION",
    "TMP_PREFIX",
    "Candidate",
    "GateVerdict",
    "Publication",
    "PublishError",
    "RepairReport",
    "apply_retention",
    "candidates_dir",
    "cleanup_stale",
    "content_fingerprint",
    "current_publication",
    "current_version",
    "dbt_dictionary",
    "gate_inputs_problem",
    "git_describe",
    "list_versions",
    "parquet_set",
    "publish",
    "published_dictionary",
    "read_manifest",
    "repair",
    "rollback",
    "sha256_file",
    "snapshot_candidate",
    "undocumented_columns",
    "verify_version",
]
