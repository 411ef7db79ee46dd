"""Feed endpoints and credentials per agency: Airflow Connections, BorderWatch settings, the simulator.

The credential tests talk to a real HTTP server on loopback that insists on the agency's credentials.
"""

from __future__ import annotations

import base64
import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from borderwatch.config import get_settings
from borderwatch.sources import (
    DEFAULT_ORIGIN,
    SourceConnectionError,
    conn_id_for,
    connection_for,
    feed_url,
)
from borderwatch.specs import load_specs

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "tok-3f9a1c-very-secret"
PASSWORD = "pw-77b2-very-secret"


@pytest.fixture(scope="module")
def rtp():
    return load_specs(REPO_ROOT / "feeds")["rtp_raids"]


@pytest.fixture
def settings(tmp_path):
    return get_settings(tmp_path)


class _AuthServer(http.server.ThreadingHTTPServer):
    seen: list[dict[str, str]]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        allowed = {f"Bearer {TOKEN}", "Basic " + base64.b64encode(f"rtp-user:{PASSWORD}".encode()).decode()}
        ok = self.headers.get("Authorization") in allowed
        body = json.dumps({"data": [], "next_page": None} if ok else {"error": "unauthorized"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def auth_server() -> Iterator[_AuthServer]:
    server = _AuthServer(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_connection_ids_follow_the_agency():
    assert conn_id_for("KH-GDI") == "borderwatch_kh_gdi"
    assert conn_id_for("RTP") == "borderwatch_rtp"


def test_the_simulator_is_the_default_connection(rtp, settings):
    source = connection_for(rtp, settings, env={})
    assert source.origin == DEFAULT_ORIGIN and source.base_url == settings.simulator_url
    assert source.headers() == {} and source.auth() is None
    assert feed_url(rtp, source, rtp.source.url) == f"{settings.simulator_url}/rtp/api/v1/operations"


def test_an_airflow_connection_uri_overrides_base_url_and_sets_basic_auth(rtp, settings):
    env = {"AIRFLOW_CONN_BORDERWATCH_RTP": f"https://rtp-user:{PASSWORD}@api.police.example:8443/feeds"}
    source = connection_for(rtp, settings, env=env)
    assert source.base_url == "https://api.police.example:8443/feeds"
    assert (
        feed_url(rtp, source, rtp.source.url) == "https://api.police.example:8443/feeds/rtp/api/v1/operations"
    )
    assert isinstance(source.auth(), httpx.BasicAuth) and source.auth_kind == "basic auth"
    assert PASSWORD not in repr(source) and PASSWORD not in source.describe()


def test_an_airflow_connection_json_carries_a_token_and_headers(rtp, settings):
    conn = {
        "conn_type": "http",
        "host": "http://10.0.0.5:9000",
        "extra": {"token": TOKEN, "headers": {"X-A": "1"}},
    }
    source = connection_for(rtp, settings, env={"AIRFLOW_CONN_BORDERWATCH_RTP": json.dumps(conn)})
    assert source.base_url == "http://10.0.0.5:9000"
    assert source.headers() == {"X-A": "1", "Authorization": f"Bearer {TOKEN}"}
    assert TOKEN not in repr(source) and TOKEN not in source.describe()


def test_borderwatch_settings_override_the_default(rtp, settings):
    env = {"BORDERWATCH_SOURCE_RTP_URL": "https://rtp.example/", "BORDERWATCH_SOURCE_RTP_TOKEN": TOKEN}
    source = connection_for(rtp, settings, env=env)
    assert source.base_url == "https://rtp.example" and source.auth_kind == "bearer token"


def test_a_malformed_connection_names_the_variable_not_the_secret(rtp, settings):
    env = {"AIRFLOW_CONN_BORDERWATCH_RTP": json.dumps({"conn_type": "http", "password": PASSWORD, "oops": 1})}
    with pytest.raises(SourceConnectionError) as caught:
        connection_for(rtp, settings, env=env)
    assert "AIRFLOW_CONN_BORDERWATCH_RTP" in str(caught.value) and PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "conn",
    [
        {"conn_type": "http", "extra": {"token": TOKEN}},
        {"conn_type": "http", "login": "rtp-user", "password": PASSWORD},
    ],
    ids=["token", "basic"],
)
def test_the_fetcher_sends_the_agency_credentials_and_never_logs_them(
    rtp, settings, auth_server, conn, caplog, capsys
):
    from borderwatch.ingest.errors import FetchError
    from borderwatch.ingest.http import Fetcher

    base = f"http://127.0.0.1:{auth_server.server_address[1]}"
    env = {"AIRFLOW_CONN_BORDERWATCH_RTP": json.dumps({**conn, "host": base})}
    source = connection_for(rtp, settings, env=env)
    url = feed_url(rtp, source, rtp.source.url)
    caplog.set_level(logging.DEBUG)
    with httpx.Client(trust_env=False) as client:
        response, body = Fetcher(client, rtp, headers=source.headers(), auth=source.auth()).get_json(url)
        assert response.status_code == 200 and body["data"] == []
        with pytest.raises(FetchError, match="HTTP 401") as refused:
            Fetcher(client, rtp).get_json(url)  # the same source without the connection's credentials
    assert "Authorization" in auth_server.seen[0]
    printed = capsys.readouterr()
    for secret in (TOKEN, PASSWORD):
        assert secret not in caplog.text + printed.out + printed.err + str(refused.value)
