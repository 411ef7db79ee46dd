"""Headless Chromium with the network cut off: what a person sees opening a page from disk, offline.

Every request goes to a proxy nobody listens on and no host name resolves, so a page that still needs a CDN
renders empty and the test that reads its DOM fails. ``make test`` installs Chromium (scripts/ci-tools.sh);
a machine without it fails loudly rather than skipping, so a green run always rendered the page.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    """The Chromium binary on PATH (asserted: a skipped render would hide an empty page)."""
    found = next((name for name in BROWSERS if shutil.which(name)), None)
    assert found, (
        "headless Chromium is needed to render pages (make test installs it: apt-get install chromium)"
    )
    return found


def dump_dom(page: Path, profile: Path, *, extra_args: Sequence[str] = (), timeout: float = 180) -> str:
    """The DOM Chromium rendered from ``page`` (a file on disk) with every network request refused."""
    out = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=http://127.0.0.1:9",  # nothing listens there: every fetch fails
            "--host-resolver-rules=MAP * ~NOTFOUND",  # and no name resolves
            f"--user-data-dir={profile}",
            *extra_args,
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return out.stdout
