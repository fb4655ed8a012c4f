"""ASGI middleware, outermost first: request ids and JSON access logs, the body size limit and
time limit, authentication of writes before anything reads the request body, and the rate limit
of each token's writes."""

from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any

import anyio
import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import STORE_ERRORS
from api.reads import read_headers
from api.tokens import TokenStore

access_log = logging.getLogger("ledger.access")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class JSONFormatter(logging.Formatter):
    """One JSON object per log line, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


async def _send_problem(send: Send, status: int, title: str, detail: str,
                        path: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = orjson.dumps({"type": f"/-/problems#{title.lower().replace(' ', '-')}",
                         "title": title, "status": status, "detail": detail, "instance": path})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class RequestLog:
    """Give each request an id (kept from `X-Request-ID` when sent) and log one JSON line; a
    read's response also says where it was read from (api.reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode("latin-1")),
                                      *read_headers(scope["state"])]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            principal = scope["state"].get("principal")
            access_log.info("request", extra={"fields": {
                "request_id": request_id, "method": scope["method"], "path": scope["path"],
                "status": status, "ms": round((time.perf_counter() - started) * 1000, 1),
                "principal": principal.name if principal else None,
            }})


class BodyLimit:
    """Refuse bodies over the limit with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_problem(send, 413, "Content Too Large",
                                f"request bodies are limited to {self.max_bytes} bytes", scope["path"])
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await _send_problem(send, 413, "Content Too Large",
                                    f"request bodies are limited to {self.max_bytes} bytes",
                                    scope["path"])


class _TooLarge(HTTPException):
    """Raised from `receive`: as an HTTPException it stays a 413 wherever the body is read (FastAPI
    turns other errors in reading a body into 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request bodies are limited to {max_bytes} bytes")


class BodyTimeout:
    """Answer 408 when a request body is not all there `seconds` after its headers: a client that
    trickles its body (slowloris) cannot hold a request open. Raised as an HTTPException from
    `receive`, so it is a 408 wherever the body is read (FastAPI turns other errors into 400)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = anyio.current_time() + self.seconds
        complete = False

        async def timed() -> Message:
            nonlocal complete
            if complete:  # later receives wait for a disconnect, however long a response takes
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                complete = message["type"] != "http.request" or not message.get("more_body")
                return message
            raise HTTPException(408, f"the request body did not arrive within {self.seconds:g} "
                                "seconds", headers={"Connection": "close"})

        await self.app(scope, timed, send)


class RequireToken:
    """Writes under /v1/ need a valid bearer token, checked before the body is read: an
    anonymous caller learns nothing about the request schema. Scopes are checked per route."""

    def __init__(self, app: ASGIApp, tokens: Any) -> None:
        self.app = app
        self.tokens: TokenStore = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in WRITE_METHODS
                or not scope["path"].startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        principal = None
        if scheme.lower() == "bearer":
            try:
                principal = await anyio.to_thread.run_sync(self.tokens.authenticate, token.strip())
            except STORE_ERRORS:
                await _send_problem(send, 503, "Store Unavailable",
                                    "the event store cannot be reached; try again shortly",
                                    scope["path"], [(b"retry-after", b"5")])
                return
        if principal is None:
            await _send_problem(send, 401, "Unauthorized",
                                "writes need a valid bearer token (Authorization: Bearer ...)",
                                scope["path"], [(b"www-authenticate", b'Bearer realm="ledger"')])
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


class WriteRateLimit:
    """Each token may write `per_minute` times a minute on average and `burst` times at once
    (a token bucket per token name, kept in this process); beyond that, 429 with Retry-After.
    Placed inside `RequireToken`: only valid tokens get a bucket, and reads are never counted."""

    def __init__(self, app: ASGIApp, per_minute: float, burst: int) -> None:
        self.app, self.per_second, self.burst = app, per_minute / 60, burst
        self.buckets: dict[str, tuple[float, float]] = {}  # token name: (writes left, when)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        wait = self._take(principal.name, time.monotonic()) if principal else 0
        if wait:
            await _send_problem(
                send, 429, "Too Many Requests",
                f"this token may write {self.per_second * 60:g} times a minute (and {self.burst} "
                f"at once); try again in {wait} s", scope["path"],
                [(b"retry-after", str(wait).encode())])
            return
        await self.app(scope, receive, send)

    def _take(self, name: str, now: float) -> int:
        """0 when the token may write now (and count the write), else whole seconds to wait."""
        left, then = self.buckets.get(name, (self.burst, now))
        left = min(self.burst, left + (now - then) * self.per_second)
        self.buckets[name] = (left - 1 if left >= 1 else left, now)
        return 0 if left >= 1 else math.ceil((1 - left) / self.per_second)


#: pages load only the ledger's own stylesheet, scripts and images; forms post only to it
PAGE_POLICY = (b"default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
               b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class SecurityHeaders:
    """Every response: no MIME sniffing, no referrer beyond the origin; HTML also gets a
    Content-Security-Policy (a route that needs another policy sets its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"strict-origin-when-cross-origin")]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    extra += [(b"content-security-policy", PAGE_POLICY),
                              (b"x-frame-options", b"DENY")]
                message["headers"] = headers + [(k, v) for k, v in extra if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
