"""The Content-Security-Policy holds after htmx swaps: htmx is configured not to inject its
indicator style nor to evaluate code, templates carry no inline style or script, and a page that
is searched live, paged and filtered records no policy violation (the conftest fails any test on a
console error as well)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WATCH = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def test_live_search_and_its_swaps_violate_no_policy(live_server, page):
    page.goto(live_server["url"] + "/search")
    page.evaluate(WATCH)
    config = page.evaluate("({indicator: htmx.config.includeIndicatorStyles, eval: htmx.config.allowEval, "
                           "scripts: htmx.config.allowScriptTags, settles: htmx.config.attributesToSettle})")
    assert config == {"indicator": False, "eval": False, "scripts": False, "settles": ["class", "width", "height"]}
    page.get_by_role("searchbox").fill("婚姻")
    page.locator(".hits .hit").first.wait_for()
    page.locator(".facets a").first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("searchbox").fill("登记")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == []
    # htmx added no <style> of its own, and no element carries an inline style attribute.
    assert page.evaluate("document.querySelectorAll('style, [style]').length") == 0
