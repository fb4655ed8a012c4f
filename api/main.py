"""`create_app(settings)`: the one place where the ledger's concrete parts are chosen."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import openapi, problems
from api.middleware import (
    BodyLimit,
    BodyTimeout,
    RequestLog,
    RequireToken,
    SecurityHeaders,
    WriteRateLimit,
)
from api.routes import (
    audit,
    changes,
    entities,
    feeds,
    log,
    operations,
    pages,
    reports,
    statements,
    summaries,
    tiles,
    writes,
)
from api.reads import Reads
from api.settings import Settings
from api.tokens import TokenStore
from api.workers import Workers
from ledger.commands import Ledger

#: every route module, in the order routes are matched
ROUTERS = (operations, audit, tiles, changes, log, summaries, statements, entities, feeds, writes,
           reports, pages)

DESCRIPTION = """\
An event-sourced ledger of public treaty commitments: every pledge, report submission,
compliance allegation and its resolution is an immutable event.

* **Writes** need a bearer token (`ledger token create`) with the route's scope (`record`,
  `adjudicate`, `admin`). `Idempotency-Key` makes retries safe; `If-Match` with an entity's ETag
  refuses a write on a stale version (412).
* **Reads** are public. Entities take `as_known_at` (what the ledger knew) or `effective_on`
  (the world on that date).
* **Errors** are `application/problem+json` (RFC 9457) with `errors: [{field, reason}]`.
"""


class _LazyTokens:
    """The token store, opened on first use (nothing connects at import or app creation) and
    keeping its connections until the app stops."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.store = settings, None
        self.lock = threading.Lock()

    def authenticate(self, token: str):  # noqa: ANN201 - delegates to TokenStore
        with self.lock:
            if self.store is None:
                self.store = TokenStore(self.settings.database_url, kept=True)
        return self.store.authenticate(token)

    def close(self) -> None:
        with self.lock:
            if self.store is not None:
                self.store.close()


def create_app(settings: Settings) -> FastAPI:
    tokens = _LazyTokens(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = Ledger(settings.database_url)
        app.state.reads = Reads(app.state.ledger, settings)
        workers = Workers(settings)
        workers.start()
        # what start-up built lives as long as the process: keep it out of every full garbage
        # collection, which otherwise walks it and puts 40-80 ms on some requests
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            workers.stop()
            tokens.close()
            app.state.reads.close()
            app.state.ledger.close()

    app = FastAPI(
        title="Commitment Ledger",
        summary="Who promised what, who reported, who was accused, and how it ended.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api.openapi serves /docs from packaged files
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)
    openapi.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    if settings.write_rate:  # inside RequireToken: counts only writes with a valid token
        app.add_middleware(WriteRateLimit, per_minute=settings.write_rate,
                           burst=settings.write_burst)
    app.add_middleware(RequireToken, tokens=tokens)
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    return app
