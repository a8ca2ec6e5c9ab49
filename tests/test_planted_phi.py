"""Planted PHI never leaves the connectors: not in the report (JSON, HTML, PDF), the snapshots on
disk, or any dashboard page, and the source health counts every redaction.

A small project in tmp_path (the shipped config with its own sources) plants an e-mail address,
an SSN, a phone number, an MRN and a date of birth in incident titles, evidence `evidence_ref`
and `justification`, and in the bad values of quarantined rows (which reasons quote).
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from app_helpers import MEDIA, ROOT, chart_data, config_env, new_app, open_page, unescape
from google.protobuf import text_format
from pdf_tools import pdf_text as extracted_text

from pilotwatch.cli import main
from pilotwatch.config import load_config
from pilotwatch.engine import snapshot_dir
from pilotwatch.sources import load_sources
from ui.registry import PAGES

T = "2026-11-16T12:00:00Z"
INITIATIVE = "sepsis-ews"  # a shipped initiative, so every page has something to show for it
NAME = "Sepsis early-warning model"

# What each planted value must never be seen as (the distinctive part of each).
NEVER = (
    "jane.doe@example.org",
    "jane.doe",
    "123-45-6789",
    "867-5309",
    "4417283",
    "1961-04-12",
    "987-65-4321",
    "ana.wu@example.net",
)
CUSTOM = "EMP-004211"  # matches only the configured pattern (settings.phi_patterns)

INCIDENTS = (
    "incident_id,initiative,severity,opened_at,acknowledged_at,resolved_at,deploy_id,"
    "patient_impact,title\n"
    # 2 redactions: e-mail, SSN
    f"I-901,{INITIATIVE},2,2026-11-15T08:00:00Z,,,,false,"
    '"Alert mailed to jane.doe@example.org, SSN 123-45-6789 in payload"\n'
    # 1 redaction with the configured pattern only
    f"I-902,{INITIATIVE},3,2026-11-14T08:00:00Z,2026-11-14T08:10:00Z,2026-11-14T09:00:00Z,,"
    f"true,Badge {CUSTOM} shown in triage view\n"
    # quarantined: the reason quotes the bad severity (1 redaction, SSN)
    f"I-903,{INITIATIVE},sev 987-65-4321,2026-11-13T08:00:00Z,,,,false,Pager storm\n"
)
EVIDENCE = (
    "initiative,control_id,status,collected_at,expires_at,owner,evidence_ref,justification\n"
    # evidence_ref: MRN (1); justification: phone, DOB (2)
    f"{INITIATIVE},hipaa-308a1-risk-analysis,not_applicable,2026-11-01T10:00:00Z,,"
    'Security Office,MRN 4417283 chart export.pdf,"Vendor: call (555) 867-5309, '
    'patient DOB 1961-04-12"\n'
    # quarantined: the reason quotes the bad collected_at (1 redaction, e-mail)
    f"{INITIATIVE},hipaa-308a1-risk-management,pass,ana.wu@example.net,,Security Office,"
    "https://grc.example.org/evidence/1,\n"
)
SOURCES = """\
sources:
  - name: planted-incidents
    type: file
    tables: [incidents]
    settings: {path: data/incidents.csv}
    freshness: 30d
  - name: planted-evidence
    type: file
    tables: [evidence]
    settings: {path: data/evidence.csv}
    freshness: 30d
"""
PHI_PATTERNS = '  phi_patterns:\n    - {name: employee-badge, regex: "\\\\bEMP-\\\\d{6}\\\\b"}\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    config = root / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "sources.yaml").write_text(SOURCES)
    settings = config / "settings.yaml"
    settings.write_text(settings.read_text() + PHI_PATTERNS)
    data = root / "data"
    data.mkdir()
    (data / "incidents.csv").write_text(INCIDENTS)
    (data / "evidence.csv").write_text(EVIDENCE)
    return root


@pytest.fixture(scope="module")
def outputs(project: Path) -> dict[str, str]:
    """The report as JSON, HTML and PDF text, and every snapshot's values, as searchable text."""
    out = project / "out"
    out.mkdir()
    args = ["report", "--config", str(project / "config"), "--as-of", T]
    files = {"json": out / "r.json", "html": out / "r.html", "pdf": out / "r.pdf"}
    for kind, path in files.items():
        args += [f"--{kind}", str(path)]
    assert main(args) == 0
    snapshots = sorted((project / "data" / ".snapshots").rglob("*.parquet"))
    assert snapshots, "the load wrote no snapshot"
    return {
        "json": files["json"].read_text(),
        "html": html.unescape(files["html"].read_text()),
        "pdf": pdf_text(files["pdf"].read_bytes()),
        "snapshots": "\n".join(parquet_text(p) for p in snapshots),
    }


