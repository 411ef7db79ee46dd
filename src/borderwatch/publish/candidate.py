"""The audit candidate: the publishable warehouse, written once from the build file right after `dbt build`.

A candidate is what the gate audits and, byte for byte, what :func:`borderwatch.publish.publish` puts in
the version. It is written by DuckDB from the build file's published schemas (marts + reference) in the
published form (storage ``STORAGE_VERSION``, contract keys declared, dbt's descriptions as comments, views
re-rooted). The few tables the gate also reads (``GATE_INPUTS``) go to a file beside it
(``GATE_INPUTS_DB``), never into it, so nothing has to be dropped from the published copy (DuckDB would keep
the dropped bytes in its free blocks). Raw history, staging and intermediate models, which the gate never
reads, stay out. Then it is hashed, fingerprinted and made read-only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from borderwatch import duck
from borderwatch.config import Settings
from borderwatch.files import copy_file, fsync_dir, sha256_file
from borderwatch.locking import require_writer_lock
from borderwatch.publish.core import (
    CANDIDATE_META,
    CANDIDATES_DIR,
    DB_NAME,
    DICTIONARY_NAME,
    GATE_INPUTS,
    GATE_INPUTS_BESIDE,
    GATE_INPUTS_DB,
    PUBLISHED_SCHEMAS,
    STORAGE_VERSION,
    TMP_PREFIX,
    PublishError,
    fsync_files,
    ident,
    is_disk_full,
    sql_str,
    write_json,
)
from borderwatch.publish.dictionary import comment, dbt_dictionary, declare_keys
from borderwatch.publish.versions import cleanup_stale, served_manifest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """An immutable snapshot of the build's publishable content: what the gate audits and publish copies."""

    path: Path
    sha256: str
    content: dict[str, str]
    created_at: str = ""
    key_errors: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # per table: new, kept or appended
    gate_inputs: str | None = None  # sha256 of GATE_INPUTS_DB beside the file, when the build had any

    @property
    def id(self) -> str:
        return self.sha256[:16]

    @property
    def dictionary_path(self) -> Path:
        return self.path.parent / DICTIONARY_NAME

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows of every published relation, from the fingerprint (``"<rows>:<hash sum>"``)."""
        return {name: fingerprint_parts(value)[0] for name, value in self.content.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "sha256": self.sha256,
            "content": dict(self.content),
            "created_at": self.created_at,
            "key_errors": dict(self.key_errors),
            "tables": dict(self.tables),
            "gate_inputs": self.gate_inputs,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            path=Path(data["path"]),
            sha256=str(data["sha256"]),
            content={str(k): str(v) for k, v in data.get("content", {}).items()},
            created_at=str(data.get("created_at", "")),
            key_errors={str(k): str(v) for k, v in (data.get("key_errors") or {}).items()},
            tables={str(k): str(v) for k, v in (data.get("tables") or {}).items()},
            gate_inputs=str(data["gate_inputs"]) if data.get("gate_inputs") else None,
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
        base = served_base(settings)
        # the served file is copied (and hashed) by the kernel and a second thread while DuckDB
        # fingerprints the build: the three take about as long each, on two cores
        with ThreadPoolExecutor(max_workers=2) as pool:
            copied = pool.submit(copy_base, base, target, pool) if base is not None else None
            wanted = content_fingerprint(build_db)
            problem = copied.result() if copied is not None else None
        try:
            if problem:
                raise _WriteWhole(problem)
            written = write_candidate(build_db, target, settings.build_db.stem, dictionary, wanted, base)
        except _WriteWhole as reason:
            logger.info("%s: %s; writing the candidate whole", target, reason)
            target.unlink(missing_ok=True)
            base = None
            written = write_candidate(build_db, target, settings.build_db.stem, dictionary, wanted, None)
        content = written_content(target, written, wanted)
        if content != wanted and base is not None:
            logger.warning(
                "%s: patching %s gave other content than the build; writing it whole", target, base.path
            )
            target.unlink()
            written = write_candidate(build_db, target, settings.build_db.stem, dictionary, wanted, None)
            content = content_fingerprint(target)
        if content != wanted:
            diff = sorted(k for k in wanted.keys() | content.keys() if wanted.get(k) != content.get(k))
            raise PublishError(f"{target}: content differs from the build's after writing it: {diff}")
        target.chmod(0o444)
        digest = sha256_file(target)
        created_at = datetime.now(UTC).isoformat()
        gate_inputs = sha256_file(tmp / GATE_INPUTS_DB) if (tmp / GATE_INPUTS_DB).is_file() else None
        write_json(tmp / DICTIONARY_NAME, dictionary)
        meta = {
            "sha256": digest,
            "content": content,
            "created_at": created_at,
            "key_errors": written.key_errors,
            "base": str(base.path) if base else None,
            "tables": written.tables,
            "gate_inputs": gate_inputs,
        }
        key_errors = written.key_errors
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
        path=final / DB_NAME,
        sha256=digest,
        content=content,
        created_at=created_at,
        key_errors=key_errors,
        tables=written.tables,
        gate_inputs=gate_inputs,
    )
    prune_candidates(settings, keep={candidate.id})
    return candidate


class _WriteWhole(Exception):
    """Starting from the served version would drop or overwrite served rows: write the candidate afresh."""


@dataclass(frozen=True)
class Base:
    """The served version's database: the starting point of the next candidate, its content and sha256."""

    path: Path
    content: dict[str, str]
    sha256: str


