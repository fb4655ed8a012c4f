"""/docs without the internet: Swagger UI from packaged files, started by a script of this
origin, so the page needs no CDN and no inline script or style."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import html

from api.main import create_app
from api.settings import Settings


def test_the_docs_page_loads_only_files_of_this_origin_and_runs_no_inline_script(tmp_path):
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path}/ledger.db",
                                        tick_interval=0, checkpoint_interval=0))) as client:
        page = client.get("/docs")
        tree = html.fromstring(page.content)
        linked = tree.xpath("//script/@src | //link/@href")
        served = {href: client.get(f"/{href}") for href in linked}
        redoc = client.get("/redoc", follow_redirects=True)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert [script.text for script in tree.xpath("//script")] == [None, None]
    assert tree.xpath("//style | //*[@style] | //*[starts-with(name(@*), 'on')]") == []
    assert {href for href in linked if "//" in href or href.startswith("/")} == set()
    assert {href: answer.status_code for href, answer in served.items()} == dict.fromkeys(linked, 200)
    assert b"SwaggerUIBundle(" in served["-/static/swagger/docs.js"].content
    assert redoc.url.path == "/docs" and redoc.content == page.content
