"""`python -m tests.browser.screenshots OUTDIR`: the README's screenshots, taken from a fresh demo
store served locally, through the same browser and guard as the tests (`make screenshots`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.site import PAGES, demo_served, guarded_context, launch

README = ("home", "party-HRV", "matrix-VAP", "allegation-SSD")
#: tall pages are cut here: the README shows what a reader sees first
MAX_HEIGHT = 2000


def main(outdir: Path) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        with demo_served(f"sqlite:///{folder}/ledger.db", Path(folder)) as served:
            browser = launch(playwright)
            for target in (p for p in PAGES if p.name in README):
                context, found = guarded_context(browser, served.base)
                tab = context.new_page()
                status = tab.goto(target.path).status
                height = min(tab.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
                path = outdir / f"{target.name}.png"
                tab.screenshot(path=path, full_page=True,
                               clip={"x": 0, "y": 0, "width": 1280, "height": height})
                context.close()
                trouble = ([f"HTTP {status}"] if status != 200 else []) + found.errors + [
                    f"blocked {url}" for url in found.blocked]
                print(f"{path}: {'; '.join(trouble) or 'ok'}")
                failed = failed or bool(trouble)
            browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
