"""Everything that speaks HTTP to Canvas: one `httpx.AsyncClient`, auth, pagination, retries.

The rest of Moderate never sees httpx: it gets decoded JSON, `Page`s, and the errors of
`tui.canvas.errors`. Three promises are kept here and nowhere else:

- the token leaves only in the `Authorization: Bearer` header, added by `BearerAuth` for
  requests to the configured Canvas origin, never as `access_token=` (httpx logs full URLs);
- a token is never sent over plain http:// to a host that is not this machine
  (`normalise_base_url` refuses before a client even exists);
- nothing that is not safe to repeat is repeated: GETs and the idempotent PUTs retry transient
  failures, a POST is sent once and its caller settles the outcome by reading (see
  `ModerationAPI.publish`).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json as jsonlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from tui import __version__
from tui.canvas.errors import (
    AlreadyPublishedError,
    BadRequestError,
    CanvasError,
    ExpiredTokenError,
    InsecureURLError,
    InvalidTokenError,
    InvalidURLError,
    NetworkError,
    NotFoundError,
    NotModeratedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    UnselectedGradesError,
)
from tui.secret import Secret

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "BearerAuth",
    "CanvasClient",
    "ClientStats",
    "InvalidURLError",
    "Page",
    "RetryPolicy",
    "error_from_response",
    "is_loopback_host",
    "normalise_base_url",
]

logger = logging.getLogger("tui.canvas")

API_PREFIX = "/api/v1"
DEFAULT_USER_AGENT = f"Moderate/{__version__} (+httpx)"
# Canvas answers most moderation calls in well under a second, but gradeable_students with
# provisional grades at 100 a page can take several: generous read, short connect.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"

# X-Rate-Limit-Remaining is Canvas's bucket headroom (high-water mark 600, each in-flight
# request costs 50 up front, reference §2.5). Below LOW we back off; above HIGH we may add one.
RATE_LIMIT_LOW = 200.0
RATE_LIMIT_HIGH = 400.0


# --------------------------------------------------------------------------------------------
# The base URL


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts allowed over plain http://."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(url: str) -> str:
    """`https://school.instructure.com` from what a user types, or an error before any request.

    A trailing slash and a trailing `/api/v1` are accepted (people paste API URLs). The scheme is
    required: guessing https for a bare host would hide typos like `http:/host`.
    """
    text = url.strip()
    if "://" not in text:
        # Never echo what was typed: a token pasted into the wrong field would end up on
        # screen, on stderr or in a CI log.
        raise InvalidURLError("the address has no https:// in front")
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        raise InvalidURLError("the address is malformed") from None
    scheme = parsed.scheme
    if scheme not in ("http", "https") or not parsed.host:
        raise InvalidURLError("the address is not an http(s) URL with a host")
    if parsed.userinfo:
        raise InvalidURLError("a URL with a user name or password in it")
    if parsed.query or parsed.fragment:
        raise InvalidURLError("a URL with a query string or fragment")
    if scheme == "http" and not is_loopback_host(parsed.host):
        raise InsecureURLError(f"http://{parsed.host} is not this machine; use https://")
    path = parsed.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)].rstrip("/")
    return f"{scheme}://{parsed.netloc.decode('ascii')}{path}"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host, url.port or default_port)


# --------------------------------------------------------------------------------------------
# Auth


def _is_sendable_token(value: str) -> bool:
    """Visible ASCII only (RFC 6750's b64token is a subset), and not empty."""
    return bool(value) and all("!" <= character <= "~" for character in value)


class BearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer` to requests for one origin; the only place a token unwraps."""

    def __init__(self, token: Secret, origin: tuple[str, str, int | None]) -> None:
        if not isinstance(token, Secret):
            raise TypeError("the token must be a tui.secret.Secret")
        if not _is_sendable_token(token.reveal()):
            # h11 would refuse the header and put its value (the token) in the exception
            # message and in httpcore's debug log: stop before anything is built.
            raise InvalidTokenError(
                "the token is empty or has spaces, line breaks or other characters "
                "that no Canvas token has"
            )
        self._token = token
        self._origin = origin

    def auth_flow(self, request: httpx.Request):
        # The client never follows a foreign link, but if a bug ever asked it to, the token
        # still would not go with it.
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth({self._token!r})"


# --------------------------------------------------------------------------------------------
# Retries


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried.

    `attempts` counts every try, the first included. Delays grow as `base_delay * 2**n`, capped
    at `max_delay`, with "equal jitter" (half fixed, half random) so that several pages throttled
    together do not all come back at the same instant. `random` and `sleep` are injectable so
    tests run without real waiting.
    """

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    random: Callable[[], float] = field(default=random.random, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling / 2 + self.random() * ceiling / 2


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_throttled(response: httpx.Response) -> bool:
    """429, or Canvas's throttle 403, whose plain-text body differs from a permission 403."""
    if response.status_code == 429:
        return True
    return response.status_code == 403 and "rate limit exceeded" in response.text.lower()


def _is_transient(response: httpx.Response, method: str) -> bool:
    if _is_throttled(response) or response.status_code in (502, 503, 504):
        return True
    # A 500 from Canvas is an unhandled exception. For reads it is worth a few more tries: a
    # worker restarting or a database failover shows up as 500, and a board load should not die
    # of it. The PUTs are not retried on 500: the 500s the reference knows on them are
    # deterministic (bulk_select on a student without a selection row, §1.3), so repeating only
    # delays telling the user, who can retry with one key.
    return response.status_code == 500 and method == "GET"


# Failures where the request may simply be sent again. UnsupportedProtocol, LocalProtocolError
# and ProxyError are configuration mistakes: retrying them cannot help.
_RETRYABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


# --------------------------------------------------------------------------------------------
# Errors


def _message_from_json(data: Any) -> str | None:
    """Canvas's own words from any of its error shapes (reference §2.4)."""
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("message"), str):
        return data["message"]
    errors = data.get("errors")
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        texts = [e["message"] if isinstance(e, Mapping) else e for e in errors]
        texts = [t for t in texts if isinstance(t, str) and t]
        return "; ".join(texts) or None
    if isinstance(errors, Mapping):
        base = errors.get("base")
        return base if isinstance(base, str) else None
    if isinstance(data.get("error"), str):
        return data["error"]
    return None


def canvas_message(response: httpx.Response) -> str | None:
    """The sentence Canvas put in an error response, without HTML pages or huge bodies."""
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type:
        return None
    text = response.text.strip()
    if not text:
        return None
    try:
        data = jsonlib.loads(text)
    except ValueError:
        return text.splitlines()[0][:200]
    message = _message_from_json(data)
    report = data.get("error_report_id") if isinstance(data, Mapping) else None
    if message and report is not None:
        message = f"{message.rstrip('.')} (error report {report})"
    return message


def _is_publish(method: str, path: str) -> bool:
    return method == "POST" and path.rstrip("/").endswith("/provisional_grades/publish")


def _error_class(status: int, message: str, method: str, path: str) -> type[CanvasError]:
    text = message.lower()
    if status == 401:
        if "expired" in text or "revoked" in text:
            return ExpiredTokenError
        if "not authorized" in text or "insufficient scopes" in text:
            return PermissionDeniedError
        # "Invalid access token." and "user authorization required" (no usable token at all).
        return InvalidTokenError
    if status == 403:
        return RateLimitedError if "rate limit exceeded" in text else PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitedError
    if status == 400 and "does not use moderated grading" in text:
        return NotModeratedError
    if status == 400 and "already been published" in text:
        return AlreadyPublishedError
    if status == 422 and _is_publish(method, path):
        return UnselectedGradesError
    if 300 <= status < 400:
        return ProtocolError
    if status >= 500:
        return ServerError
    return BadRequestError


def error_from_response(response: httpx.Response, method: str, path: str) -> CanvasError:
    """The `CanvasError` for a non-2xx answer, carrying Canvas's message, never the request."""
    status = response.status_code
    message = canvas_message(response)
    if 300 <= status < 400:
        # A redirect usually means the URL is not Canvas's API (a login page, http→https).
        location = httpx.URL(response.headers.get("Location", ""))
        message = f"redirected to {location.copy_with(query=None, fragment=None)}"
    cls = _error_class(status, message or "", method, path)
    return cls(message, method=method, path=path, status=status)


def _describe_transport_error(exc: httpx.TransportError) -> str:
    """`ConnectError: [Errno 111] Connection refused`, for the error's details line.

    Only network-level failures say more than their name: a LocalProtocolError, for one,
    quotes the header it refused, and a header may be the Authorization one.
    """
    name = type(exc).__name__
    detail = str(exc).strip()
    if isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS) and detail:
        return f"{name}: {detail}"
    return name


# --------------------------------------------------------------------------------------------
# Concurrency that follows Canvas's throttle


class _ConcurrencyGauge:
    """How many page requests may run at once, steered by X-Rate-Limit-Remaining.

    Additive increase, multiplicative decrease, like TCP: a low bucket halves the bound, a
    throttle answer drops it to one, and headroom adds one back at a time.
    """

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum

    def observe(self, response: httpx.Response) -> None:
        if _is_throttled(response):
            self.limit = 1
            return
        try:
            remaining = float(response.headers["X-Rate-Limit-Remaining"])
        except (KeyError, ValueError):
            return
        if remaining < RATE_LIMIT_LOW:
            self.limit = max(1, self.limit // 2)
        elif remaining >= RATE_LIMIT_HIGH and self.limit < self.maximum:
            self.limit += 1


# --------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list, in Canvas's order, duplicates of earlier pages removed."""

    items: list[dict[str, Any]]
    number: int
    total_pages: int | None


@dataclass(slots=True)
class ClientStats:
    """Counts for benchmarks and fault reports: every try sent, and how many were retries."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0


@dataclass(frozen=True, slots=True)
class _TransportFailure:
    """A try that got no usable HTTP answer, kept without the httpx exception."""

    name: str
    detail: str
    transient: bool
    protocol: bool = False

    def error(self, method: str, path: str) -> CanvasError:
        cls = ProtocolError if self.protocol else NetworkError
        return cls(self.detail, method=method, path=path)


@dataclass(frozen=True, slots=True)
class _Fetched:
    items: list[dict[str, Any]]
    links: dict[str, httpx.URL]


def item_key(item: Mapping[str, Any]) -> Hashable | None:
    """What makes two list items the same row: `id`, else `anonymous_id` (hidden students).

    Ids are compared as strings so integer and string-id answers dedupe alike.
    """
    for name in ("id", "anonymous_id"):
        value = item.get(name)
        if value is not None:
            return (name, str(value))
    return None


def _page_number(url: httpx.URL) -> int | None:
    value = url.params.get("page", "")
    return int(value) if value.isdigit() else None


Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def _param_list(params: Params) -> list[tuple[str, Any]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        return list(params.items())
    return list(params)


# --------------------------------------------------------------------------------------------
# The client


class CanvasClient:
    """An async Canvas REST client for one Canvas instance and one token.

    Use as `async with CanvasClient(url, token) as client:`. Paths are relative to `/api/v1`.
    """

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        per_page: int = 100,
        max_concurrency: int = 6,
        user_agent: str = DEFAULT_USER_AGENT,
        string_ids: bool = False,
    ) -> None:
        # Validated before the httpx client exists, so an insecure URL can never send anything.
        self.base_url = normalise_base_url(base_url)
        self._origin = _origin(httpx.URL(self.base_url))
        self.retry = retry or RetryPolicy()
        # Canvas clamps per_page to 1..100 (reference §2.1); asking for more is asking for 100.
        self.per_page = min(max(per_page, 1), 100)
        self.stats = ClientStats()
        self._gauge = _ConcurrencyGauge(max_concurrency)
        accept = STRING_IDS_MEDIA_TYPE if string_ids else "application/json"
        self._http = httpx.AsyncClient(
            auth=BearerAuth(token, self._origin),
            headers={"User-Agent": user_agent, "Accept": accept},
            timeout=timeout,
            transport=transport,
            verify=True,
            # A redirect from Canvas's API means a wrong URL; following it could lead anywhere.
            follow_redirects=False,
            # A token client needs no session: refusing cookies keeps a second credential
            # (canvas_session) out of memory and Canvas from treating us as a browser.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> CanvasClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def host(self) -> str:
        return self._origin[1]

    @property
    def concurrency_limit(self) -> int:
        """The current bound on concurrent page requests (shrinks when Canvas is busy)."""
        return self._gauge.limit

    def __repr__(self) -> str:
        return f"CanvasClient({self.base_url!r})"

    # -- simple calls -----------------------------------------------------------------------

    async def get(self, path: str, params: Params = None) -> Any:
        response = await self._send("GET", self._url(path), params=params, retryable=True)
        return self._json(response, "GET")

    async def put(self, path: str, json: Any = None) -> Any:
        """PUT, retried like a GET: only call it for idempotent PUTs (Canvas's all are)."""
        response = await self._send("PUT", self._url(path), json=json, retryable=True)
        return self._json(response, "PUT")

    async def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Any:
        """POST, sent once unless the caller vouches that repeating it changes nothing.

        A failed non-idempotent POST raises NetworkError or ServerError and its effect is
        unknown: the caller settles it by reading Canvas, never by sending it again.
        """
        response = await self._send("POST", self._url(path), json=json, retryable=idempotent)
        return self._json(response, "POST")

    # -- pagination -------------------------------------------------------------------------

    async def get_paginated(
        self,
        path: str,
        params: Params = None,
        *,
        key: Callable[[Mapping[str, Any]], Hashable | None] = item_key,
    ) -> AsyncIterator[Page]:
        """Every page of a list, in Canvas's order, each row once, as soon as it can be given.

        When the first answer's `rel="last"` link tells the page count, the other pages are
        fetched concurrently (bounded by the gauge) and handed out in order; otherwise `next`
        is followed one page at a time. A page that repeats rows seen earlier (the list shifted
        while we read it) has them removed.
        """
        query = _param_list(params)
        if not any(name == "per_page" for name, _ in query):
            query.append(("per_page", self.per_page))
        seen: set[Hashable] = set()

        def fresh(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = []
            for item in items:
                identity = key(item)
                if identity is None or identity not in seen:
                    if identity is not None:
                        seen.add(identity)
                    kept.append(item)
            return kept

        first = await self._fetch_page(self._url(path), params=query)
        last_link = first.links.get("last")
        next_link = first.links.get("next")
        total = _page_number(last_link) if last_link is not None else None
        yield Page(fresh(first.items), 1, total)

        number = 1
        tail = first
        start = _page_number(next_link) if next_link is not None else None
        if total is not None and start is not None and last_link is not None and start <= total:
            async with aclosing(self._fetch_numbered(last_link, start, total)) as pages:
                async for number, fetched in pages:
                    yield Page(fresh(fetched.items), number, total)
                    tail = fetched
        # Follow `next` from wherever we are: the whole list when Canvas gave no page count,
        # or rows that arrived after the count was taken.
        visited: set[str] = set()
        next_url = tail.links.get("next")
        while next_url is not None:
            if str(next_url) in visited:
                raise ProtocolError(
                    "Canvas's pagination links go round in a circle",
                    method="GET",
                    path=next_url.path,
                )
            visited.add(str(next_url))
            fetched = await self._fetch_page(next_url)
            number += 1
            yield Page(fresh(fetched.items), number, total)
            next_url = fetched.links.get("next")

    async def _fetch_numbered(
        self, template: httpx.URL, first: int, last: int
    ) -> AsyncIterator[tuple[int, _Fetched]]:
        """Pages `first..last` fetched concurrently, yielded strictly in page order."""
        running: dict[asyncio.Task[_Fetched], int] = {}
        arrived: dict[int, _Fetched] = {}
        next_start = next_yield = first
        # Never run further ahead of the consumer than this: bounds memory on a slow consumer.
        window = 4 * self._gauge.maximum
        try:
            while next_yield <= last:
                while (
                    next_start <= last
                    and len(running) < self._gauge.limit
                    and next_start - next_yield < window
                ):
                    url = template.copy_set_param("page", str(next_start))
                    running[asyncio.create_task(self._fetch_page(url))] = next_start
                    next_start += 1
                if next_yield in arrived:
                    yield next_yield, arrived.pop(next_yield)
                    next_yield += 1
                    continue
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                failures = []
                for task in finished:
                    number = running.pop(task)
                    if task.exception() is not None:
                        failures.append(task.exception())
                    else:
                        arrived[number] = task.result()
                if failures:
                    raise failures[0]
        finally:
            # The consumer stopped early or a page failed: don't leave requests running.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _fetch_page(self, url: httpx.URL, params: Params = None) -> _Fetched:
        response = await self._send("GET", url, params=params, retryable=True)
        items = self._json(response, "GET")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ProtocolError(
                "expected a JSON list of objects", method="GET", path=url.path, status=200
            )
        return _Fetched(items, self._follow_links(response))

    def _follow_links(self, response: httpx.Response) -> dict[str, httpx.URL]:
        """The `next` and `last` links, resolved, and refused if they point off this Canvas."""
        links: dict[str, httpx.URL] = {}
        for rel in ("next", "last"):
            link = response.links.get(rel)
            if not link or not link.get("url"):
                continue
            url = response.url.join(link["url"])
            if _origin(url) != self._origin:
                raise ProtocolError(
                    f"a pagination link points to another site ({url.host}); not following it",
                    method="GET",
                    path=response.url.path,
                    status=response.status_code,
                )
            links[rel] = url
        return links

    # -- the one place requests are sent ----------------------------------------------------

    def path_of(self, path: str) -> str:
        """The URL path (no query) of an API path, as errors and logs name it."""
        return self._url(path).path

    def _url(self, path: str) -> httpx.URL:
        return httpx.URL(f"{self.base_url}{API_PREFIX}/{path.lstrip('/')}")

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        params: Params = None,
        json: Any = None,
        retryable: bool,
    ) -> httpx.Response:
        path = url.path  # errors and logs name the path only: no query string
        attempts = self.retry.attempts if retryable else 1
        attempt = 0
        while True:
            attempt += 1
            self.stats.requests += 1
            outcome = await self._attempt(method, url, params, json)
            if isinstance(outcome, _TransportFailure):
                logger.debug("%s %s failed: %s (attempt %d)", method, path, outcome.name, attempt)
                if not (retryable and outcome.transient and attempt < attempts):
                    # Raised here, outside any `except`, so the httpx exception (which holds
                    # the request and its headers) is not even the error's __context__.
                    raise outcome.error(method, path)
                delay = self.retry.delay(attempt)
            else:
                response = outcome
                logger.debug(
                    "%s %s -> %d (attempt %d)", method, path, response.status_code, attempt
                )
                self._gauge.observe(response)
                if response.is_success:
                    return response
                if _is_throttled(response):
                    self.stats.throttled += 1
                if not (retryable and attempt < attempts and _is_transient(response, method)):
                    raise error_from_response(response, method, path)
                delay = self.retry.delay(attempt, _retry_after_seconds(response))
            self.stats.retries += 1
            logger.debug("%s %s: retrying in %.3fs", method, path, delay)
            await self.retry.sleep(delay)

    async def _attempt(
        self, method: str, url: httpx.URL, params: Params, json: Any
    ) -> httpx.Response | _TransportFailure:
        """One try: the response, or what went wrong with the exception itself left behind."""
        try:
            return await self._http.request(
                method, url, params=_param_list(params) or None, json=json
            )
        except httpx.TransportError as exc:
            return _TransportFailure(
                name=type(exc).__name__,
                detail=_describe_transport_error(exc),
                transient=isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS),
            )
        except httpx.DecodingError:
            return _TransportFailure(
                name="DecodingError",
                detail="the answer could not be decoded",
                transient=False,
                protocol=True,
            )

    @staticmethod
    def _json(response: httpx.Response, method: str) -> Any:
        text = response.text
        # Canvas prefixes JSON with `while(1);` for browser sessions only (§2.6); harmless to
        # accept in case a proxy or a session cookie ever triggers it.
        text = text.removeprefix("while(1);")
        if not text.strip():
            return None
        try:
            return jsonlib.loads(text)
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            raise ProtocolError(
                f"expected JSON, got {content_type.split(';')[0]}",
                method=method,
                path=response.url.path,
                status=response.status_code,
            ) from None
