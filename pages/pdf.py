"""A page printed to PDF by Debian's chromium through Playwright (never a downloaded browser):
HTML in, PDF bytes out, with the stylesheet inlined, nothing fetched and page numbers below."""

from __future__ import annotations

import shutil
from importlib.resources import files

STYLESHEET = files("pages").joinpath("static/ledger.css").read_text()
#: print only the report: no site header, forms, subscribe box or footer
PRINT = """
header.site, footer.site, aside.subscribe, .no-print, .skip { display: none !important; }
body { font-size: 10.5pt; } a { color: inherit; }
.footnotes li { break-inside: avoid; }
"""
FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
          'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync"]


class NoBrowser(RuntimeError):
    """No chromium on PATH, or Playwright not installed."""


def pdf(html: str, base_url: str) -> bytes:
    """The page as an A4 PDF; its links resolve against `base_url`."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NoBrowser("PDF needs Playwright (pip install playwright)") from None
    if chromium is None:
        raise NoBrowser("PDF needs Debian's chromium on PATH (apt-get install chromium)")
    page_html = html.replace("<head>", f'<head><base href="{base_url}">', 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the page is complete as it is
            page.set_content(page_html, wait_until="domcontentloaded")
            page.add_style_tag(content=STYLESHEET + PRINT)
            return page.pdf(format="A4", print_background=True, display_header_footer=True,
                            header_template="<div></div>", footer_template=FOOTER,
                            margin={"top": "18mm", "bottom": "18mm", "left": "16mm",
                                    "right": "16mm"})
        finally:
            browser.close()
