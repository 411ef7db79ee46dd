"""Declarative feed specs (``feeds/*.yaml``), validated when loaded.

A spec says where a feed comes from, how its payloads are shaped, which columns its raw table has and
how each is parsed. Adding a feed means adding a YAML file here, not code.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Literal

import yaml  # type: ignore[import-untyped]  # no stubs in the lock (types-PyYAML)
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class FeedSpecError(ValueError):
    """A feed spec file is missing, unreadable or invalid; the message names the file and key."""


ColumnType = Literal["varchar", "integer", "bigint", "double", "date", "timestamp", "boolean", "json"]
ParseRule = Literal[
    "text",  # strip whitespace, NFC-normalise; empty string becomes NULL
    "int",  # Thai/Khmer digits to ASCII, thousands separators removed, then integer
    "float",
    "iso_date",  # YYYY-MM-DD (CE)
    "iso_timestamp",  # ISO 8601 with offset
    "dmy_date",  # DD/MM/YYYY, digits possibly Khmer
    "thai_date",  # "15 มี.ค. 2568" / "15 มีนาคม 2568" / 5-digit BE years; BE converted to CE
    "year_month",  # "2025-01" or BE "2568-01" → first day of month
    "bool",
    "json",  # nested value kept as JSON
    "label",  # one of the column's ``labels`` (case-insensitive, NFC, trimmed) → its canonical value
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One typed column of a feed's raw table."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source: str | None = None  # header / JSON key in the payload; defaults to ``name``
    type: ColumnType = "varchar"
    parse: ParseRule = "text"
    required: bool = False  # a row missing it is quarantined
    keep_raw: bool = False  # also store the untouched text as ``<name>_raw``
    # parse: label only: canonical value -> accepted labels; any other text is quarantined, never defaulted
    labels: dict[str, list[str]] | None = None
    description: str = ""

    @property
    def source_key(self) -> str:
        return self.source if self.source is not None else self.name

    @model_validator(mode="after")
    def _labels_match_parse(self) -> ColumnSpec:
        if self.parse == "label" and not self.labels:
            raise ValueError(f"labels: column {self.name!r} has parse: label but no labels")
        if self.parse != "label" and self.labels is not None:
            raise ValueError(f"labels: column {self.name!r} lists labels but its parse is {self.parse!r}")
        if self.parse == "label" and self.type != "varchar":
            raise ValueError(f"labels: column {self.name!r} has parse: label, so its type must be varchar")
        seen: dict[str, str] = {}
        for canonical, accepted in (self.labels or {}).items():
            if not canonical.strip() or not accepted:
                raise ValueError(f"labels: column {self.name!r}: {canonical!r} needs at least one label")
            for text in accepted:
                key = label_key(text)
                if not key:
                    raise ValueError(f"labels: column {self.name!r}: blank label under {canonical!r}")
                if seen.setdefault(key, canonical) != canonical:
                    raise ValueError(
                        f"labels: column {self.name!r}: {text!r} is listed under both "
                        f"{seen[key]!r} and {canonical!r}"
                    )
        return self

    @property
    def label_lookup(self) -> dict[str, str]:
        """``label_key(accepted label)`` -> canonical value, for ``parse: label`` columns (else empty)."""
        return {label_key(t): canonical for canonical, texts in (self.labels or {}).items() for t in texts}

    def parse_label(self, value: str | None) -> str | None:
        """The canonical value of a label cell; blank is ``None``; unknown text raises ``UnknownLabelError``.

        The one implementation of the ``label`` rule: an unknown label is never mapped to a default, so a
        minor cannot silently become an adult or an unknown sex.
        """
        if value is None or not label_key(value):
            return None
        try:
            return self.label_lookup[label_key(value)]
        except KeyError:
            raise UnknownLabelError(unknown_label_reason(self.name, value, list(self.labels or {}))) from None


class UnknownLabelError(ValueError):
    """A ``parse: label`` cell holds text that is none of the column's accepted labels (row quarantined)."""


def label_key(text: str) -> str:
    """How labels compare: NFC-normalised, whitespace trimmed, case-folded."""
    return unicodedata.normalize("NFC", text).strip().casefold()


def unknown_label_reason(column: str, text: str, accepted: list[str]) -> str:
    """The quarantine reason of an unknown label (wording fixed by the issue 9 contract)."""
    shown = unicodedata.normalize("NFC", text).strip()
    return f"unknown label '{shown}' for {column} (accepted: {', '.join(accepted)})"


class TableSpec(_Strict):
    """A raw table fed by a feed; XLSX feeds may fill one table per sheet."""

    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sheet: str | None = None  # XLSX only
    header_row_contains: str | None = None  # XLSX: first cell of the header row (title rows come above)
    skip_row_if_first_cell_matches: str | None = None  # regex: total rows and notes are not data
    primary_key: list[str] = Field(min_length=1)
    columns: list[ColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_are_columns(self) -> TableSpec:
        names = [c.name for c in self.columns]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"columns: duplicate column names {sorted(dupes)}")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"primary_key: {missing} are not listed under columns")
        return self