@dataclass
class Written:
    """What :func:`write_candidate` did per table (new, kept, appended) and key violations."""

    tables: dict[str, str] = field(default_factory=dict)
    key_errors: dict[str, str] = field(default_factory=dict)


def served_base(settings: Settings) -> Base | None:
    """The current version's file when the next candidate can start from it: same storage version, and
    written with the gate's inputs beside it (its free blocks then hold only bytes of rows it still serves,
    left by earlier appends; an older version's hold the dropped gate inputs)."""
    manifest = served_manifest(settings)
    if (
        manifest is None
        or manifest.get("storage_version") != STORAGE_VERSION
        or manifest.get("gate_inputs") != GATE_INPUTS_BESIDE
    ):
        return None
    path = settings.published_dir / str(manifest["version"]) / DB_NAME
    digest = (manifest.get("files") or {}).get(DB_NAME)
    if not path.is_file() or not isinstance(manifest.get("content"), dict) or not digest:
        return None
    return Base(
        path=path, content={str(k): str(v) for k, v in manifest["content"].items()}, sha256=str(digest)
    )


def copy_base(base: Base, target: Path, pool: ThreadPoolExecutor) -> str | None:
    """Copy the served file to ``target``, where the candidate starts; why it cannot start there, or None.

    The copy's bytes must be the ones published (and fingerprinted) as the served version: the content
    of every table kept or appended to is taken from its manifest, not measured again. The served file is
    hashed on ``pool``'s other thread while the kernel copies it (:func:`~borderwatch.files.copy_file`:
    no I/O at all on a filesystem with reflinks), which costs less than one Python loop doing both.
    """
    served = pool.submit(sha256_file, base.path)
    copy_file(base.path, target)
    target.chmod(0o644)
    if served.result() != base.sha256:
        return f"{base.path}: its sha256 differs from its version's manifest"
    return None


