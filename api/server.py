"""How `ledger serve` runs uvicorn: deliberate timeouts, a limit on how long a client may take
to send its request headers, which uvicorn does not have (slowloris), and the app of each of
several worker processes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.middleware import JSONFormatter
from api.settings import Settings, get_settings
from api.workers import api_only

#: uvicorn's own default, set here so that it is a choice: request line and headers together
MAX_HEADER_BYTES = 16 * 1024

TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
             b"connection: close\r\ncontent-length: %d\r\n\r\n%s")
TIMED_OUT_BODY = (b'{"type":"/-/problems#request-timeout","title":"Request Timeout",'
                  b'"status":408,"detail":"the request headers did not arrive in time",'
                  b'"instance":"/"}')


#: seconds a worker process may take to answer its supervisor's ping before it is restarted:
#: uvicorn's 5 s is shorter than four workers take to start together on two cores
WORKER_HEALTHCHECK = 60


def uvicorn_options(settings: Settings, workers: int = 1) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` that bound what a slow or idle client holds, and
    with several workers, how they are run."""
    options = {"timeout_keep_alive": settings.keep_alive_timeout,
               "h11_max_incomplete_event_size": MAX_HEADER_BYTES}
    if workers == 1:
        return {**options, "http": type("TimedH11Protocol", (SlowClientGuard,),
                                         {"header_timeout": settings.header_timeout})}
    # each worker process imports its app and protocol by name once it answers pings
    return {**options, "http": f"{__name__}:WorkerClientGuard", "app": f"{__name__}:worker_app",
            "factory": True, "workers": workers, "timeout_worker_healthcheck": WORKER_HEALTHCHECK}


def log_json_lines() -> None:
    """Log records as one JSON object a line on stderr, from INFO up."""
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def worker_app() -> FastAPI:
    """The app of one of the processes of `ledger serve --workers N` (uvicorn calls it in each):
    settings from the environment it inherited, background work left to the parent process."""
    from api.main import create_app  # not on import: `ledger project` logs through this module

    log_json_lines()
    return create_app(api_only(get_settings()))


class SlowClientGuard(H11Protocol):
    """HTTP/1.1 by h11, with a time limit on what uvicorn would otherwise wait for as long as
    bytes trickle in: a request's line and headers, and the rest of a body that was answered
    without being read (a 401, say). Either must arrive within `header_timeout` seconds of the
    connection opening, the request's first byte or the answer; else the connection is closed,
    with a 408 when nothing was answered. Idle connections are the keep-alive timeout's."""

    header_timeout = 10.0
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY:
            self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def _waiting(self) -> bool:
        """Waiting for bytes that no request handler reads: a request head, or a body's rest."""
        if self.transport.is_closing():
            return False
        state = self.conn.their_state
        return state is h11.IDLE or (state is h11.SEND_BODY and self.conn.our_state is h11.DONE)

    def _watch(self) -> None:
        if not self._waiting():
            self._stop()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.header_timeout,
                                                               self._timed_out)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if not self._waiting():
            return
        if self.conn.our_state is h11.IDLE:
            self.transport.write(TIMED_OUT % (len(TIMED_OUT_BODY), TIMED_OUT_BODY))
        self.transport.close()


class WorkerClientGuard(SlowClientGuard):
    """SlowClientGuard in a worker process, with the header timeout of its settings."""

    @property
    def header_timeout(self) -> float:  # type: ignore[override]
        return get_settings().header_timeout
