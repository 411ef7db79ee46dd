"""dbt-duckdb plugin: dbt's DuckDB connection gets the refresh's memory budget when it opens.

The profile (``dbt_project/profiles.yml``) lists this module under ``plugins``; dbt-duckdb calls
:meth:`Plugin.configure_connection` on every connection it opens, and the limit is whatever
:func:`borderwatch.duck.memory_limit` says at that moment (the budget minus what GX's warm worker holds
while it lives). Setting it here, not as a profile ``settings`` value, keeps the profile identical from
one invocation to the next: dbt hashes the profile's settings into its partial-parse state, so a limit
that moved with the reservations made it parse the whole project again (about 4 s) whenever it moved.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from borderwatch import duck


class Plugin(BasePlugin):  # type: ignore[misc]  # dbt-duckdb ships no type information
    """Sets ``memory_limit`` on each connection dbt opens (DuckDB applies it to the whole database)."""

    def configure_connection(self, conn: Any) -> None:
        duck.apply_memory_limit(conn)
