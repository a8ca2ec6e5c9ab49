"""The steering pack as PDF, read back with poppler-utils (tests/pdf_tools.py).

The demo pack (tests/pack_helpers.py: every demo initiative, a readiness history and three
decisions, so every page is as full as it gets) in A4 and Letter: each initiative's page holds
its verdict, score and every blocker with its remediation and owner exactly as the report
JSON says; one page per initiative plus the cover and a one-page appendix; the creation date is
the as-of and the file id the report hash; every font is embedded; the charts are vector (no
raster image, their labels are text). The hand-made portfolio of tests/cli_project.py checks
determinism across processes and the pack of a restricted identity.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from app_helpers import ROOT
from cli_project import T, write_project
from pack_helpers import DECIDED, demo_html, demo_inputs, demo_pdf
from pdf_tools import pdf_fonts, pdf_images, pdf_info, pdf_text

from pilotwatch import engine
from pilotwatch.audit.store import AuditLog
from pilotwatch.cli import main
from pilotwatch.config import load_config
from pilotwatch.fingerprints import report_hash
from pilotwatch.pack import gather, render_pdf
from pilotwatch.pack.pdf import PackError
from pilotwatch.report import dumps

VERDICT = {"go": "✓ GO", "conditional": "⚠ CONDITIONAL", "no_go": "✗ NO-GO"}
SIZES = {"A4": "595.276 x 841.89 pts (A4)", "Letter": "612 x 792 pts (letter)"}
APPENDIX_PAGES = 1
PAPERS = ("A4", "Letter")


def _flat(text: str) -> str:
    """Text with every run of white space as one space (table cells wrap)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report_json() -> dict[str, object]:
    return json.loads(dumps(demo_inputs().report))


@pytest.mark.parametrize("paper", PAPERS)
def test_one_page_per_initiative_plus_cover_and_appendix(paper: str, report_json: dict) -> None:
    pdf = demo_pdf(paper)
    info = pdf_info(pdf)
    n = len(report_json["initiatives"])
    assert n == 8
    assert int(info["Pages"]) == 1 + n + APPENDIX_PAGES
    assert info["Page size"] == SIZES[paper]
    assert pdf_text(pdf, 1).split("\n")[4:5] == ["Steering pack"]
    assert "Appendix: what every number means" in pdf_text(pdf, 2 + n)


@pytest.mark.parametrize("paper", PAPERS)
def test_each_page_holds_its_verdict_score_blockers_and_owners(
    paper: str, report_json: dict
) -> None:
    pdf = demo_pdf(paper)
    items = report_json["initiatives"]
    gates = load_config(ROOT / "config").gates
    names = [i["name"] for i in items]
    for n, item in enumerate(items):
        page = _flat(pdf_text(pdf, 2 + n))
        readiness = item["readiness"]
        assert item["name"] in page
        assert [other for other in names if other != item["name"] and other in page] == []
        assert VERDICT[readiness["verdict"]] in page
        assert f"Score {readiness['score']:.1f}" in page
        assert f"{readiness['blocker_count']} blocker" in page
        checks = {c["id"]: c for c in readiness["checks"]}
        declared = {g.id: g.owner for g in gates[item["gate"]]}
        for blocker in readiness["blockers"]:
            assert blocker["check"] in page
            assert _flat(blocker["remediation"]) in page
            owner = checks[blocker["check"]]["owner"]
            whose = "check owner" if declared[blocker["check"]] else "initiative owner"
            assert f"{owner} ({whose})" in page
        # the trend and the decision fit the same page
        assert "Readiness trend" in page and "Last decision" in page
        if item["id"] in DECIDED:
            assert "Accept with conditions" in page and "Close every compliance gap" in page


def test_creation_date_is_the_as_of_and_the_id_the_report_hash() -> None:
    pdf = demo_pdf("A4")
    info = pdf_info(pdf)
    as_of = demo_inputs().report.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (info["CreationDate"], info["ModDate"]) == (as_of, as_of)
    assert info["Title"] == "Steering pack as of 2026-11-16 12:00 UTC"
    found = re.search(rb"/ID \[\(([0-9a-f]{32})\)", pdf)
    assert found is not None
    assert found.group(1).decode() == report_hash(demo_inputs().report)[:32]


def test_every_font_is_embedded_and_bundled() -> None:
    fonts = pdf_fonts(demo_pdf("A4"))
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    # no system font stood in: only the bundled families (a subset prefix, then the name)
    families = {re.sub(r"^[A-Z]{6}\+", "", f["name"]).removesuffix("-Bold") for f in fonts}
    assert families == {"Atkinson-Hyperlegible", "Pack-Symbols"}


def test_charts_are_vector_graphics_with_text_labels() -> None:
    pdf = demo_pdf("A4")
    assert pdf_images(pdf) == []  # no raster image anywhere: the SVGs were drawn as paths
    for n, item in enumerate(demo_inputs().report.initiatives):
        page = pdf_text(pdf, 2 + n)
        for slo in item.slos:
            # the panel's title and the SLO table's row: the chart's words are text
            assert page.count(slo.name) >= 2, (item.id, slo.name)
        if any(s.total for s in item.slos):
            assert "budget exhausted" in page and "at risk below 25%" in page
        assert "score" in page  # the trend chart's axis title


