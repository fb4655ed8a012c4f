"""Fixtures: a served demo store and one Debian chromium for the package, and pages whose
requests beyond the server are blocked and whose console errors are recorded."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from tests.browser.site import Guard, chromium_path, demo_served, guarded_context, launch
from tests.conftest import require
from tests.servers import Served


@pytest.fixture(scope="package")
def browser():
    """Closed with the package: while Playwright's sync API runs, asyncio.run() fails in the
    rest of the suite."""
    require(chromium_path(), "no chromium on PATH: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def vnu_jar() -> Path:
    """The Nu Html Checker, where `make test` installs the pinned vnu-jar from npm."""
    jar = Path(sys.prefix) / "npm" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    require(shutil.which("java"), "no java: `make test` installs default-jre-headless")
    require(jar.exists(), f"no {jar}: `make test` installs vnu-jar from npm")
    return jar


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The test artefacts' folder: a full-page screenshot of each page type."""
    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def server(tmp_path_factory) -> Iterator[Served]:
    """One served demo store for all browser tests: none of them writes, and each load costs
    seconds of their two-minute budget."""
    folder = tmp_path_factory.mktemp("browser")
    with demo_served(f"sqlite:///{folder}/ledger.db", folder) as served:
        yield served


@pytest.fixture
def guarded(browser, server) -> Iterator[tuple[BrowserContext, Guard]]:
    context, found = guarded_context(browser, server.base)
    yield context, found
    context.close()


@pytest.fixture
def page(guarded):
    return guarded[0].new_page()


@pytest.fixture
def found(guarded) -> Guard:
    """The requests blocked and the console errors of the `page` fixture's context."""
    return guarded[1]
