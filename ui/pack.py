"""The Steering review's steering pack download: what a pack is made of, rendered when clicked.

The page collects a `PackSource` on every run (cheap: the shown initiatives' run, the loaders'
cached config and data, the decisions) and hands the download button a callable; Streamlit
calls it in its download thread only when the button is clicked. The pack's inputs (with the
readiness trend, a report per instant), its HTML and its PDF are cached per pack key, so both
formats share one trend and a second click is served at once (docs/steering-pack.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import streamlit as st

from core.report import Report
from pilotwatch import access
from pilotwatch import pack as steering_pack
from pilotwatch.access import Identity
from pilotwatch.audit.store import AuditLog
from pilotwatch.config import Config
from pilotwatch.engine import Run
from pilotwatch.fingerprints import report_hash
from pilotwatch.pack import PackInputs, Paper
from pilotwatch.sources import LoadedData
from ui import loaders, signoff
from ui.context import Context


@dataclass(frozen=True)
class PackSource:
    """What one steering pack is made from, collected by the page run, rendered when clicked.

    `run` and `identity` hold the shown initiatives only; `full` and `loaded` are the whole
    configuration and data, from which the trend's reports are computed as the report itself
    is (`compute_visible_history` restricts them to `identity`), as `pilotwatch report` does.
    """

    run: Run
    log: AuditLog | None
    full: Config
    loaded: LoadedData
    identity: Identity
    decided: tuple[datetime, ...]  # the as-ofs of the shown initiatives' decisions
    baseline: Report | None
    paper: Paper

    def inputs(self) -> PackInputs:
        """The pack's inputs with the readiness trend (`pilotwatch.pack.trend_history`)."""
        history = steering_pack.trend_history(
            self.full, self.loaded, self.run.report.as_of, self.identity, self.decided
        )
        return steering_pack.gather(
            self.run, self.log, paper=self.paper, baseline=self.baseline, history=history
        )


def source(
    ctx: Context,
    shown: Report,
    ids: list[str],
    sign: signoff.Signing,
    baseline: Report | None,
    paper: Paper,
) -> tuple[str, PackSource]:
    """The pack of the shown initiatives only (their config, frames, report and decisions),
    and a key of everything it is made of (report, baseline, config, data, decisions, paper)."""
    only = replace(ctx.identity, initiatives=frozenset(ids), grants=())
    run = Run(
        config=access.restrict(ctx.config, only),
        data=ctx.data,
        portfolio=access.restrict_portfolio(ctx.portfolio, only),
        report=shown,
    )
    # the full config and data, as for the report itself: cache hits of this run's loaders
    directory, secrets = str(ctx.config_dir), loaders.streamlit_secrets()
    config_fp = loaders.config_fingerprint(ctx.config_dir, secrets)
    full = loaders.load_config_cached(directory, config_fp, secrets)
    data_fp = loaders.data_fingerprint(full, st.session_state.get("_pw_nonce", 0))
    loaded = loaders.load_data_cached(directory, config_fp, data_fp, full)
    records = {i: signoff.history(sign, i) for i in ids}
    decided = tuple(r.as_of for rs in records.values() for r in rs)
    made = PackSource(run, sign.log, full, loaded, only, decided, baseline, paper)
    parts = {
        "report": report_hash(shown),
        "baseline": None if baseline is None else report_hash(baseline),
        "config": config_fp,
        "data": data_fp,
        "decisions": {i: [r.seq for r in rs] for i, rs in records.items()},
        "paper": paper,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), made


@st.cache_resource(max_entries=4, show_spinner=False)
def pack_inputs(key: str, _source: PackSource) -> PackInputs:
    """The inputs of one pack (its trend costs a report per instant), shared by both formats."""
    return _source.inputs()


@st.cache_data(max_entries=8, show_spinner=False)
def pack_html(key: str, _source: PackSource) -> str:
    """The pack as HTML, once per pack key."""
    return steering_pack.render_html(pack_inputs(key, _source))


@st.cache_data(max_entries=8, show_spinner=False)
def pack_pdf(key: str, _source: PackSource) -> bytes:
    """The pack as PDF (that HTML typeset), once per pack key."""
    return steering_pack.render_pdf(pack_inputs(key, _source), html=pack_html(key, _source))


@st.cache_resource(show_spinner=False)
def pdf_unavailable() -> str | None:
    """Why this server cannot make the PDF (WeasyPrint or Pango missing), checked once."""
    from pilotwatch.pack.pdf import unavailable

    return unavailable()


def file(key: str, made: PackSource, fmt: str) -> Callable[[], bytes]:
    """A download button's data: rendered only when clicked (in Streamlit's download thread)."""

    def rendered() -> bytes:
        return pack_pdf(key, made) if fmt == "pdf" else pack_html(key, made).encode()

    return rendered