def write_candidate(
    source_db: Path,
    target: Path,
    build_catalog: str,
    docs: dict[str, Any],
    wanted: dict[str, str],
    base: Base | None,
) -> Written:
    """The build's published tables and gate inputs in published form: keys, comments, re-rooted views.

    With a ``base`` (the served version) the candidate starts as its copy (:func:`copy_base`, already at
    ``target``) and pays only for what
    changed: a table whose fingerprint (``wanted``) equals the served one is kept as is; one that only
    gained rows (same key, same row hash for every served row) gets them appended. Any other change (a
    served row changed or went, a column or key changed, a table went) raises :class:`_WriteWhole`: the
    caller then writes every table afresh, because DuckDB keeps the bytes of deleted rows and dropped
    tables in the file, and a correction must not leave the superseded figures inside the next published
    file. The file is in DuckDB storage ``STORAGE_VERSION`` (a copied base keeps it) so DuckDB 1.x readers
    can open it once published.
    """
    options = "(storage_version '" + STORAGE_VERSION + "')" if base is None else ""
    spill = target.parent / ".duckdb-spill"  # removed below: never part of the immutable candidate
    con = duck.connect(spill_dir=spill)
    written = Written()
    try:
        con.execute(f"attach '{sql_str(source_db)}' as src (read_only)")
        con.execute(f"attach '{sql_str(target)}' as pub {options}")
        con.execute("use pub")
        schemas = ", ".join(repr(s) for s in PUBLISHED_SCHEMAS)
        tables = _relations(con, "src", f"schema_name in ({schemas})")
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(
                f"{source_db}: the build file has no tables in schema 'marts'; nothing to publish"
            )
        views = con.execute(
            "select schema_name, view_name, sql from duckdb_views() where database_name = 'src' "
            f"and not internal and schema_name in ({schemas}) order by 1, 2"
        ).fetchall()
        inputs = [t for t in GATE_INPUTS if t in set(_relations(con, "src", "true"))]
        for schema, view in _relations(con, "pub", "true", kind="view"):
            con.execute(f"drop view {ident(schema)}.{ident(view)}")
        for schema, table in _relations(con, "pub", "true"):
            if (schema, table) not in tables:
                raise _WriteWhole(f"{schema}.{table} is served but no longer built")
        kept = set(_relations(con, "pub", "true"))
        for schema in sorted({s for s, _ in tables} | {s for s, _, _ in views}):
            con.execute(f"create schema if not exists {ident(schema)}")
        for schema, table in tables:
            name = f"{schema}.{table}"
            doc = docs.get(name) or {}
            fate = "new"
            if (schema, table) in kept and base is not None:
                fate = _patch(
                    con, schema, table, doc, served=base.content.get(name, ""), built=wanted.get(name, "")
                )
                if fate == "rewritten":
                    raise _WriteWhole(f"{name} changed beyond new rows")
            written.tables[name] = fate
            if fate == "new":
                relation = f"{ident(schema)}.{ident(table)}"
                con.execute(f"create table {relation} as select * from src.{relation}")
                error = declare_keys(con, schema, table, doc)
                if error:
                    written.key_errors[name] = error
        _write_gate_inputs(con, inputs, target.parent / GATE_INPUTS_DB)
        con.execute("detach src")
        for schema, view, sql in views:
            con.execute(portable_view_sql(schema, view, sql, build_catalog))
        kinds = {**{(s, t): "table" for s, t in tables}, **{(s, v): "view" for s, v, _ in views}}
        for (schema, name), kind in kinds.items():
            comment(con, kind, schema, name, docs.get(f"{schema}.{name}") or {})
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach pub")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return written


def _write_gate_inputs(con: duckdb.DuckDBPyConnection, inputs: list[tuple[str, str]], path: Path) -> None:
    """The gate's inputs into their own file beside the candidate, in its default schema.

    :func:`borderwatch.publish.core.attach_gate_inputs` attaches it under the schema's name, so the gate
    reads ``raw._loads`` as it would in the build file.
    """
    path.unlink(missing_ok=True)  # left by an attempt that was then written whole
    if not inputs:
        return
    con.execute(f"attach '{sql_str(path)}' as _bw_gate_inputs")
    try:
        for schema, table in inputs:
            relation = f"{ident(schema)}.{ident(table)}"
            con.execute(f"create table _bw_gate_inputs.main.{ident(table)} as select * from src.{relation}")
    finally:
        con.execute("detach _bw_gate_inputs")


