"""Where each agency's feeds are fetched from, and with which credentials: one connection per agency.

Resolution order for a feed of agency ``KH-GDI`` (connection id ``borderwatch_kh_gdi``):

1. an Airflow Connection: the ``AIRFLOW_CONN_BORDERWATCH_KH_GDI`` environment variable (URI or JSON, parsed
   by Airflow's own ``Connection``), or, inside an Airflow task, any connection Airflow knows by that id
   (UI, metadata DB, secrets backend);
2. BorderWatch settings: ``BORDERWATCH_SOURCE_KH_GDI_URL`` with ``..._TOKEN`` or ``..._USER`` +
   ``..._PASSWORD``;
3. the default connection: the feed simulator (``BORDERWATCH_SIMULATOR_URL``), no credentials.

The base URL replaces ``${BORDERWATCH_SIMULATOR_URL}`` in the feed's ``source.url``. A token is sent as
``Authorization: Bearer``; login and password as HTTP basic auth; ``extra.headers`` as extra headers.
Secrets are kept out of ``repr`` and of every message this module builds (``describe`` says which kind of
auth is used, never its value); httpx drops ``Authorization`` on a redirect to another origin.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from borderwatch.config import Settings, SettingsError

if TYPE_CHECKING:
    import httpx

    from borderwatch.specs import FeedSpec

CONN_PREFIX = "borderwatch_"
DEFAULT_ORIGIN = "default (feed simulator)"


class SourceConnectionError(SettingsError):
    """An agency's connection is set but unusable; the message names the connection and the fix."""


@dataclass(frozen=True)
class SourceConnection:
    """Base URL and credentials for one agency's feeds."""

    conn_id: str
    base_url: str
    origin: str
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    extra_headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def auth_kind(self) -> str:
        if self.token:
            return "bearer token"
        if self.login and self.password:
            return "basic auth"
        return "no auth"

    def headers(self) -> dict[str, str]:
        """Request headers for every call to this source (the bearer token and ``extra.headers``)."""
        headers = {str(k): str(v) for k, v in self.extra_headers.items()}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def auth(self) -> httpx.Auth | None:
        """HTTP basic auth when login and password are set (and no token)."""
        if self.token or not (self.login and self.password):
            return None
        import httpx

        return httpx.BasicAuth(self.login, self.password)

    def describe(self) -> str:
        """One safe line for logs and the CLI: connection id, where it came from, URL, kind of auth."""
        return f"{self.conn_id} ({self.origin}): {self.base_url}, {self.auth_kind}"


def conn_id_for(agency: str) -> str:
    """``KH-GDI`` → ``borderwatch_kh_gdi``: the Airflow connection id of an agency."""
    return CONN_PREFIX + re.sub(r"[^a-z0-9]+", "_", agency.lower()).strip("_")


def _env_key(conn_id: str) -> str:
    return conn_id.upper()


def _airflow_connection(conn_id: str, env: Mapping[str, str]) -> Any | None:
    """Airflow's ``Connection`` for ``conn_id``: from ``AIRFLOW_CONN_*``, else (in a task) from Airflow."""
    raw = env.get(f"AIRFLOW_CONN_{_env_key(conn_id)}")
    if raw:
        from airflow.sdk.definitions.connection import Connection

        try:
            if raw.lstrip().startswith("{"):
                return Connection.from_json(raw, conn_id=conn_id)
            return Connection.from_uri(raw, conn_id=conn_id)
        except Exception as exc:  # Airflow raises several types for a malformed value
            raise SourceConnectionError(
                f"AIRFLOW_CONN_{_env_key(conn_id)} cannot be parsed ({type(exc).__name__}); give a URI "
                "like https://login:password@host/base or JSON with conn_type, host, login, password, extra"
            ) from None
    if env.get("AIRFLOW_CTX_DAG_ID"):  # inside an Airflow task: UI / metadata DB / secrets backends
        from airflow.sdk import BaseHook

        with contextlib.suppress(Exception):  # not defined there: fall through to settings and default
            return BaseHook.get_connection(conn_id)
    return None


def _base_url(conn: Any, conn_id: str) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise SourceConnectionError(
            f"Airflow connection {conn_id!r} has no host; set it to the agency's base URL"
        )
    if "://" not in host:
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    netloc = parts.netloc if conn.port is None or parts.port else f"{parts.netloc}:{conn.port}"
    path = parts.path.rstrip("/")
    if conn.schema and not path:
        path = "/" + str(conn.schema).strip("/")
    return f"{parts.scheme}://{netloc}{path}"


def _from_airflow(conn: Any, conn_id: str) -> SourceConnection:
    extra = conn.extra_dejson or {}
    headers = extra.get("headers") or {}
    if not isinstance(headers, dict):
        raise SourceConnectionError(f"Airflow connection {conn_id!r}: extra.headers must be a JSON object")
    return SourceConnection(
        conn_id=conn_id,
        base_url=_base_url(conn, conn_id),
        origin="Airflow connection",
        login=conn.login or None,
        password=conn.password or None,
        token=extra.get("token") or None,
        extra_headers=headers,
    )


def _from_settings(conn_id: str, env: Mapping[str, str]) -> SourceConnection | None:
    prefix = "BORDERWATCH_SOURCE_" + _env_key(conn_id).removeprefix(CONN_PREFIX.upper())
    url = env.get(f"{prefix}_URL")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SourceConnectionError(f"{prefix}_URL must be an http:// or https:// URL")
    return SourceConnection(
        conn_id=conn_id,
        base_url=url.rstrip("/"),
        origin=f"setting {prefix}_URL",
        login=env.get(f"{prefix}_USER") or None,
        password=env.get(f"{prefix}_PASSWORD") or None,
        token=env.get(f"{prefix}_TOKEN") or None,
    )


def connection_for(
    spec: FeedSpec, settings: Settings, env: Mapping[str, str] | None = None
) -> SourceConnection:
    """The connection a feed is pulled through (see the module docstring for the order)."""
    env = os.environ if env is None else env
    conn_id = conn_id_for(spec.agency)
    conn = _airflow_connection(conn_id, env)
    if conn is not None:
        return _from_airflow(conn, conn_id)
    return _from_settings(conn_id, env) or SourceConnection(
        conn_id=conn_id, base_url=settings.simulator_url, origin=DEFAULT_ORIGIN
    )


def feed_url(spec: FeedSpec, source: SourceConnection, url: str | None) -> str | None:
    """A spec URL with the connection's base URL in place of ``${BORDERWATCH_SIMULATOR_URL}``."""
    return spec.resolved_url(url, source.base_url)


def refuses_connections(url: str, timeout: float = 2.0) -> str | None:
    """Why a TCP connection to the URL's host fails right now (refused, unknown host), or None if it opens.

    A cheap pre-flight so an operator hears "nothing listens on 127.0.0.1:8765" in seconds instead of
    after every feed's retries have run out.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return f"nothing listens on {host}:{port} (connection refused)"
    except socket.gaierror:
        return f"host {host!r} is unknown (DNS)"
    except TimeoutError:
        return None  # slow, not refusing: the fetcher's own deadline and retries decide
    except OSError as exc:
        return f"{host}:{port} is unreachable ({exc.strerror or exc})"
