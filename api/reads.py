"""Where a read is answered from: the primary's read models, or a streaming replica's
(LEDGER_READ_DATABASE_URL); at least at the log position a client asks for
(`Ledger-Min-Position`), and saying which position it reflects (`Ledger-Position`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from api.feed_documents import FeedDocuments
from api.problems import ProblemException
from api.settings import Settings
from audit.cosigning import Cosignatures
from ledger.commands import Ledger
from projections.audit import AuditModel
from projections.store import StateView, open_view

#: the request header: the least log position a read may reflect (a write's `Ledger-Position`)
MIN_POSITION = "Ledger-Min-Position"
#: how problems name it, as they name every header (`header.` and its name)
FIELD = f"header.{MIN_POSITION}"
#: the response headers of a read: the position it reflects, and which database answered it
POSITION, READ_FROM = "Ledger-Position", "Ledger-Read-From"
#: seconds between looks at the position of a read model that a read waits for
LOOK_EVERY = 0.02
#: seconds a client is told to wait when the read model had not reached its position (503)
RETRY_AFTER = "1"


@dataclass(frozen=True)
class ReadSide:
    """The read models in one database, and what the routes build on them."""

    name: str  # "primary" or "replica"
    view: StateView
    audit: AuditModel
    cosignatures: Cosignatures
    feeds: FeedDocuments

    @classmethod
    def on(cls, name: str, view: StateView, settings: Settings) -> ReadSide:
        return cls(name, view, AuditModel(view), Cosignatures(view),
                   FeedDocuments(view, settings.public_url, settings.feed_page_size,
                                 settings.websub_hub))

    def position(self) -> int:
        """How far the state read model has got: what a read from it reflects at least."""
        return self.view.position()


class Reads:
    """Chooses the read side of each read: the replica when there is one, the primary when
    the replica has not reached the position asked for within `wait` seconds."""

    def __init__(self, ledger: Ledger, settings: Settings) -> None:
        self.ledger, self.wait = ledger, settings.read_wait
        self.primary = ReadSide.on("primary", open_view(settings.database_url), settings)
        self.replica: ReadSide | None = None
        if settings.read_database_url:
            self.replica = ReadSide.on("replica", open_view(settings.read_database_url,
                                                            read_only=True), settings)

    def close(self) -> None:
        for side in (self.primary, self.replica):
            if side is not None:
                side.view.datastore.close()

    async def choose(self, least: int | None) -> tuple[ReadSide, int]:
        """The side to read from and its position, at least `least` if given: wait up to
        `wait` seconds for it, then try the primary; a position not reached is a 503, never
        an older answer."""
        side = self.replica or self.primary
        position = await run_in_threadpool(side.position)
        if least is None or position >= least:
            return side, position
        last = await run_in_threadpool(self.ledger.recorder.max_notification_id) or 0
        if least > last:
            raise ProblemException(422, "Invalid request", "the request does not have the "
                                   "expected shape", "invalid-request",
                                   [(FIELD, f"the log ends at position {last}")])
        deadline = time.monotonic() + self.wait
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(LOOK_EVERY, left))
            position = await run_in_threadpool(side.position)
            if position >= least:
                return side, position
        if side is not self.primary:
            position = await run_in_threadpool(self.primary.position)
            if position >= least:
                return self.primary, position
        raise ProblemException(
            503, "Position Not Reached", f"the read model has not reached log position {least} "
            f"within {self.wait:g} s; try again shortly", "position-not-reached",
            [(FIELD, f"the read model is at position {position}")],
            {"Retry-After": RETRY_AFTER})


def read_headers(state: dict[str, object]) -> list[tuple[bytes, bytes]]:
    """`Ledger-Position` and `Ledger-Read-From` of a read that chose a read side (see
    api.deps.read_side), for its response, errors included: a 404 from a replica that is
    behind says so. None for other requests."""
    if "read_at" not in state:
        return []
    side, position = state["read_at"]
    return [(POSITION.lower().encode(), str(position).encode()),
            (READ_FROM.lower().encode(), side.encode())]
