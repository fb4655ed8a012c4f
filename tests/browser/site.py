"""The demo site as a reader's browser sees it: the pages under test, a served demo store, and
Debian's chromium with every request beyond the server blocked. Shared by the browser tests and
`make screenshots`, so both visit the same pages the same way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Playwright

from projections.runner import Projector
from tests.servers import Served, serving

#: no sandbox (root in CI), and nothing that phones home on its own
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]
FEED_TYPES = {"application/atom+xml", "application/rss+xml", "application/feed+json"}


@dataclass(frozen=True)
class Page:
    """A page type on the demo data: its heading names `heading`; its main content shows `shows`,
    which an empty store could not produce."""
    path: str
    name: str
    heading: str
    shows: str

    @property
    def json_path(self) -> str:
        return "/index.json" if self.path == "/" else f"{self.path}.json"


PAGES = [
    Page("/", "home", "", "Ukraine (UKR)"),
    Page("/changes", "changes", "Change log", "Croatia (HRV)"),
    Page("/parties", "parties", "Parties", "Croatia"),
    Page("/parties/HRV", "party-HRV", "Croatia (HRV)", "Convention on Cluster Munitions"),
    Page("/instruments", "instruments", "Treaties", "Vientiane Action Plan"),
    Page("/instruments/CCM", "instrument-CCM", "Convention on Cluster Munitions", "Croatia (HRV)"),
    Page("/instruments/VAP", "matrix-VAP", "Vientiane Action Plan", "Croatia"),
    Page("/instruments/CCM/report", "report-CCM", "Progress report: CCM", "Croatia (HRV)"),
    Page("/commitments/ccm-ratify-2011-PER", "commitment", "Peru (PER)", "ratification of the CCM"),
    Page("/obligations/ccm-art3-HRV", "obligation", "Croatia (HRV)", "stockpile"),
    Page("/reports/CCM-HRV-initial-initial", "report", "Croatia (HRV)", "Beirut Progress Report"),
    Page("/allegations/apmbc-cc-2019-SSD", "allegation-SSD", "South Sudan (SSD)",
         "Committee on Cooperative Compliance"),
    Page("/fundings/apmbc-mine-action-funding-2014", "funding", "mine action", "Landmine Monitor"),
    Page("/feeds", "feeds", "Feeds", "Croatia (HRV)"),
    Page("/audit", "audit", "Audit", "state-digest set-sha256:"),
]


def chromium_path() -> str | None:
    return shutil.which("chromium")


def launch(playwright: Playwright) -> Browser:
    """Debian's chromium through executable_path: no browser is ever downloaded."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=CHROMIUM_ARGS)


@contextmanager
def demo_served(database_url: str, folder: Path) -> Iterator[Served]:
    """`ledger demo` into the store, one signed checkpoint, read models caught up, then a real
    `ledger serve` on a free port."""
    key = folder / "signing.key"
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url,
           "LEDGER_SIGNING_KEY_FILE": str(key)}
    for command in (["demo"], ["key", "generate"], ["checkpoint"]):
        subprocess.run([sys.executable, "-m", "api.cli", *command], check=True,
                       capture_output=True, env=env)
    with Projector(database_url) as projector:
        projector.catch_up()
    with serving(database_url, signing_key_file=str(key)) as served:
        yield served


@dataclass
class Guard:
    """What the pages of one browser context did that a reader would not want."""
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def guarded_context(browser: Browser, base: str, width: int = 1280,
                    ) -> tuple[BrowserContext, Guard]:
    """A fresh context on the server, `width` px wide, whose requests to any other host are
    aborted and recorded, with every console error and uncaught page error."""
    context = browser.new_context(base_url=base, viewport={"width": width, "height": 900})
    found = Guard()
    server = urlsplit(base).netloc

    def only_the_server(route):
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            found.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", only_the_server)
    context.on("console", lambda message: message.type == "error" and found.errors.append(
        f"{message.text} ({message.location.get('url')})"))
    context.on("weberror", lambda error: found.errors.append(str(error.error)))
    return context, found
