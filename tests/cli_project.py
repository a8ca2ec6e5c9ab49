"""The small hand-made portfolio the CLI tests share (tests/test_cli.py has the scenario).

At T = 2026-11-16T12:00Z, gate `pilot` with two blocking checks (`slo_summary.defined >= 1`,
`incidents.open_sev12 == 0`): alpha go, beta no_go (open sev 2), gamma conditional (open sev 1
with a valid waiver).
"""

from __future__ import annotations

from pathlib import Path

T = "2026-11-16T12:00:00Z"

INITIATIVE = """
  - id: {id}
    name: {name}
    stage: discovery
    owner: owner-{id}
    sponsor: sponsor
    clinical_area: nursing
    started_on: 2026-06-01
"""


def write_project(tmp_path: Path) -> Path:
    """Write the portfolio's config/ and data/ under `tmp_path`; returns `tmp_path`."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "initiatives.yaml").write_text(
        "initiatives:"
        + "".join(INITIATIVE.format(id=i, name=i.title()) for i in ("alpha", "beta", "gamma"))
    )
    (config / "slos.yaml").write_text(
        "slos:\n"
        + "".join(
            f"  - {{name: {i}-avail, initiative: {i}, sli: availability, target: 0.99}}\n"
            for i in ("alpha", "beta", "gamma")
        )
    )
    (config / "gates.yaml").write_text(
        "gates:\n  pilot:\n"
        "    - {id: slos-defined, metric: slo_summary.defined, op: '>=', value: 1,"
        " blocking: true, remediation: Define an SLO}\n"
        "    - {id: no-open-sev12, metric: incidents.open_sev12, op: '==', value: 0,"
        " blocking: true, remediation: Resolve open sev 1-2 incidents}\n"
    )
    (config / "waivers.yaml").write_text(
        "waivers:\n  - {initiative: gamma, check: no-open-sev12, reason: vendor fix scheduled,"
        " approver: CMIO, expires_on: 2026-12-01}\n"
    )
    (config / "sources.yaml").write_text(
        "sources:\n  - name: incidents\n    type: file\n    tables: [incidents]\n"
        "    settings: {path: data/incidents.csv}\n    freshness: 30d\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "incidents.csv").write_text(
        "incident_id,initiative,severity,opened_at,acknowledged_at,resolved_at,deploy_id,"
        "patient_impact,title\n"
        "I-1,beta,2,2026-11-15T08:00:00Z,,,,false,Queue stalled\n"
        "I-2,gamma,1,2026-11-16T09:00:00Z,2026-11-16T09:30:00Z,,,false,Outage\n"
    )
    return tmp_path
