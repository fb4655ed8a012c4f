"""Background work of `ledger serve`: the projector following the log, the deadline tick,
checkpoints, and a thread per witness gathering its cosignatures; `ledger project` runs the
projector alone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timezone

from api.settings import Settings
from api.websub import HubPublisher
from audit.checkpoints import CHECKPOINT_EVENTS, issue_checkpoint, latest_checkpoint_size
from audit.cosigning import Cosignatures, WitnessClient, WitnessConfig
from projections.runner import READ_MODELS, RECONNECT_EVERY, UNREACHABLE, Projector, run_tick
from projections.store import NAME

log = logging.getLogger("ledger.workers")

#: seconds before a failed tick or checkpoint is tried again, when its interval is longer
RETRY_AFTER = 10.0


def api_only(settings: Settings) -> Settings:
    """The settings of one of several API worker processes, whose background work runs once,
    elsewhere (`ledger serve --workers N` runs it in the parent process)."""
    return settings.model_copy(update={"project_in_process": False, "tick_interval": 0,
                                       "checkpoint_interval": 0, "witnesses": ""})


class Workers:
    """Threads that stop together; each survives its own errors and retries."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        self.ticked = threading.Event()  # the first deadline tick is over (or there is none)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.settings.project_in_process:
            self._spawn("projector", self.project)
        if self.settings.tick_interval > 0:
            self._spawn("tick", self._tick)
        else:
            self.ticked.set()
        if self.settings.checkpoint_interval > 0 and self.settings.signing_key_file.exists():
            self._spawn("checkpoint", self._checkpoint)
        for number, witness in enumerate(self.settings.witness_list):
            self._spawn(f"witness-{number}", lambda witness=witness: self._witness(witness))

    def stop(self) -> None:
        self.stopping.set()
        self.ticked.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=f"ledger-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def project(self, names: Sequence[str] = READ_MODELS) -> None:
        """Follow the log into the read models `names` until stopped (on PostgreSQL, those whose
        lease this process holds), pinging the WebSub hub as the state read model advances."""
        while not self.stopping.is_set():
            try:
                with Projector(self.settings.database_url) as projector:
                    hub = None
                    if self.settings.websub_hub and NAME in names:
                        hub = HubPublisher(self.settings.websub_hub, self.settings.public_url,
                                           projector.view)
                    try:
                        projector.follow(self.stopping, self.settings.poll_interval,
                                         hub.publish if hub else None, names)
                    finally:
                        if hub:
                            hub.close()
            except UNREACHABLE as error:  # the store is down: try again soon, no traceback
                log.warning("projector cannot reach the store; retrying: %s", error)
                self.stopping.wait(RECONNECT_EVERY)
            except Exception:  # keep following: log, wait, start again where it stopped
                log.exception("projector failed; restarting")
                self.stopping.wait(5)

    def _tick(self) -> None:
        """At once on start, so that lapses show as soon as the ledger serves, then every
        interval."""
        while not self.stopping.is_set():
            wait = self.settings.tick_interval
            try:
                today = datetime.now(timezone.utc).date().isoformat()
                with Projector(self.settings.database_url) as projector:
                    run_tick(projector, today)
            except Exception:
                log.exception("deadline tick failed; trying again soon")
                wait = min(wait, RETRY_AFTER)
            self.ticked.set()
            self.stopping.wait(wait)

    def _checkpoint(self) -> None:
        """At once on start (after the first tick, whose lapses it then covers), so that a fresh
        ledger can be verified at once, then every interval; only when the log has grown."""
        signer_key = self.settings.signing_key_file.read_text().strip()
        self.ticked.wait()
        while not self.stopping.is_set():
            wait = self.settings.checkpoint_interval
            try:
                with Projector(self.settings.database_url) as projector:
                    projector.catch_up()
                    latest = latest_checkpoint_size(projector.view)
                    if projector.audit.size() > (latest + CHECKPOINT_EVENTS if latest else 0):
                        issue_checkpoint(projector, signer_key, self.settings.origin)
            except Exception:
                log.exception("checkpoint failed; trying again soon")
                wait = min(wait, RETRY_AFTER)
            self.stopping.wait(wait)

    def _witness(self, config: WitnessConfig) -> None:
        """Ask one witness for its cosignature on each newest checkpoint: its own thread, so a
        witness that is down or slow delays nothing but its own cosignatures."""
        client = WitnessClient(config, self.settings.poll_interval)
        try:
            while not self.stopping.is_set():
                try:
                    with Projector(self.settings.database_url) as projector:
                        cosignatures = Cosignatures(projector.view)
                        while not self.stopping.is_set():
                            wait = client.step(projector.view, projector.audit, cosignatures)
                            self.stopping.wait(wait)
                except Exception:
                    log.exception("witness %s: cosigning failed; trying again soon", config.url)
                    self.stopping.wait(RETRY_AFTER)
        finally:
            client.close()
