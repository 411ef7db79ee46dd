"""The audit candidate: the publishable warehouse, written once from the build file right after `dbt build`.

A candidate is what the gate audits and the only thing :func:`borderwatch.publish.publish` copies. It is
written by DuckDB from the build file's published schemas (marts + reference) in the published form
(storage ``STORAGE_VERSION``, contract keys declared, dbt's descriptions as comments, views re-rooted),
plus the few tables the gate reads (``GATE_INPUTS``); raw history, staging and intermediate models, which
the gate never reads, stay out. Then it is hashed, fingerprinted and made read-only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.config import Settings
from borderwatch.locking import require_writer_lock
from borderwatch.publish.core import (
    CANDIDATE_META,
    CANDIDATES_DIR,
    DB_NAME,
    DICTIONARY_NAME,
    GATE_INPUTS,
    NO_DOWNLOADS,
    PUBLISHED_SCHEMAS,
    STORAGE_VERSION,
    TMP_PREFIX,
    PublishError,
    count_rows,
    fsync_dir,
    fsync_files,
    ident,
    is_disk_full,
    sha256_file,
    sql_str,
    write_json,
)
from borderwatch.publish.dictionary import comment, dbt_dictionary, declare_keys
from borderwatch.publish.versions import cleanup_stale


@dataclass(frozen=True)
class Candidate:
    """An immutable snapshot of the build's publishable content: what the gate audits and publish copies."""

    path: Path
    sha256: str
    content: dict[str, str]
    created_at: str = ""
    key_errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.sha256[:16]

    @property
    def dictionary_path(self) -> Path:
        return self.path.parent / DICTIONARY_NAME

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows of every published relation, from the fingerprint (``"<rows>:<hash sum>"``)."""
        return {name: int(value.split(":", 1)[0]) for name, value in self.content.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "sha256": self.sha256,
            "content": dict(self.content),
            "created_at": self.created_at,
            "key_errors": dict(self.key_errors),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            path=Path(data["path"]),
            sha256=str(data["sha256"]),
            content={str(k): str(v) for k, v in data.get("content", {}).items()},
            created_at=str(data.get("created_at", "")),
            key_errors={str(k): str(v) for k, v in (data.get("key_errors") or {}).items()},
        )


def candidates_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / CANDIDATES_DIR


def snapshot_candidate(settings: Settings, *, dbt_manifest: Path | None = None) -> Candidate:
    """Write the build's publishable content into an immutable candidate (right after ``dbt build``).

    Under the writer lock. ``dbt_manifest`` (dbt's ``target/manifest.json``) supplies the descriptions
    and contract keys that the candidate, and so the publication, carries.
    """
    require_writer_lock(settings, "snapshotting a candidate")
    build_db = settings.build_db
    if not build_db.is_file():
        raise PublishError(f"{build_db}: no build file to audit; run `borderwatch build` first")
    root = candidates_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    cleanup_stale(settings)
    tmp = root / f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        dictionary = dbt_dictionary(dbt_manifest) if dbt_manifest else {}
        target = tmp / DB_NAME
        source_counts, key_errors = write_candidate(build_db, target, settings.build_db.stem, dictionary)
        content = content_fingerprint(target)
        copied = {name: int(value.split(":", 1)[0]) for name, value in content.items()}
        if copied != source_counts:
            diff = {k: (v, copied.get(k)) for k, v in source_counts.items() if copied.get(k) != v}
            raise PublishError(
                f"{target}: row counts differ from the build after copying (build, copy): {diff}"
            )
        target.chmod(0o444)
        digest = sha256_file(target)
        created_at = datetime.now(UTC).isoformat()
        write_json(tmp / DICTIONARY_NAME, dictionary)
        meta = {"sha256": digest, "content": content, "created_at": created_at, "key_errors": key_errors}
        write_json(tmp / CANDIDATE_META, meta)
        for path in tmp.iterdir():
            path.chmod(0o444)
        fsync_files(tmp.iterdir())
        fsync_dir(tmp)
        final = root / digest[:16]
        if final.is_dir():  # the same bytes were snapshotted before: that candidate stands
            shutil.rmtree(tmp)
            existing = candidate_from_dir(final)
            if existing is not None and existing.sha256 == digest:
                prune_candidates(settings, keep={existing.id})
                return existing
            shutil.rmtree(final)
            return snapshot_candidate(settings, dbt_manifest=dbt_manifest)
        os.rename(tmp, final)
        fsync_dir(root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError | duckdb.Error) and is_disk_full(exc):
            raise PublishError(
                f"{root}: disk full while writing the build into an audit candidate ({exc}); nothing "
                "was audited or published and the current version keeps serving. Free space and run the "
                "refresh again."
            ) from exc
        raise
    candidate = Candidate(
        path=final / DB_NAME, sha256=digest, content=content, created_at=created_at, key_errors=key_errors
    )
    prune_candidates(settings, keep={candidate.id})
    return candidate


def write_candidate(
    source_db: Path, target: Path, build_catalog: str, docs: dict[str, Any]
) -> tuple[dict[str, int], dict[str, str]]:
    """CREATE TABLE AS every published table and gate input, re-create views, add keys and comments.

    Returns the source's row count of every published relation and, per table, why its data breaks its
    contract keys (the gate judges such a build; publish refuses it). The file is written in DuckDB
    storage ``STORAGE_VERSION`` so DuckDB 1.x readers can open it once published.
    """
    con = duckdb.connect(":memory:", config=dict(NO_DOWNLOADS))
    try:
        con.execute(f"attach '{sql_str(source_db)}' as src (read_only)")
        con.execute(f"attach '{sql_str(target)}' as pub (storage_version '{STORAGE_VERSION}')")
        con.execute("use pub")
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'src' "
            f"and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(
                f"{source_db}: the build file has no tables in schema 'marts'; nothing to publish"
            )
        views = con.execute(
            "select schema_name, view_name, sql from duckdb_views() where database_name = 'src' "
            f"and not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        present = {
            (s, t)
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'src'"
            ).fetchall()
        }
        inputs = [t for t in GATE_INPUTS if t in present]
        for schema in sorted({s for s, _ in tables} | {s for s, _, _ in views} | {s for s, _ in inputs}):
            con.execute(f"create schema if not exists {ident(schema)}")
        counts: dict[str, int] = {}
        key_errors: dict[str, str] = {}
        for schema, table in [*tables, *inputs]:
            name = f"{ident(schema)}.{ident(table)}"
            con.execute(f"create table {name} as select * from src.{name}")
            if (schema, table) in inputs:
                continue
            counts[f"{schema}.{table}"] = count_rows(con, f"src.{name}")
            error = declare_keys(con, schema, table, docs.get(f"{schema}.{table}") or {})
            if error:
                key_errors[f"{schema}.{table}"] = error
        con.execute("detach src")
        for schema, view, sql in views:
            con.execute(portable_view_sql(schema, view, sql, build_catalog))
            counts[f"{schema}.{view}"] = count_rows(con, f"{ident(schema)}.{ident(view)}")
        kinds = {**{(s, t): "table" for s, t in tables}, **{(s, v): "view" for s, v, _ in views}}
        for (schema, name), kind in kinds.items():
            comment(con, kind, schema, name, docs.get(f"{schema}.{name}") or {})
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach pub")
    finally:
        con.close()
    return counts, key_errors


def portable_view_sql(schema: str, view: str, sql: str, build_catalog: str) -> str:
    """Re-root a view from the build file: strip the build catalog name so it resolves in any file."""
    match = re.match(
        r"\s*create\s+(?:or\s+replace\s+)?view\s+.+?\s+as\s+", sql, flags=re.IGNORECASE | re.DOTALL
    )
    if not match:
        raise PublishError(f"view {schema}.{view}: cannot read its definition to re-create it: {sql[:200]!r}")
    body = sql[match.end() :].rstrip().rstrip(";")
    for catalog in {build_catalog, "src"}:
        body = re.sub(rf'(?<![\w"])"?{re.escape(catalog)}"?\.(?=["\w])', "", body)
    return f"create view {ident(schema)}.{ident(view)} as {body}"


def content_fingerprint(db_path: Path) -> dict[str, str]:
    """Order-independent fingerprint of every published table and view: row count + sum of row hashes.

    Two builds with equal fingerprints publish the same data, whatever order dbt wrote the rows in. One
    query per relation, all aggregates in DuckDB's parallel scan; gate inputs are not published, so they
    are not fingerprinted.
    """
    con = duckdb.connect(str(db_path), read_only=True, config=dict(NO_DOWNLOADS))
    try:
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            f"and schema_name in ({schemas}) union all "
            "select schema_name, view_name from duckdb_views() where database_name = current_database() "
            f"and not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        prints = {}
        for schema, name in relations:
            relation = f"{ident(schema)}.{ident(name)}"
            rows, total = con.execute(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {relation} as t"
            ).fetchone() or (0, 0)
            prints[f"{schema}.{name}"] = f"{rows}:{total}"
        return prints
    finally:
        con.close()


def locate_candidate(settings: Settings, candidate: Candidate) -> Path:
    """The candidate's file, refused when it is not one of this installation's or is gone."""
    root = candidates_dir(settings).resolve()
    path = candidate.path.resolve()
    if path.parent.parent != root:
        raise PublishError(
            f"{candidate.path}: not a candidate of this installation ({root}); publish only what "
            "`borderwatch refresh` (or the warehouse_refresh DAG) built and audited"
        )
    if not path.is_file():
        raise PublishError(
            f"{candidate.path}: the audited candidate {candidate.id} is gone (a newer build replaced it); "
            "nothing was published. Run the refresh again to build, audit and publish the newest data."
        )
    return path


def refuse_changed(candidate: Candidate, actual: str) -> None:
    """The bytes about to be published must be the audited ones."""
    if actual != candidate.sha256:
        raise PublishError(
            f"{candidate.path}: sha256 {actual} differs from the audited {candidate.sha256}; the candidate "
            "changed after the audit, so nothing was published. Run the refresh again."
        )


def verify_candidate(settings: Settings, candidate: Candidate) -> None:
    """Refuse a candidate that is not exactly the bytes that were audited (or not ours at all)."""
    refuse_changed(candidate, sha256_file(locate_candidate(settings, candidate)))


def refuse_broken_keys(candidate: Candidate) -> None:
    """A build whose data breaks its contract keys is never published, whatever the verdict said."""
    if candidate.key_errors:
        relation, error = sorted(candidate.key_errors.items())[0]
        raise PublishError(
            f"{relation}: the data breaks its dbt contract's keys ({error}); nothing was published. "
            "The gate should have caught this: add the matching dbt test and rebuild."
        )


def candidate_from_dir(directory: Path) -> Candidate | None:
    try:
        meta = json.loads((directory / CANDIDATE_META).read_text(encoding="utf-8"))
        db = next(p for p in directory.glob("*.duckdb"))
        return Candidate(
            path=db,
            sha256=str(meta["sha256"]),
            content=dict(meta.get("content", {})),
            created_at=str(meta.get("created_at", "")),
            key_errors=dict(meta.get("key_errors") or {}),
        )
    except (OSError, ValueError, KeyError, StopIteration):
        return None


def prune_candidates(settings: Settings, *, keep: set[str], keep_newest_other: bool = True) -> list[str]:
    """Drop old candidates but ``keep`` and (by default) the newest other one, which a run may be auditing."""
    root = candidates_dir(settings)
    if not root.is_dir():
        return []
    others = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in keep),
        key=lambda p: p.stat().st_mtime,
    )
    doomed = others[:-1] if keep_newest_other and others else others
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in doomed]


def drop_candidate(settings: Settings, candidate: Candidate) -> None:
    """The published (or already served) candidate is not needed any more; neither are older ones."""
    root = candidates_dir(settings)
    doomed = [candidate.path.parent]
    if root.is_dir():
        mine = candidate.path.parent.stat().st_mtime if candidate.path.parent.exists() else None
        doomed += [
            p
            for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and mine is not None and p.stat().st_mtime < mine
        ]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
