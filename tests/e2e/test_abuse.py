"""Hostile input, on both stores: every GET parameter of every route (API, pages, feeds) given
injection, traversal, control-character, extreme date and extreme integer values; huge, deeply
nested, undecodable and NUL-laden bodies. Each is answered fast with a 2xx or a 4xx
problem+json naming the parameter (never a 5xx), and nothing is recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.routing import APIRoute
from httpx import Response

from api.main import ROUTERS
from ledger.commands import Ledger
from tests.factories import line
from tests.factories import log as stored_log
from tests.factories import setup_ccm

pytestmark = pytest.mark.usefixtures("ccm")

#: answers slower than this count as a failure: a hostile request must not tie up a worker
FAST = 2.0
HOSTILE = [
    "' OR '1'='1", "1; DROP TABLE changes; --", '" OR ""="', "') UNION SELECT * FROM tokens --",
    "../../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "\x00", "a\x00b", "\x1b[2J", "x\r\nSet-Cookie: a=b", "<script>alert(1)</script>",
    "A" * 5000, "\u202e\ufeff\U0001d54f", "*", "%", "NaN", "-1", str(2**63), str(10**30), "1e999",
    "0001-01-01", "9999-12-31", "10000-01-01", "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00", "2011-08-20T00:00:00+14:01", "2011-08-20T00:00:00+24:00",
]
#: a valid value for each parameter another one is tried beside
VALID = {"id": "HRV", "code": "HRV", "fmt": "atom", "page": "1", "tree_size": "1",
         "instrument": "CCM", "plan": "CCM", "index": "0", "first": "0", "second": "1",
         "level": "0", "event_id": "6f1c2d34-4b5e-4f60-8a71-92b3c4d5e6f7"}
FEED_KEYS = {"/feeds/actions/": "CCM:3", "/feeds/kinds/": "reports"}
#: query parameters some routes require
REQUIRED_QUERY = ("index", "tree_size", "first", "second")
JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def ccm(api, database_url):
    """The CCM, the VAP and Croatia in the store and in the read model."""
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    ledger.close()
    api.settle()


@contextmanager
def records_nothing(database_url: str) -> Iterator[None]:
    """The stored log is the same after the block as before it."""
    ledger = Ledger(database_url)
    try:
        before = stored_log(ledger)
        yield
        assert stored_log(ledger) == before, "a refused request recorded something"
    finally:
        ledger.close()


def _parameters(dependant, kind: str) -> Iterator[str]:
    yield from (field.alias for field in getattr(dependant, kind))
    for sub in dependant.dependencies:
        yield from _parameters(sub, kind)


def get_routes() -> list[tuple[str, list[str], list[str]]]:
    """(path, path parameters, query parameters) of every GET route the app serves."""
    found = []
    for module in ROUTERS:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                found.append((route.path, list(_parameters(route.dependant, "path_params")),
                              list(dict.fromkeys(_parameters(route.dependant, "query_params")))))
    return found


def _url(path: str, path_params: list[str], tried: str | None, value: str) -> str:
    for name in path_params:
        given = value if name == tried else VALID.get(name)
        if name == "key":
            given = value if name == tried else next(
                (key for prefix, key in FEED_KEYS.items() if path.startswith(prefix)), "HRV")
        path = path.replace(f"{{{name}}}", quote(given, safe=""))
    return path


def log_position(api) -> int:
    return api.client.get("/-/ready").json()["log_position"]


def timed(send: Callable[..., Response], *args: Any, **kwargs: Any) -> Response:
    """The response, which must come within FAST seconds; a slow one is sent again once, so only
    a request that is slow each time fails (a busy machine can stall any single request)."""
    for _ in range(2):
        started = time.perf_counter()
        response = send(*args, **kwargs)
        if time.perf_counter() - started < FAST:
            return response
    raise AssertionError(f"slower than {FAST} s twice: {response.request.url}")


def assert_refused_cleanly(response: Response, parameter: str) -> None:
    """A 2xx or 3xx (the value was harmless), or a 4xx problem naming the parameter."""
    where = f"{response.request.url} -> {response.status_code} {response.text[:200]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", where
    if response.status_code == 422:
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(f.endswith(f".{parameter}") for f in fields), where


def _try_hostile_values(api, values: list[str], path: str, path_params: list[str],
                        query_params: list[str]) -> int:
    """Each hostile value in each parameter of one route, the other parameters valid."""
    base = {name: VALID[name] for name in query_params if name in REQUIRED_QUERY}
    for parameter in path_params + query_params:
        for value in values:
            url = _url(path, path_params, parameter, value)
            query = base if parameter in path_params else {**base, parameter: value}
            assert_refused_cleanly(timed(api.client.get, url, params=query), parameter)
    return len(path_params + query_params) * len(values)


#: in `make test` each store tries every other value, SQLite the even ones and PostgreSQL the
#: odd ones (each half holds SQL, NUL, control characters, overflowing numbers and dates);
#: `make soak` tries them all on both
@pytest.mark.parametrize("share", ["half", pytest.param("all", marks=pytest.mark.soak)])
def test_every_get_parameter_refuses_hostile_values_cleanly(api, database_url, share):
    routes = get_routes()
    documented = api.client.get("/openapi.json").json()["paths"]
    assert {p for p, item in documented.items() if "get" in item} <= {p for p, _, _ in routes}
    values = HOSTILE[database_url.startswith("postgres")::2] if share == "half" else HOSTILE
    with records_nothing(database_url):
        tried = sum(_try_hostile_values(api, values, *route) for route in routes)
    assert tried > 200 * len(values)


@pytest.mark.parametrize("url", [
    "/v1/changes?recorded_from=9999-12-31T23:59:59-14:00",
    "/v1/changes?recorded_to=0001-01-01T00:00:00%2B14:00",
    "/v1/changes.csv?recorded_from=9999-12-31T23:59:59-14:00",
    "/v1/changes.ndjson?recorded_to=9999-12-31T23:59:59-14:00",
    "/v1/parties/HRV?as_known_at=9999-12-31T23:59:59-14:00",
    "/v1/parties?as_known_at=0001-01-01T00:00:00%2B14:00",
    "/v1/summary/CCM?as_known_at=9999-12-31T23:59:59-14:00",
    "/v1/matrix/VAP?as_known_at=9999-12-31T23:59:59-14:00",
    "/v1/overdue?as_known_at=9999-12-31T23:59:59-14:00",
    "/changes?recorded_from=9999-12-31T23:59:59-14:00",
    "/parties/HRV?as_known_at=9999-12-31T23:59:59-14:00",
    "/feeds/changes.atom?recorded_from=9999-12-31T23:59:59-14:00",
])
def test_a_time_that_overflows_in_utc_is_422_naming_the_parameter(api, url):
    response = api.client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    parameter = url.partition("?")[2].partition("=")[0]
    assert response.json()["errors"] == [
        {"field": f"query.{parameter}",
         "reason": "the time falls outside the years 1 to 9999 in UTC"}]


def test_a_page_shows_the_refusal_to_a_browser(api):
    response = api.client.get("/changes?recorded_from=9999-12-31T23:59:59-14:00&q=%3Cscript%3E",
                              headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "recorded_from" in response.text and "<script>" not in response.text


@pytest.mark.parametrize("url", ["/v1/changes?q=%00", "/v1/changes?q=a%00b", "/v1/changes?q=%1B",
                                 "/v1/changes.csv?q=%00", "/changes?q=%00",
                                 "/feeds/changes.atom?q=%00"])
def test_control_characters_in_a_search_are_422_not_a_store_failure(api, url):
    response = api.client.get(url)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["query.q"]


def test_times_at_the_edges_of_the_calendar_answer_normally(api):
    assert api.client.get("/v1/changes?recorded_from=9999-12-31").json()["changes"] == []
    get = api.client.get
    assert len(get("/v1/changes?recorded_to=9999-12-31T23:59:59Z").json()["changes"]) == 7
    assert get("/v1/changes?recorded_from=0001-01-01T00:00:00-14:00").status_code == 200
    assert get("/v1/parties/HRV?as_known_at=0001-01-01").status_code == 404
    assert get("/v1/parties/HRV?as_known_at=9999-12-31T23:59:59Z").json()["code"] == "HRV"
    assert get("/v1/parties/HRV?effective_on=9999-12-31").status_code == 200
    assert get("/v1/changes?effective_from=0001-01-01&effective_to=9999-12-31").status_code == 200
    refused = api.client.get("/v1/changes?effective_from=2011-02-30")
    assert [e["field"] for e in refused.json()["errors"]] == ["query.effective_from"]


@pytest.mark.parametrize(("url", "parameter"), [
    ("/v1/changes?limit=1000000000", "limit"), ("/v1/changes?limit=0", "limit"),
    ("/v1/events?limit=1000000000", "limit"), ("/v1/events?after=-1", "after"),
    ("/v1/changes?after=9223372036854775808", "after"),
    ("/v1/parties?at_position=1000000000000000000000000000000", "at_position"),
    ("/v1/audit/proofs/inclusion?index=9223372036854775808&tree_size=1", "index"),
    ("/v1/audit/proofs/consistency?first=-1&second=1", "first"),
    ("/v1/audit/entries?end=0", "end"), ("/changes?before=0", "before"),
    ("/feeds/changes/archive/1000000000000000000000000000000.atom", "page"),
    ("/v1/audit/checkpoints/9223372036854775808", "tree_size"),
])
def test_absurd_integers_and_page_sizes_are_422_naming_the_parameter(api, url, parameter):
    response = api.client.get(url)
    assert response.status_code == 422, response.text
    assert parameter in {e["field"].rpartition(".")[2] for e in response.json()["errors"]}


def test_the_largest_accepted_integers_answer_quickly(api):
    biggest = str(2**63 - 1)
    for url in (f"/v1/changes?after={biggest}", f"/v1/events?after={biggest}",
                f"/v1/parties?at_position={biggest}", f"/v1/audit/entries?start={biggest}",
                f"/v1/audit/proofs/consistency?first={biggest}&second={biggest}",
                f"/v1/audit/checkpoints/{biggest}", "/feeds/changes/archive/1000000000000.atom"):
        response = timed(api.client.get, url)
        assert response.status_code in (200, 404), (url, response.text)


# -- bodies ------------------------------------------------------------------------------------


def _refused(response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if status == 422:
        fields = [e["field"] for e in response.json()["errors"]]
        assert any(f.startswith(field) for f in fields), response.text


def test_huge_bodies_are_413_whether_declared_or_streamed(api, database_url):
    huge = b" " * (16 * 1024 * 1024 + 1)
    streamed = [huge[start:start + (1 << 20)] for start in range(0, len(huge), 1 << 20)]

    with records_nothing(database_url):
        for path, headers in (("/v1/parties", JSON), ("/v1/import", NDJSON)):
            for body in (huge, streamed):  # with a Content-Length, and chunked without one
                response = timed(api.client.post, path, content=body, headers=headers | api.headers())
                _refused(response, "", 413)


def test_undecodable_and_deeply_nested_bodies_are_422_naming_the_body(api, database_url):
    nested = b"[" * 100_000 + b"]" * 100_000
    deep: object = "x"
    for _ in range(11):
        deep = {"a": deep}
    correction = {"entity": "parties/HRV", "event": "6f1c2d34-4b5e-4f60-8a71-92b3c4d5e6f7",
                  "fields": {"name": deep}, "reason": "test"}
    with records_nothing(database_url):
        for body, reason in (
            (b'{"kind": "state", "code": "FRA", "name": "\xc3("}', "not UTF-8"),
            (b"\xff\xfe{}", "not JSON: Expecting value at character 0"),
            (b'{"kind": "state",', "not JSON: Expecting property name enclosed in double quotes "
                                   "at character 17"),
            (nested, "nested too deeply"),
        ):
            response = timed(api.client.post, "/v1/parties", content=body,
                             headers=JSON | api.headers())
            _refused(response, "body")
            assert response.json()["errors"] == [{"field": "body", "reason": reason}]
        _refused(api.post("/v1/corrections", correction), "fields")
        response = timed(api.client.post, "/v1/import", content=nested,
                         headers=NDJSON | api.headers())
        assert response.status_code == 422


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/parties", {"kind": "organisation", "code": "NULS", "name": "a\x00b"}, "name"),
    ("/v1/parties", {"kind": "organisation", "code": "NULS", "name": "a\x1bb"}, "name"),
    ("/v1/parties", {"kind": "organisation", "code": "NULS", "name": "N", "note": "\x00"}, "note"),
    ("/v1/parties", {"kind": "organisation", "code": "NULS", "name": "N",
                     "sources": [{"title": "t\x00"}]}, "sources.0.title"),
    ("/v1/parties", {"kind": "organisation", "code": "NULS", "name": "N",
                     "sources": [{"title": "t", "url": "https://a.example/\x00"}]},
     "sources.0.url"),
    ("/v1/commitments", {"party": "HRV", "provisions": ["CCM:3"], "text": "x\x00"}, "text"),
    ("/v1/obligations", {"party": "HRV", "provision": "CCM:3", "kind": "other", "description": "d",
                         "quantities": {"a\x00": 1}}, "quantities.a\x00.[key]"),
    ("/v1/obligations", b'{"party": "HRV", "provision": "CCM:3", "kind": "other", '
                        b'"description": "d", "quantities": {"stock": NaN}}', "quantities.stock"),
    ("/v1/corrections", {"entity": "parties/HRV", "event": "6f1c2d34-4b5e-4f60-8a71-92b3c4d5e6f7",
                         "fields": {"name": "a\x00b"}, "reason": "r"}, "fields"),
])
def test_nul_and_control_characters_in_bodies_are_422_naming_the_field(api, database_url, path,
                                                                        body, field):
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    bad_line = line("register_party", kind="organisation", code="NULS", name="a\x00b")
    with records_nothing(database_url):
        _refused(api.client.post(path, content=content, headers=JSON | api.headers("admin")),
                 field)
        response = api.client.post("/v1/import?atomic=true", content=bad_line,
                                   headers=NDJSON | api.headers())
        assert response.status_code == 422


def test_money_out_of_shape_is_422_naming_the_amount_and_records_nothing(api, database_url):
    with records_nothing(database_url):
        for amount, currency in (("1e3", "USD"), ("1_000", "USD"), (" 100 ", "USD"),
                                 ("12.5", "JPY")):
            body = {"id": "f1", "donor": "HRV", "amount": amount, "currency": currency}
            _refused(api.post("/v1/fundings", body), "amount")
            disbursement = {"amount": amount, "currency": currency}
            _refused(api.post("/v1/fundings/f1/disbursements", disbursement), "amount")
            response = api.client.post("/v1/import", content=line("pledge_funding", **body),
                                       headers=NDJSON | api.headers())
            assert response.status_code == 422 and "amount" in response.text
