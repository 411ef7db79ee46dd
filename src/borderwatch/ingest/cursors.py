"""Cursor state: where each feed's next pull starts, kept in ``raw._cursors``.

File feeds (``cursor.kind: file_name``) remember the greatest file name loaded; API feeds
(``updated_since``) remember, per stream (``records``, ``deletions``), the source's own text of the
latest ``updated_at`` loaded, and move it only in a batch that holds the stream's last page, so a pull
that died midway never skips records of the pages it did not load. Cursors move inside the load's
transaction: rows and cursor commit together. Inbox deliveries never move a cursor.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from borderwatch.specs import FeedSpec


def cursor_key(spec: FeedSpec, stream: str) -> str:
    """Cursor row name: the feed, or ``<feed>:deletions`` for an API feed's tombstone stream."""
    return spec.name if stream == "records" else f"{spec.name}:{stream}"


def get_cursor(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT cursor_value FROM raw._cursors WHERE feed = ?", [key]).fetchone()
    return row[0] if row else None


def set_cursor(con: duckdb.DuckDBPyConnection, key: str, value: str, now: dt.datetime) -> None:
    con.execute("DELETE FROM raw._cursors WHERE feed = ?", [key])
    con.execute("INSERT INTO raw._cursors VALUES (?, ?, ?)", [key, value, now])


def advance_file_cursor(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, names: list[str], now: dt.datetime
) -> str | None:
    """The greatest pulled file name settled in this batch, if it moves the cursor forward."""
    current = get_cursor(con, spec.name)
    best = max(names, default=None)
    if best is not None and (current is None or best > current):
        set_cursor(con, spec.name, best, now)
        return best
    return current


def advance_stream_cursor(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    stream: str,
    latest: tuple[dt.datetime, str] | None,
    complete: bool,
    now: dt.datetime,
) -> str | None:
    """Move an ``updated_since`` cursor to ``latest`` (typed value, source text) once a stream is complete."""
    key = cursor_key(spec, stream)
    row = con.execute(
        "SELECT cursor_value, try_cast(cursor_value AS TIMESTAMPTZ) AT TIME ZONE 'UTC' FROM raw._cursors "
        "WHERE feed = ?",
        [key],
    ).fetchone()
    current, current_ts = row if row else (None, None)
    if complete and latest is not None and (current_ts is None or latest[0] > current_ts):
        set_cursor(con, key, latest[1], now)
        return latest[1]
    return current
