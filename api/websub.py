"""WebSub publishing: when new events land, tell the configured hub which feeds changed."""

from __future__ import annotations

import logging

import httpx

from projections.queries import changes
from projections.store import StateView

log = logging.getLogger("ledger.websub")
FORMATS = ("atom", "rss", "json")


def topics(rows: list[dict]) -> list[str]:
    """The feed paths (without format) that a batch of change rows appears in."""
    paths = {"changes"}
    for row in rows:
        paths.add(f"kinds/{row['type']}")
        paths.add(f"kinds/{row['kind']}")
        paths.add(row["entity"])
        if row["party"]:
            paths.add(f"parties/{row['party']}")
        if row["instrument"]:
            paths.add(f"instruments/{row['instrument']}")
        paths.update(f"actions/{provision}" for provision in row["provisions"])
    return sorted(paths)


class HubPublisher:
    """Pings the hub once per changed feed URL (hub.mode=publish), in every format."""

    def __init__(self, hub_url: str, public_url: str, view: StateView) -> None:
        self.hub_url, self.base, self.view = hub_url, public_url.rstrip("/"), view
        self.client = httpx.Client(timeout=5)

    def publish(self, after: int, upto: int) -> None:
        rows: list[dict] = []
        while batch := [r for r in changes(self.view, after=after, limit=1000)
                        if r["position"] <= upto]:
            rows += batch
            after = batch[-1]["position"]
        if not rows:
            return
        for path in topics(rows):
            for fmt in FORMATS:
                url = f"{self.base}/feeds/{path}.{fmt}"
                try:
                    self.client.post(self.hub_url, data={"hub.mode": "publish", "hub.url": url})
                except httpx.HTTPError as error:
                    log.warning("WebSub hub %s did not take %s: %s", self.hub_url, url, error)

    def close(self) -> None:
        self.client.close()
