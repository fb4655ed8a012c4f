"""`create_app(settings)`: the one place where the ledger's concrete parts are chosen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from api.settings import Settings
from api.workers import Workers
from ledger.commands import Ledger
from ledger.exchange import export_line


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ledger = Ledger(settings.database_url)
        workers = Workers(settings)
        workers.start()
        try:
            yield
        finally:
            workers.stop()
            app.state.ledger.close()

    app = FastAPI(
        title="Commitment Ledger",
        summary="Who promised what, who reported, who was accused, and how it ended.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.get("/-/health", tags=["operations"])
    def health() -> dict[str, str]:
        """The process is up (it does not touch the store)."""
        return {"status": "ok"}

    @app.get(
        "/v1/events",
        tags=["log"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}},
    )
    def events(
        request: Request,
        after: Annotated[int, Query(ge=0, description="log position to read after")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> StreamingResponse:
        """The raw event log after a position: NDJSON export lines, each with its `position`."""
        ledger: Ledger = request.app.state.ledger
        return StreamingResponse(
            (export_line(n, position=n.id) for n in ledger.read(after, limit)),
            media_type="application/x-ndjson",
        )

    return app