def test_two_renders_give_identical_bytes() -> None:
    assert render_pdf(demo_inputs()) == demo_pdf("A4")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("pack-pdf"))


RENDER = """
import sys
from pathlib import Path
from pilotwatch import engine
from pilotwatch.engine import parse_as_of
from pilotwatch.pack import gather, render_pdf
run = engine.run(sys.argv[1], parse_as_of(sys.argv[2]))
Path(sys.argv[3]).write_bytes(render_pdf(gather(run, None)))
"""


def test_another_process_gives_identical_bytes_and_a_changed_report_others(
    small: Path, tmp_path: Path
) -> None:
    inputs = gather(engine.run(small / "config", engine.parse_as_of(T)), None)
    here = render_pdf(inputs)
    out = tmp_path / "there.pdf"
    subprocess.run(
        [sys.executable, "-c", RENDER, str(small / "config"), T, str(out)],
        check=True,
        cwd=ROOT,
        timeout=120,
        # another zone and hash seed: neither may show in the bytes
        env={**os.environ, "TZ": "America/New_York", "PYTHONHASHSEED": "7"},
    )
    assert out.read_bytes() == here
    beta = inputs.report.initiatives[1]
    lower = beta.model_copy(update={"readiness": beta.readiness.model_copy(update={"score": 49.0})})
    changed = inputs.report.model_copy(
        update={"initiatives": [inputs.report.initiatives[0], lower, inputs.report.initiatives[2]]}
    )
    other = render_pdf(replace(inputs, report=changed))
    assert other != here
    assert "Score 49.0" in pdf_text(other, 3) and "Score 50.0" in pdf_text(here, 3)


ACCESS = """access:
  service_identity: bot@example.org
  rules:
    - {role: viewer, emails: [viewer@example.org], initiatives: [alpha]}
    - {role: admin, emails: [admin@example.org]}
"""


def _visible(html: str) -> str:
    """The HTML without its data URIs (fonts, charts), whose base64 could spell anything."""
    return re.sub(r"data:[^\"')]+", "", html)


def test_a_restricted_identity_gets_a_pack_of_its_initiatives_only(
    small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (small / "config" / "access.yaml").write_text(ACCESS)
    monkeypatch.delenv("PILOTWATCH_AUDIT_URL", raising=False)
    monkeypatch.setenv("PILOTWATCH_IDENTITY", "viewer@example.org")
    pdf, html = small / "viewer.pdf", small / "viewer.html"
    args = ["report", "--config", str(small / "config"), "--as-of", T]
    assert main([*args, "--pdf", str(pdf), "--html", str(html), "--paper", "Letter"]) == 0
    text = pdf_text(pdf.read_bytes())
    assert "Alpha" in text and "Beta" not in text and "Gamma" not in text
    shown = _visible(html.read_text()).lower()
    assert "alpha" in shown and "beta" not in shown and "gamma" not in shown
    info = pdf_info(pdf.read_bytes())
    assert int(info["Pages"]) == 1 + 1 + APPENDIX_PAGES and info["Page size"] == SIZES["Letter"]
    exports = AuditLog(f"sqlite:///{small / 'data' / 'audit.sqlite'}").entries("export")
    assert [(e.actor, e.body["format"], e.body["path"]) for e in exports][-2:] == [
        ("viewer@example.org", "html", "viewer.html"),
        ("viewer@example.org", "pdf", "viewer.pdf"),
    ]
    assert {e.body["initiatives"] == ["alpha"] for e in exports[-2:]} == {True}


def test_pango_missing_is_one_line_and_exit_3(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import pilotwatch.pack.pdf as pdf_module

    def no_pango(name: str) -> object:
        raise OSError("cannot load library 'libpango-1.0-0': not found")

    monkeypatch.setattr(pdf_module, "import_module", no_pango)
    with pytest.raises(PackError, match=r"^PDF needs Pango: install libpango-1\.0-0"):
        pdf_module.typeset("<p>x</p>", "0" * 32)
    out = tmp_path / "r.pdf"
    args = ["report", "--config", str(small / "config"), "--as-of", T, "--pdf", str(out)]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "pilotwatch: error: PDF needs Pango: install libpango-1.0-0" in err
    assert "Traceback" not in err and not out.exists()
    # the Steering page asks the same question before it offers the PDF
    reason = pdf_module.unavailable()
    assert reason is not None and reason.startswith("PDF needs Pango: install libpango-1.0-0")


def test_the_pdf_is_available_where_pango_is() -> None:
    import pilotwatch.pack.pdf as pdf_module

    assert pdf_module.unavailable() is None


def test_html_is_the_document_the_pdf_is_typeset_from() -> None:
    html = demo_html()
    assert '<meta name="dcterms.created" content="2026-11-16T12:00:00Z">' in html
    assert '@top-left { content: "pilotwatch steering pack"; }' in html
    assert '@bottom-center { content: "page " counter(page) " of " counter(pages); }' in html
    first = pdf_text(demo_pdf("A4"), 2)
    assert "pilotwatch steering pack" in first and "as of 2026-11-16 12:00 UTC" in first
    assert "page 2 of 10" in first
