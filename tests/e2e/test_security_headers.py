"""Security headers on the production build's pages. Every browser test fails on a
Content-Security-Policy violation (tests/harness/browser.py): these show the headers are
there, and that the violation check would catch a policy the pages do not satisfy."""

import re

import httpx
from playwright.sync_api import Route

from tests.harness.browser import wait_until_live, watch_csp


def test_pages_carry_the_security_headers(app_server):
    response = httpx.get(app_server.url + "/", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert re.search(r"script-src 'self' 'unsafe-eval'( 'sha256-[A-Za-z0-9+/=]+')+;", policy)


def test_without_the_inline_script_hashes_the_page_breaks_and_the_check_sees_it(
    app_server, browser
):
    # The control: Reflex's pages need their inline scripts (hydration), so a policy
    # without their hashes is violated, and the suite's check reports it.
    context = browser.new_context()
    violations: list[str] = []
    watch_csp(context, violations)

    def without_hashes(route: Route) -> None:
        response = route.fetch()
        policy = re.sub(r" 'sha256-[^']+'", "", response.headers["content-security-policy"])
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": policy}
        )

    context.route(app_server.url + "/", without_hashes)
    page = context.new_page()
    page.goto(app_server.url + "/")
    page.wait_for_timeout(1500)
    context.close()
    assert any("script-src" in violation for violation in violations), violations


def test_the_pages_satisfy_the_policy(app_server, browser):
    context = browser.new_context()
    violations: list[str] = []
    watch_csp(context, violations)
    page = context.new_page()
    page.goto(app_server.url + "/")
    wait_until_live(page)
    context.close()
    assert violations == []