def _relations(
    con: duckdb.DuckDBPyConnection, database: str, where: str, *, kind: str = "table"
) -> list[tuple[str, str]]:
    name, catalog = ("view_name", "duckdb_views()") if kind == "view" else ("table_name", "duckdb_tables()")
    internal = " and not internal" if kind == "view" else ""
    rows = con.execute(
        f"select schema_name, {name} from {catalog} "
        f"where database_name = ?{internal} and {where} order by 1, 2",
        [database],
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


APPEND_SHARE = 0.25
"""A table that gained more rows than this share of its served rows is written afresh, not appended to:
comparing and appending tens of millions of rows (a history published for the first time) costs several
times the fresh write."""


def _patch(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, doc: dict[str, Any], *, served: str, built: str
) -> str:
    """Bring the served copy of one table up to the build's: "kept", "appended" or "rewritten" (not done).

    ``served`` and ``built`` are the table's fingerprints (``"<rows>:<hash sum>"``). Only a table with the
    same columns and declared keys as the contract asks is patched; appending needs a key to tell new rows
    from changed ones: the contract's primary key, else a column a dbt uniqueness test owns (the gate
    fails the build when it is not unique; the fingerprint check after writing catches anything else).
    """
    columns = (
        "select column_name, data_type, is_nullable from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index"
    )
    src = con.execute(columns, ["src", schema, table]).fetchall()
    pub = con.execute(columns, ["pub", schema, table]).fetchall()
    key = [str(c) for c in doc.get("primary_key") or []]
    declared = con.execute(
        "select constraint_column_names from duckdb_constraints() where database_name = 'pub' "
        "and schema_name = ? and table_name = ? and constraint_type = 'PRIMARY KEY'",
        [schema, table],
    ).fetchall()
    not_null = {str(c) for c, _, nullable in pub if not nullable}
    if (
        [(c, t) for c, t, _ in src] != [(c, t) for c, t, _ in pub]
        or [list(k) for (k,) in declared] != ([key] if key else [])
        or not_null != set(doc.get("not_null") or []) | set(key)
    ):
        return "rewritten"
    if served == built:
        return "kept"
    key = key or [str(c) for c in (doc.get("unique") or [])[:1]]
    (served_rows, served_sum), (built_rows, built_sum) = fingerprint_parts(served), fingerprint_parts(built)
    if not key or built_rows - served_rows > APPEND_SHARE * served_rows:
        return "rewritten"
    relation = f"{ident(schema)}.{ident(table)}"
    keyed = f"hash({', '.join(ident(k) for k in key)})"
    # New rows are found one way, and the fingerprints prove the rest unchanged: built = served + new, in
    # rows and in the sum of row hashes. A changed or deleted served row, a duplicated key or a missed new
    # row breaks the equation. First the cheap way, where the table says when its rows were loaded: the
    # rows loaded after the newest served one (the night's; a scan of one column that skips old row
    # groups). Then the general way: the rows whose key (as a 64-bit hash: a join on integers, not on long
    # text keys) the served table lacks (a raid newly linked to an old load is new but not newly loaded).
    # When neither balances, the table is written afresh.
    new = "create or replace temp table _bw_new as select * from"
    by_key = [
        f"create or replace temp table _bw_new_keys as select _h from (select {keyed} as _h from "
        f"src.{relation}) anti join (select {keyed} as _h from pub.{relation}) using (_h)",
        f"{new} src.{relation} where {keyed} in (select _h from _bw_new_keys)",
    ]
    ways = {"by key": by_key}
    if "_loaded_at" in {c for c, _, _ in src}:
        newest = f"select max(_loaded_at) from pub.{relation}"
        ways = {"by load time": [f"{new} src.{relation} where _loaded_at > ({newest})"], **ways}
    try:
        for way, statements in ways.items():
            for statement in statements:
                con.execute(statement)
            rows, total = con.execute(
                "select count(*), coalesce(sum(hash(t)::hugeint), 0) from _bw_new as t"
            ).fetchone() or (0, 0)
            if rows and (served_rows + rows, served_sum + int(total)) == (built_rows, built_sum):
                con.execute(f"insert into pub.{relation} select * from _bw_new")
                logger.info("%s.%s: %d new rows found %s, appended", schema, table, rows, way)
                return "appended"
        return "rewritten"
    except duckdb.Error as exc:
        logger.info("%s.%s: appending failed (%s); rewriting it", schema, table, exc)
        return "rewritten"
    finally:
        con.execute("drop table if exists temp._bw_new_keys")
        con.execute("drop table if exists temp._bw_new")


def written_content(target: Path, written: Written, wanted: dict[str, str]) -> dict[str, str]:
    """The fingerprint of what :func:`write_candidate` wrote, measured only where it is not already known.

    A table "kept" is the served version's bytes (the copy's sha256 was checked against the version's
    manifest), so its content is the served one, which equals the build's; one "appended" to was proven
    equal to the build's by :func:`_patch` (served rows + the appended rows = the build's rows, in count and
    in hash sum). Tables written afresh and every view are fingerprinted in ``target``.
    """
    known = {name for name, fate in written.tables.items() if fate in ("kept", "appended") and name in wanted}
    return {**content_fingerprint(target, skip=known), **{name: wanted[name] for name in known}}


def fingerprint_parts(fingerprint: str) -> tuple[int, int]:
    """Rows and row-hash sum of a fingerprint (``"<rows>:<hash sum>"``, :func:`content_fingerprint`);
    an empty one (a relation the other side lacks) is no rows."""
    rows, _, total = fingerprint.partition(":")
    return int(rows or 0), int(total or 0)


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


def content_fingerprint(db_path: Path, *, skip: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """Order-independent fingerprint of every published table and view: row count + sum of row hashes.

    Two builds with equal fingerprints publish the same data, whatever order dbt wrote the rows in. One
    query per relation, all aggregates in DuckDB's parallel scan; gate inputs are not published, so they
    are not fingerprinted, and neither is any relation named in ``skip`` (``schema.name``).
    """
    con = duck.connect(db_path, read_only=True)
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
            if f"{schema}.{name}" in skip:
                continue
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


def gate_inputs_problem(candidate: Candidate) -> str | None:
    """Why the gate inputs beside ``candidate`` are not the ones its snapshot wrote, or None when they are.

    The gate reads feed health (``raw._loads``) from that file; like the candidate itself it must be the
    snapshot's bytes, or a swapped file could pass a build whose feeds failed.
    """
    sidecar = candidate.path.parent / GATE_INPUTS_DB
    if candidate.gate_inputs is None:
        return f"{sidecar}: present, but the snapshot wrote none" if sidecar.exists() else None
    if not sidecar.is_file():
        return f"{sidecar}: the snapshot's gate inputs are gone"
    actual = sha256_file(sidecar)
    if actual != candidate.gate_inputs:
        return f"{sidecar}: sha256 {actual} differs from the snapshot's {candidate.gate_inputs}"
    return None


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
        db = directory / DB_NAME  # not a glob: the gate inputs lie beside it as another .duckdb file
        if not db.is_file():
            return None
        return Candidate(
            path=db,
            sha256=str(meta["sha256"]),
            content=dict(meta.get("content", {})),
            created_at=str(meta.get("created_at", "")),
            key_errors=dict(meta.get("key_errors") or {}),
            tables=dict(meta.get("tables") or {}),
            gate_inputs=str(meta["gate_inputs"]) if meta.get("gate_inputs") else None,
        )
    except (OSError, ValueError, KeyError):
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
