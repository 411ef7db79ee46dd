"""Event trigger that watches the drop inbox, so a delivered file starts the inbox DAG within seconds.

Runs in the triggerer (asyncio); the directory scan runs in a worker thread so a slow disk never blocks
other triggers. A file is announced once it has settled (not modified for ``settle_seconds``, so a half
copied file is not ingested) and only once per (name, size, mtime): it stays announced until the inbox DAG
moves it to landing or ``.rejected/``. After a triggerer restart files still waiting are announced again,
which is what we want (ingest is idempotent: landing is content-addressed and rows are de-duplicated).
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, AssetWatcher
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

FileSignature = tuple[int, int]  # (size in bytes, mtime in ns)


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    """True for visible files whose name matches a feed's inbox glob (dotfiles are partial uploads)."""
    return not name.startswith(".") and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def scan_inbox(inbox_dir: Path, patterns: Iterable[str]) -> dict[str, FileSignature]:
    """Top-level regular files in the inbox that belong to some feed; a missing inbox is simply empty."""
    patterns = tuple(patterns)
    found: dict[str, FileSignature] = {}
    try:
        entries = list(inbox_dir.iterdir())
    except FileNotFoundError:
        return found
    for entry in entries:
        if not matches_any(entry.name, patterns):
            continue
        try:
            stat = entry.stat()
        except FileNotFoundError:  # ingested between listing and stat
            continue
        if entry.is_file():
            found[entry.name] = (stat.st_size, stat.st_mtime_ns)
    return found


def new_arrivals(
    snapshot: Mapping[str, FileSignature],
    announced: dict[str, FileSignature],
    *,
    now_ns: int,
    settle_ns: int,
) -> list[str]:
    """Settled files not yet announced with this signature; updates ``announced``, forgets removed ones."""
    for name in [n for n in announced if n not in snapshot]:
        del announced[name]
    ready = []
    for name, signature in sorted(snapshot.items()):
        if announced.get(name) == signature or now_ns - signature[1] < settle_ns:
            continue
        announced[name] = signature
        ready.append(name)
    return ready


class InboxTrigger(BaseEventTrigger):
    """Fire a ``TriggerEvent({"inbox": dir, "files": [...]})`` whenever new feed files land in the inbox."""

    def __init__(
        self,
        inbox_dir: str,
        patterns: list[str],
        poll_interval: float = 5.0,
        settle_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.inbox_dir = str(inbox_dir)
        self.patterns = list(patterns)
        self.poll_interval = float(poll_interval)
        self.settle_seconds = float(settle_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath and kwargs the triggerer re-creates this trigger from (must be importable there)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "inbox_dir": self.inbox_dir,
                "patterns": self.patterns,
                "poll_interval": self.poll_interval,
                "settle_seconds": self.settle_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll forever; one event per batch of newly settled files."""
        announced: dict[str, FileSignature] = {}
        inbox = Path(self.inbox_dir)
        settle_ns = int(self.settle_seconds * 1e9)
        while True:
            snapshot = await asyncio.to_thread(scan_inbox, inbox, self.patterns)
            ready = new_arrivals(snapshot, announced, now_ns=time.time_ns(), settle_ns=settle_ns)
            if ready:
                self.log.info("inbox %s: new files %s", inbox, ready)
                yield TriggerEvent({"inbox": self.inbox_dir, "files": ready})
            await asyncio.sleep(self.poll_interval)


def inbox_asset(poll_interval: float = 5.0) -> Asset:
    """``borderwatch://inbox`` with an ``InboxTrigger`` watcher on this installation's inbox and feed globs.

    Built at DAG parse time from cheap sources only: ``get_settings()`` (environment) and the line scan of
    ``feeds/*.yaml`` in the factory.
    """
    from borderwatch.config import get_settings
    from borderwatch.orchestration.factory import INBOX_ASSET_URI, read_feed_entries

    patterns = sorted({g for entry in read_feed_entries() for g in entry.inbox_globs})
    trigger = InboxTrigger(
        inbox_dir=str(get_settings().inbox_dir), patterns=patterns, poll_interval=poll_interval
    )
    return Asset(
        uri=INBOX_ASSET_URI,
        name="borderwatch_inbox",
        group="borderwatch_inbox",
        watchers=[AssetWatcher(name="borderwatch_inbox_watcher", trigger=trigger)],
    )
