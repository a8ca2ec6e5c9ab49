"""Accessibility of the steering pack's HTML: axe-core run in Debian chromium.

The demo pack (the demo portfolio's HTML, every initiative, with a readiness trend and three
decisions with conditions: tests/pack_helpers.py) is opened in headless /usr/bin/chromium
through Playwright, with every network request refused (the pack is one self-contained file);
axe-core, pinned in tests/a11y/package-lock.json and installed by `npm ci --ignore-scripts` into
tests/a11y/node_modules (gitignored), is injected and run with the WCAG 2.0/2.1/2.2 A and AA
rules plus the best-practice rules for headings and table scopes, and the experimental
`td-has-header`.

The pack must have no violation, and the rules for headings, table headers and image alt
text must have *passed* (a rule that found nothing to check proves nothing). A negative
control runs the same check on copies of the HTML with one chart's alt removed, and with one
table header cell turned into a data cell: each copy must fail, so the check can fail.

Without node and npm, the registry or chromium the tests skip with the reason, unless
PILOTWATCH_REQUIRE_SERVICES=1 (CI), where they fail (docs/steering-pack.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from npm_pinned import missing, npm_ci
from pack_helpers import demo_html
from test_browser import ROOT, require_chromium, running_browser

A11Y_DIR = ROOT / "tests" / "a11y"
AXE_JS = A11Y_DIR / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's tags)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# axe files these under best-practice (or experimental), so the tags alone would not run them
HEADING_RULES = ("heading-order", "page-has-heading-one", "empty-heading")
TABLE_RULES = ("th-has-data-cells", "td-headers-attr", "scope-attr-valid", "td-has-header")
IMAGE_RULES = ("image-alt",)
# charts are <img> with alt text; these two apply only to inline SVG and role="img" elements
SVG_IMAGE_RULES = ("svg-img-alt", "role-img-alt")
EXTRA_RULES = (*HEADING_RULES, "scope-attr-valid", "td-has-header")
CHECKED = (*HEADING_RULES, *TABLE_RULES, *IMAGE_RULES, *SVG_IMAGE_RULES)

AXE_RUN_JS = """async ([tags, extra]) => {
  const rules = Object.fromEntries(extra.map((id) => [id, { enabled: true }]));
  const r = await axe.run(document, { runOnly: { type: "tag", values: tags }, rules,
                                      resultTypes: ["violations", "incomplete"] });
  const brief = (list) => list.map((x) => ({ id: x.id, help: x.help,
      nodes: x.nodes.slice(0, 5).map((n) => n.html.slice(0, 160) + " :: " + n.failureSummary) }));
  return { violations: brief(r.violations), incomplete: brief(r.incomplete),
           passes: r.passes.map((x) => x.id), inapplicable: r.inapplicable.map((x) => x.id),
           svg_images: document.querySelectorAll(
             "svg, [role=img]:not(img), [role=graphics-symbol]").length };
}"""


def install_axe() -> str:
    """axe-core's `axe.min.js`, from `npm ci` of tests/a11y's lock file (once per lock)."""
    npm_ci(A11Y_DIR, why="the accessibility check (axe-core)", ignore_scripts=True)
    if not AXE_JS.is_file():
        missing(f"npm ci in {A11Y_DIR} installed no {AXE_JS.name}")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def axe_source() -> str:
    """The axe-core script to inject."""
    return install_axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium, driven by Playwright."""
    require_chromium()
    with running_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def pack_html() -> str:
    """The demo portfolio's pack as HTML (every initiative, A4), with its fullest pages: a
    readiness trend and three decisions with conditions (tests/pack_helpers.py)."""
    return demo_html()


def audit(browser: Any, axe_source: str, html: str) -> dict[str, Any]:
    """axe's verdict on `html`, loaded with every network request refused."""
    context = browser.new_context(java_script_enabled=True)
    requests: list[str] = []

    def refuse(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    try:
        page = context.new_page()
        page.route("**/*", refuse)
        page.set_content(html, wait_until="load")
        page.add_script_tag(content=axe_source)
        result: dict[str, Any] = page.evaluate(AXE_RUN_JS, [WCAG_TAGS, list(EXTRA_RULES)])
    finally:
        context.close()
    result["requests"] = requests
    return result


def _ids(result: dict[str, Any], kind: str) -> set[str]:
    return {v["id"] if isinstance(v, dict) else v for v in result[kind]}


def without_first_alt(html: str) -> str:
    """The HTML with the `alt` attribute of its first chart image removed."""
    img = re.search(r"<img\b[^>]*>", html)
    assert img is not None, "the pack has no image"
    tag = re.sub(r'\salt="[^"]*"', "", img.group(0), count=1)
    assert tag != img.group(0), f"the first image has no alt: {img.group(0)[:120]}"
    return html[: img.start()] + tag + html[img.end() :]


def first_th_as_td(html: str) -> str:
    """The HTML with its first table header cell turned into a data cell (same attributes)."""
    match = re.search(r"<th\b([^>]*)>(.*?)</th>", html, flags=re.S)
    assert match is not None, "the pack has no table header cell"
    cell = f"<td{match.group(1)}>{match.group(2)}</td>"
    return html[: match.start()] + cell + html[match.end() :]


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_pack_html_passes_axe(browser: Any, axe_source: str, pack_html: str) -> None:
    result = audit(browser, axe_source, pack_html)
    assert result["violations"] == [], result["violations"]
    assert result["requests"] == [], "the pack loads nothing from outside itself"
    passes = _ids(result, "passes")
    for rule in (*HEADING_RULES, *TABLE_RULES, *IMAGE_RULES):
        assert rule in passes, f"{rule} did not pass (incomplete: {result['incomplete']})"
    # the charts are <img> elements (image-alt above): no inline SVG or role="img" element for
    # the two SVG rules to check; if one appears, those rules must pass on it
    for rule in SVG_IMAGE_RULES:
        expected = "passes" if result["svg_images"] else "inapplicable"
        assert rule in _ids(result, expected), (rule, expected, result["svg_images"])
    assert not _ids(result, "incomplete") & set(CHECKED), result["incomplete"]


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_check_fails_without_an_alt(browser: Any, axe_source: str, pack_html: str) -> None:
    result = audit(browser, axe_source, without_first_alt(pack_html))
    assert "image-alt" in _ids(result, "violations"), result["violations"]


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_check_fails_with_a_header_cell_made_data(
    browser: Any, axe_source: str, pack_html: str
) -> None:
    result = audit(browser, axe_source, first_th_as_td(pack_html))
    assert _ids(result, "violations") & set(TABLE_RULES), result["violations"]
