"""The API reference as a reader uses it in Chromium, with every request beyond the server
blocked: it renders, runs a request, and breaks no rule of its Content-Security-Policy."""

from __future__ import annotations

#: records what the page's CSP refused; added through the browser, so the CSP does not apply
WATCH_CSP = ("window.refused = []; document.addEventListener('securitypolicyviolation', "
             "event => window.refused.push(event.violatedDirective + ' ' + event.blockedURI))")


def test_the_api_reference_renders_and_runs_a_request_offline_within_its_csp(page, found):
    page.add_init_script(WATCH_CSP)
    answer = page.goto("/docs")
    operation = page.get_by_text("List parties", exact=True)
    operation.wait_for(timeout=15_000)
    operation.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tr.response .response-col_status")

    assert status.inner_text(timeout=15_000) == "200"
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
    assert page.evaluate("window.refused") == []
    assert found.blocked == [] and found.errors == []