def pdf_text(data: bytes) -> str:
    """The PDF's text as a reader sees it (pdftotext; the fonts are embedded subsets, so the
    content streams hold glyph ids, not the words)."""
    return extracted_text(data)


def parquet_text(path: Path) -> str:
    """Every value of a snapshot file, as text."""
    frame = pl.read_parquet(path)
    return frame.select(pl.all().cast(pl.String)).write_csv()


def page_text(at: Any) -> str:
    """Everything a page shows: every element's proto as text (markdown unescaped), table
    values and chart datasets."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
        value = getattr(node, "value", None) if type(node).__name__ in _TABLES else None
        if value is not None:
            parts.append(value.to_csv())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for index in range(len(at.get("vega_lite_chart"))):
        parts += [f.write_csv() for f in chart_data(at, index)]
    return unescape("\n".join(parts))


_TABLES = {"Dataframe", "Table"}


def leaks(text: str) -> list[str]:
    """The planted values found in `text` (case-insensitive)."""
    lower = text.lower()
    return [value for value in NEVER if value.lower() in lower]


@pytest.mark.parametrize("kind", ["json", "html", "pdf", "snapshots"])
def test_no_planted_value_in_the_report_or_snapshots(outputs: dict[str, str], kind: str) -> None:
    assert NAME in outputs[kind] or INITIATIVE in outputs[kind]  # the text is searchable
    assert leaks(outputs[kind]) == []


def test_the_redacted_rows_are_still_reported(outputs: dict[str, str]) -> None:
    """The screen redacts values, it does not drop rows: the incidents are counted."""
    report = json.loads(outputs["json"])
    item = next(i for i in report["initiatives"] if i["id"] == INITIATIVE)
    assert item["incidents"]["open_sev12"] >= 1  # I-901 (sev 2, open) is in
    assert "[redacted]" in outputs["snapshots"]


def test_health_counts_the_redactions(project: Path) -> None:
    config = load_config(project / "config")
    loaded = load_sources(config, snapshot_dir(config))
    health = {h.source: h for h in loaded.health}
    # incidents: I-901 title 2, I-903 reason 1 (I-902's badge is the configured pattern's)
    # evidence: evidence_ref 1, justification 2, the bad row's reason 1
    got = {name: (h.rows, h.quarantined, h.redacted) for name, h in health.items()}
    assert got["planted-evidence"] == (1, 1, 4)
    assert got["planted-incidents"][:2] == (2, 1)
    assert sorted(loaded.quarantine["reason"].to_list()) == [
        "collected_at: not a timestamp '[redacted]'",
        "severity: not an integer 'sev [redacted]'",
    ]
    assert leaks(loaded.quarantine.write_csv()) == []


def test_the_configured_pattern_reaches_the_connectors(project: Path) -> None:
    """settings.phi_patterns apply to every source: I-902's badge is redacted and counted."""
    config = load_config(project / "config")
    loaded = load_sources(config, snapshot_dir(config))
    titles = loaded.tables["incidents"].collect()["title"].to_list()
    assert CUSTOM not in " ".join(titles)
    incidents = next(h for h in loaded.health if h.source == "planted-incidents")
    assert incidents.redacted == 4  # 2 (I-901) + 1 (I-902, configured) + 1 (I-903 reason)


@pytest.fixture(scope="module")
def pages(project: Path) -> Iterator[dict[str, str]]:
    """Every page's text, rendered headlessly from the planted project."""
    MEDIA.clear()
    shown: dict[str, str] = {}
    with config_env(project / "config"):
        for spec in PAGES:
            page = Path(spec.path).stem
            at = new_app(initiative=INITIATIVE)
            open_page(at, page)
            assert not at.exception, [e.value for e in at.exception]
            shown[page] = page_text(at)
        # downloads (steering report files) the pages offered during these runs
        shown["downloads"] = "\n".join(
            pdf_text(b) if b.startswith(b"%PDF") else b.decode("utf-8", "replace")
            for b in MEDIA.values()
        )
    yield shown


@pytest.mark.parametrize("page", [Path(s.path).stem for s in PAGES] + ["downloads"])
def test_no_planted_value_on_any_page(pages: dict[str, str], page: str) -> None:
    assert leaks(pages[page]) == []


def test_pages_show_the_redacted_text(pages: dict[str, str]) -> None:
    """The incident is on the Delivery page, with its title redacted (the screen ran)."""
    assert "I-901" in pages["delivery"] or "I-901" in pages["initiative"]
    assert "[redacted]" in pages["delivery"] + pages["initiative"]
