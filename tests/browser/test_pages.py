"""Every page type on the demo data, as a reader opens it in headless Chromium: real data under
a heading, no console error, nothing fetched beyond the server, safe headers, no serious or
critical accessibility violation, a JSON twin, feeds that resolve, no sideways scrolling on a
laptop or a phone, and a screenshot of each at both widths."""

from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass

import feedparser
import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page as Tab

from tests.browser.site import FEED_TYPES, PAGES, Guard, Page, demo_served, guarded_context

by_path = pytest.mark.parametrize("target", PAGES, ids=lambda p: p.path)
AXE = Axe()
WIDTH = "document.documentElement.scrollWidth"


@dataclass
class Shown:
    """What a reader sees first: the answer, the headings and the main content as text."""
    status: int
    headers: dict[str, str]
    heading: str
    main: str


@dataclass
class Visit:
    shown: Shown
    found: Guard
    violations: list[dict]
    alternates: list[dict]
    subscribe: list[dict]
    widths: dict[int, int]  # the document's width at each window width


def open_page(browser, base: str, target: Page) -> tuple[Shown, Guard, Tab]:
    """The page in a fresh guarded context, what it shows, and the tab (close its context)."""
    context, found = guarded_context(browser, base)
    tab = context.new_page()
    response = tab.goto(target.path)
    return Shown(response.status, response.all_headers(),
                 " ".join(tab.locator("h1").all_inner_texts()),
                 " ".join(tab.locator("main").all_inner_texts())), found, tab


@pytest.fixture(scope="module")
def visit(browser, server, screenshots):
    """Open each page once (at 1280 px, then 375 px; screenshots saved) and keep what every
    check needs."""

    @functools.cache
    def opened(target: Page) -> Visit:
        shown, found, tab = open_page(browser, server.base, target)
        links = "els => els.map(e => ({href: e.href, type: e.getAttribute('type') || ''}))"
        seen = Visit(
            shown=shown, found=found,
            violations=[v for v in AXE.run(tab).response["violations"]
                        if v["impact"] in ("serious", "critical")],
            alternates=tab.locator('head link[rel="alternate"]').evaluate_all(links),
            subscribe=tab.get_by_role("complementary", name=re.compile("Subscribe"))
            .locator("a[type]").evaluate_all(links),
            widths={},
        )
        tab.screenshot(path=screenshots / f"{target.name}.png", full_page=True)
        seen.widths[1280] = tab.evaluate(WIDTH)
        tab.set_viewport_size({"width": 375, "height": 812})
        seen.widths[375] = tab.evaluate(WIDTH)
        tab.screenshot(path=screenshots / f"{target.name}-375.png", full_page=True)
        tab.context.close()
        return seen

    return opened


@pytest.fixture(scope="module")
def on_postgres(postgres_server, tmp_path_factory):
    """The same demo data in PostgreSQL, served."""
    url = postgres_server.create_database(f"browser_{uuid.uuid4().hex[:8]}")
    with demo_served(url, tmp_path_factory.mktemp("browser-postgres")) as served:
        yield served


@pytest.fixture(scope="module")
def fetched():
    """Each feed URL fetched once, however many pages link it."""
    return functools.cache(lambda url: httpx.get(url, timeout=10))


def assert_real_data(target: Page, seen: Shown) -> None:
    assert seen.status == 200, f"{target.path} answered {seen.status}"
    assert seen.headers["content-type"].startswith("text/html")
    assert seen.heading.strip(), f"{target.path} has no <h1>"
    assert target.heading in seen.heading
    assert target.shows in seen.main, f"{target.path} <main> does not show {target.shows!r}"


@by_path
def test_page_shows_real_data_under_a_heading(visit, target):
    assert_real_data(target, visit(target).shown)


@by_path
def test_page_shows_the_same_on_postgres(browser, on_postgres, target):
    shown, found, tab = open_page(browser, on_postgres.base, target)
    tab.context.close()
    assert_real_data(target, shown)
    assert found.errors == [] and found.blocked == []


@by_path
def test_page_logs_no_console_error(visit, target):
    assert visit(target).found.errors == []


@by_path
def test_page_requests_nothing_beyond_the_server(visit, target):
    assert visit(target).found.blocked == []


def directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0].lower(): p[1:] for p in parts}


@by_path
def test_page_sends_a_policy_without_inline_script_or_style(visit, target):
    headers = visit(target).shown.headers
    assert "content-security-policy" in headers, f"{target.path} sends no CSP"
    policy = directives(headers["content-security-policy"])
    for kind in ("script-src", "style-src"):
        sources = policy.get(kind, policy.get("default-src"))
        assert sources is not None, f"CSP sets neither {kind} nor default-src"
        assert "'unsafe-inline'" not in sources, f"{kind} allows 'unsafe-inline'"
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy")


def described(violation: dict) -> str:
    nodes = "; ".join(f"{' '.join(n['target'])}: {n['html'][:160]}" for n in violation["nodes"][:5])
    return f"{violation['id']} ({violation['impact']}: {violation['help']}) at {nodes}"


@by_path
def test_page_has_no_serious_or_critical_accessibility_violation(visit, target):
    violations = [described(v) for v in visit(target).violations]
    assert not violations, "\n".join(violations)


@by_path
def test_page_has_a_json_twin_that_it_links(visit, server, target):
    linked = [link["href"] for link in visit(target).alternates
              if link["type"] == "application/json"]
    assert linked == [server.base + target.json_path]
    twin = httpx.get(linked[0])
    assert twin.status_code == 200, f"{target.json_path} answered {twin.status_code}"
    assert twin.headers["content-type"].startswith("application/json")
    assert twin.json()


def assert_is_a_feed(response: httpx.Response) -> None:
    """Atom and RSS read by feedparser without a complaint; JSON Feed 1.1 (which feedparser
    does not read) parsed as JSON, naming itself at the URL it was fetched from."""
    assert response.status_code == 200, f"{response.url} answered {response.status_code}"
    if response.headers["content-type"].startswith("application/feed+json"):
        document = json.loads(response.content)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["feed_url"] == str(response.url)
        assert isinstance(document["items"], list)
        return
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, f"{response.url}: {parsed.get('bozo_exception')}"
    assert parsed.version in ("atom10", "rss20"), f"{response.url} is {parsed.version!r}"


@by_path
def test_every_autodiscovery_and_subscribe_link_is_a_feed(visit, fetched, target):
    seen = visit(target)
    discovered = [link for link in seen.alternates if link["type"] in FEED_TYPES]
    assert {link["type"] for link in discovered} == FEED_TYPES, seen.alternates
    assert {link["type"] for link in seen.subscribe} == FEED_TYPES, seen.subscribe
    for link in discovered + seen.subscribe:
        response = fetched(link["href"])
        assert response.headers["content-type"].split(";")[0] == link["type"], link
        assert_is_a_feed(response)


@by_path
def test_page_fits_a_laptop_and_a_phone_without_scrolling_sideways(visit, target):
    assert visit(target).widths == {1280: 1280, 375: 375}
