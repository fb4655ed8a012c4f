"""Every page parses as HTML5 without an error, by the Nu Html Checker (one Java run for all
pages: it is slow to start)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.site import PAGES

#: the stack the checker needs; a quick-starting JIT and GC halve its run on a dozen pages
JAVA = ["java", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


@pytest.fixture(scope="module")
def errors(vnu_jar, server, tmp_path_factory) -> dict[str, list[str]]:
    """The checker's errors per page name, each with its line and the markup around it."""
    folder = tmp_path_factory.mktemp("html")
    for target in PAGES:
        (folder / f"{target.name}.html").write_bytes(httpx.get(server.base + target.path).content)
    run = subprocess.run([*JAVA, "-jar", str(vnu_jar), "--errors-only", "--format", "json",
                          str(folder)], capture_output=True, text=True, timeout=120)
    found: dict[str, list[str]] = {target.name: [] for target in PAGES}
    for message in json.loads(run.stderr)["messages"]:
        name = Path(urlsplit(message.get("url", "")).path).stem
        where = f"line {message.get('lastLine')}"
        found.setdefault(name, []).append(
            f"{where}: {message['message']} in {message.get('extract', '')!r}")
    return found


@pytest.mark.parametrize("target", PAGES, ids=lambda p: p.path)
def test_page_is_valid_html5(errors, target):
    assert not errors[target.name], "\n".join(errors[target.name])