class SourceSpec(_Strict):
    """Where payloads come from."""

    kind: Literal["http_api", "http_files", "inbox"]
    url: str | None = None  # may contain ${BORDERWATCH_SIMULATOR_URL}
    deletions_url: str | None = None  # http_api: tombstones endpoint
    inbox_glob: str | None = None  # files in the drop inbox that belong to this feed
    page_size: int = 500
    timeout_seconds: float = Field(default=30.0, gt=0)  # one connect or read
    max_retries: int = 5
    request_deadline_seconds: float = Field(default=120.0, gt=0)  # one request, all phases and redirects
    run_deadline_seconds: float = Field(default=900.0, gt=0)  # all HTTP of one feed run, retries included
    max_pages: int = Field(default=1000, ge=1)  # JSON documents (index, API pages) per feed run
    max_page_bytes: int = Field(default=32 * 1_048_576, ge=1)  # one JSON document (files: max_file_bytes)
    redirect_origins: list[str] = []  # other origins a redirect may go to, e.g. "https://cdn.agency.go.th"
    allow_private_addresses: bool = False  # may those origins resolve to loopback/private/link-local?

    @model_validator(mode="after")
    def _has_location(self) -> SourceSpec:
        if self.kind in ("http_api", "http_files") and not self.url:
            raise ValueError(f"url: required when kind is {self.kind!r}")
        if self.kind == "inbox" and not self.inbox_glob:
            raise ValueError("inbox_glob: required when kind is 'inbox'")
        return self


class FormatSpec(_Strict):
    type: Literal["json_api", "csv", "xlsx", "ndjson"]
    encoding: str = "utf-8"  # utf-8-sig for BOM, cp874 for TIS-620
    delimiter: str = ","
    records_key: str = "data"  # json_api: list of records in each page
    max_line_bytes: int = 1_048_576  # longer lines are refused, not read into memory
    max_file_bytes: int = 512 * 1_048_576
    max_uncompressed_bytes: int = 256 * 1_048_576  # XLSX zip-bomb guard


class CursorSpec(_Strict):
    """Incremental position: a query parameter for APIs, or the last file name for file feeds."""

    kind: Literal["updated_since", "file_name"]
    field: str | None = None  # record field that advances an updated_since cursor
    param: str | None = None  # query parameter that carries it


class FeedSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    agency: str
    title: str
    description: str = ""
    source: SourceSpec
    inbox_glob: str | None = None  # the same feed may also arrive through the drop inbox
    format: FormatSpec
    cursor: CursorSpec
    calendar: Literal["CE", "BE"] = "CE"
    reject_rate_threshold: float = Field(default=0.05, ge=0, le=1)
    schedule: str = "@hourly"
    freshness_hours: int = 48
    tables: list[TableSpec] = Field(min_length=1)

    @field_validator("tables")
    @classmethod
    def _unique_tables(cls, tables: list[TableSpec]) -> list[TableSpec]:
        names = [t.table for t in tables]
        if len(set(names)) != len(names):
            raise ValueError("tables: table names must be unique")
        return tables

    def resolved_url(self, url: str | None, simulator_url: str | None = None) -> str | None:
        """Expand ``${VAR}`` references in a URL from the environment."""
        if url is None:
            return None
        env = dict(os.environ)
        if simulator_url:
            env["BORDERWATCH_SIMULATOR_URL"] = simulator_url
        env.setdefault("BORDERWATCH_SIMULATOR_URL", "http://127.0.0.1:8765")
        return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), url)


# libyaml's safe loader when PyYAML was built with it (the wheels are): the pure-Python one spent ~0.1 s on
# the six specs, paid by every process that loads them (DAG parsing, each ingest, the CLI)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec(path: Path) -> FeedSpec:
    """Load and validate one spec; errors name the file and the offending key."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise FeedSpecError(f"{path}: cannot read feed spec: {exc}") from exc
    if not isinstance(data, dict):
        raise FeedSpecError(f"{path}: a feed spec must be a mapping of keys, got {type(data).__name__}")
    try:
        spec = FeedSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise FeedSpecError(f"{path}: invalid feed spec: {problems}") from exc
    if spec.name != path.stem:
        raise FeedSpecError(f"{path}: name: {spec.name!r} must match the file name {path.stem!r}")
    return spec


def load_specs(feeds_dir: Path) -> dict[str, FeedSpec]:
    """All specs in a directory, keyed by feed name, in name order."""
    paths = sorted(feeds_dir.glob("*.yaml"))
    if not paths:
        raise FeedSpecError(f"{feeds_dir}: no feed specs (*.yaml) found")
    return {spec.name: spec for spec in (load_spec(p) for p in paths)}
