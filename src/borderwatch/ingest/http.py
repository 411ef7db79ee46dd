"""Bounded, contained HTTP for feed pulls: a hostile or broken source must not hold the build lock for
hours, fill memory, or steer us to another host.

- Deadlines: ``source.timeout_seconds`` per connect/read; ``source.request_deadline_seconds`` per request in
  wall time (a dripping server is cut off by :class:`~borderwatch.ingest.guard.Guard`);
  ``source.run_deadline_seconds`` for all HTTP of one feed run, backoff included. A missed deadline is
  not retried: the feed fails and tries again on its next run.
- Sizes: bodies are streamed and counted after decoding (a gzip bomb stops too): JSON documents at
  ``source.max_page_bytes``, files at ``format.max_file_bytes``; at most ``source.max_pages`` documents.
- Redirects are followed by hand, within the requested origin or to ``source.redirect_origins``, which may
  not be internal addresses unless ``source.allow_private_addresses``; credentials stay on the own origin.
- No echo: a response body is never quoted; anything else the server chose goes through ``untrusted``.

Retries (tenacity): exponential backoff honouring ``Retry-After``; 429/5xx, transport errors and truncated
bodies (Content-Length mismatch, invalid JSON) are transient. One :class:`Fetcher` serves one feed run.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from borderwatch.ingest.errors import FetchError, untrusted
from borderwatch.ingest.guard import DEFAULT_PORTS, Guard, RedirectRefused, origin_of, resolves_internal
from borderwatch.specs import FeedSpec

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BACKOFF_ENV = "BORDERWATCH_HTTP_BACKOFF_SECONDS"  # base of the exponential backoff (tests set it small)
MAX_RETRY_AFTER = 60.0
MAX_REDIRECTS = 5


class DeadlineExceeded(FetchError):
    """A request or the whole feed run took longer than its wall-clock deadline."""


class ResponseTooLarge(FetchError):
    """A response body is larger than the spec allows; it was refused while streaming."""


class PageCapExceeded(FetchError):
    """A feed run asked for more JSON documents than ``source.max_pages``."""


class _Transient(Exception):
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or garbled."""
    value = (value or "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _bounded_int(text: str) -> int | str:
    """JSON integers too long for ``int()`` stay text, so the page lands; the loader quarantines it."""
    return int(text) if len(text) <= 4000 else text


class Fetcher:
    """Bounded GETs with retries for one feed run (:meth:`get_json`, :meth:`download`); raises FetchError
    naming the feed, the URL and the fix. ``headers`` and ``auth`` are the agency's credentials
    (:mod:`borderwatch.sources`), sent to the feed's own origin only."""

    def __init__(
        self,
        client: httpx.Client,
        spec: FeedSpec,
        *,
        backoff_base: float | None = None,
        backoff_max: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.client, self.spec, self.sleep = client, spec, sleep
        self.source_headers, self.auth = dict(headers or {}), auth
        base = backoff_base if backoff_base is not None else float(os.environ.get(BACKOFF_ENV, "0.5"))
        self._exponential = wait_exponential(multiplier=base, max=backoff_max)
        self.pages = 0
        self.run_deadline = time.monotonic() + spec.source.run_deadline_seconds

    def _where(self) -> str:
        return f"feeds/{self.spec.name}.yaml"

    def _run_deadline_error(self, url: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"feed {self.spec.name!r}: GET {untrusted(url)} stopped: this run's HTTP took longer than "
            f"source.run_deadline_seconds ({self.spec.source.run_deadline_seconds:g}s). What was loaded "
            "before is kept and the next run continues from the cursor; if the source is merely slow, raise "
            f"source.run_deadline_seconds in {self._where()}"
        )

    def _request_deadline_error(self, url: str) -> DeadlineExceeded:
        if time.monotonic() >= self.run_deadline:
            return self._run_deadline_error(url)
        return DeadlineExceeded(
            f"feed {self.spec.name!r}: GET {untrusted(url)} did not complete within "
            f"source.request_deadline_seconds ({self.spec.source.request_deadline_seconds:g}s); the source "
            "is stalling or dripping its answer. The feed will retry on its next run; if the source is "
            f"merely slow, raise source.request_deadline_seconds in {self._where()}"
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            wait = min(exc.retry_after, MAX_RETRY_AFTER)
        else:
            wait = float(self._exponential(state))
        return min(wait, max(0.0, self.run_deadline - time.monotonic()))

    def _check_status(self, response: httpx.Response) -> None:
        if response.status_code in RETRY_STATUSES:
            raise _Transient(
                f"HTTP {response.status_code}", parse_retry_after(response.headers.get("retry-after"))
            )
        if response.status_code >= 400:
            raise FetchError(
                f"feed {self.spec.name!r}: GET {untrusted(response.request.url)} answered HTTP "
                f"{response.status_code}; check source.url in {self._where()}"
            )

    def _call(self, fn: Callable[[Guard], Any], url: str) -> Any:
        """Run one bounded attempt per retry; deadlines end the retries at once."""
        attempts = self.spec.source.max_retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    now = time.monotonic()
                    if now >= self.run_deadline:
                        raise self._run_deadline_error(url)
                    deadline = min(now + self.spec.source.request_deadline_seconds, self.run_deadline)
                    with Guard(deadline) as guard:
                        try:
                            return fn(guard)
                        except (httpx.TransportError, _Transient) as exc:
                            if guard.expired():
                                raise self._request_deadline_error(url) from exc
                            if isinstance(exc, _Transient):
                                raise
                            raise _Transient(f"{type(exc).__name__}: {untrusted(exc)}") from exc
        except _Transient as exc:
            raise FetchError(
                f"feed {self.spec.name!r}: GET {untrusted(url)} failed after {attempts} attempts (last "
                f"error: {exc}); the source is down or throttling: the feed will retry on its next run"
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_redirect(self, start: httpx.URL, current: httpx.URL, target: httpx.URL, guard: Guard) -> None:
        """Same origin as the URL we were asked for: fine. Elsewhere only if the spec lists that origin."""
        source = self.spec.source
        hop = f"feed {self.spec.name!r}: GET {untrusted(current)} redirected to {untrusted(target)}"
        if target.scheme not in DEFAULT_PORTS or not target.host:
            raise RedirectRefused(f"{hop}: not an http(s) URL; refused")
        if origin_of(target) == origin_of(start):
            guard.forbid_internal_peer = False
            return
        allowed = {origin_of(o) for o in source.redirect_origins}
        if origin_of(target) not in allowed:
            raise RedirectRefused(
                f"{hop}: another origin; refused (redirects stay within the feed's own origin). If the "
                f"agency really serves from there, add it to source.redirect_origins in {self._where()}"
            )
        if not source.allow_private_addresses:
            try:
                internal = resolves_internal(target.host, guard.deadline - time.monotonic())
            except TimeoutError as exc:
                raise FetchError(
                    f"{hop}: {exc}, before the request's deadline; the feed's resolver is down or stalling. "
                    f"Nothing was loaded; the next run retries"
                ) from exc
            if internal:
                raise RedirectRefused(
                    f"{hop}: that host resolves to a loopback, private or link-local address; refused. Set "
                    f"source.allow_private_addresses: true in {self._where()} only if it is the agency's own"
                )
            guard.forbid_internal_peer = True

    @contextmanager
    def _open(
        self, url: str, guard: Guard, *, params: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> Iterator[httpx.Response]:
        """Send a GET and follow redirects by hand; yields the final, still-streaming response."""
        start = current = httpx.URL(url, params=params) if params else httpx.URL(url)
        # A fresh connection per request lets the guard see (and shut) the socket it reads from.
        send_headers = {**self.source_headers, **(headers or {}), "Connection": "close"}
        for _ in range(MAX_REDIRECTS + 1):
            own_origin = origin_of(current) == origin_of(start)
            request = self.client.build_request(
                "GET",
                current,
                headers={  # to another origin: no Authorization, no cookies
                    k: v
                    for k, v in send_headers.items()
                    if own_origin or k.lower() not in ("authorization", "cookie")
                },
                timeout=min(self.spec.source.timeout_seconds, max(0.001, guard.deadline - time.monotonic())),
                extensions={"trace": guard.trace},
            )
            try:
                response = self.client.send(
                    request, stream=True, follow_redirects=False, auth=self.auth if own_origin else None
                )
            except RedirectRefused as exc:
                raise RedirectRefused(
                    f"feed {self.spec.name!r}: GET {untrusted(current)} {exc}; refused. Set "
                    f"source.allow_private_addresses: true in {self._where()} only if it is the agency's own"
                ) from None
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or location is None:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            try:
                target = current.join(location)
            except httpx.InvalidURL as exc:
                raise RedirectRefused(
                    f"feed {self.spec.name!r}: GET {untrusted(current)} redirected to an invalid URL "
                    f"{untrusted(location)}; refused"
                ) from exc
            self._check_redirect(start, current, target, guard)
            current = target
        raise RedirectRefused(
            f"feed {self.spec.name!r}: GET {untrusted(url)} redirected more than {MAX_REDIRECTS} times; "
            "refused"
        )

    def _stream_body(
        self,
        response: httpx.Response,
        guard: Guard,
        limit: int,
        limit_name: str,
        sink: Callable[[bytes], Any],
    ) -> int:
        """Pass the decoded body to ``sink`` chunk by chunk; stop at ``limit`` bytes or the deadline.

        A declared Content-Length over the limit is refused before reading; one that the body does not
        match (of a body sent without Content-Encoding) is a truncated, retryable body."""
        too_big = ResponseTooLarge(
            f"feed {self.spec.name!r}: GET {untrusted(response.request.url)} answered a body larger than "
            f"{limit_name} ({limit} bytes); refused and nothing of it kept. If the source really sends this "
            f"much, raise {limit_name} in {self._where()}"
        )
        declared = response.headers.get("content-length", "")
        declared = "" if response.headers.get("content-encoding") else declared
        if declared.isdigit() and int(declared) > limit:
            raise too_big
        size = 0
        for chunk in response.iter_bytes():
            if guard.expired():
                raise self._request_deadline_error(str(response.request.url))
            size += len(chunk)
            if size > limit:
                raise too_big
            sink(chunk)
        if guard.expired():
            raise self._request_deadline_error(str(response.request.url))
        if declared.isdigit() and int(declared) != size:
            raise _Transient(f"truncated body: Content-Length {declared}, received {size} bytes")
        return size

    def get_json(self, url: str, *, params: dict[str, Any] | None = None) -> tuple[httpx.Response, Any]:
        """GET a JSON document (an index or an API page), at most ``source.max_page_bytes``.

        Counts toward ``source.max_pages``; a truncated or invalid body is retried. The returned
        response's ``content`` holds the body.
        """
        self.pages += 1
        if self.pages > self.spec.source.max_pages:
            raise PageCapExceeded(
                f"feed {self.spec.name!r}: more than source.max_pages ({self.spec.source.max_pages}) JSON "
                f"pages in one run (next: GET {untrusted(url)}); stopped. The pages before stay loaded (a "
                "later run sees them as duplicates; the cursor moves only when a stream ends). If the source "
                f"really has this many new pages, raise source.max_pages in {self._where()}; if its "
                "next_page never ends, its pagination is broken: tell the agency"
            )

        def once(guard: Guard) -> tuple[httpx.Response, Any]:
            with self._open(url, guard, params=params, headers=None) as response:
                self._check_status(response)
                chunks: list[bytes] = []
                self._stream_body(
                    response, guard, self.spec.source.max_page_bytes, "source.max_page_bytes", chunks.append
                )
                body = b"".join(chunks)
                response._content = body  # what Response.read() would set; the body was read under limits
            try:
                return response, json.loads(body, parse_int=_bounded_int)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _Transient(
                    f"invalid JSON body (at byte {getattr(exc, 'pos', '?')}); probably truncated"
                ) from exc

        return self._call(once, url)

    def download(
        self, url: str, dest: Path, *, headers: dict[str, str] | None = None, max_bytes: int
    ) -> httpx.Response:
        """Stream a file to ``dest`` (at most ``max_bytes``, memory bounded); returns the 200 or 304."""

        def once(guard: Guard) -> httpx.Response:
            with self._open(url, guard, params=None, headers=headers) as response:
                self._check_status(response)
                if response.status_code == 304:
                    return response
                with open(dest, "wb") as out:
                    self._stream_body(response, guard, max_bytes, "format.max_file_bytes", out.write)
                return response

        return self._call(once, url)
