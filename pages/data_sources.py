"""Data sources: per source rows, quarantine, newest timestamp, staleness and the last error."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from connectors.base import SourceHealth
from metrics import series
from ui import formats as fm
from ui import widgets as w
from ui.context import Context, context


def load_state(h: SourceHealth) -> str:
    """How the last load went, in words (a failed source keeps or discards its snapshot)."""
    if h.ok:
        return "✅ loaded"
    if h.using_snapshot:
        return "⚠️ failed, showing snapshot"
    return "❌ failed, snapshot discarded" if w.snapshot_discarded(h) else "❌ failed"


def source_rows(ctx: Context) -> list[dict[str, Any]]:
    """One row per source: its load (health) and its freshness at the as-of (report)."""
    fresh = {r.source: r for r in ctx.report.sources}
    age = {
        r["source"]: r["age_hours"]
        for r in ctx.portfolio.freshness.select("source", "age_hours").to_dicts()
    }
    rows = []
    for h in ctx.data.health:
        f = fresh.get(h.source)
        rows.append(
            {
                "source": h.source,
                "type": h.type,
                "tables": ", ".join(h.tables),
                "load": load_state(h),
                "rows": h.rows,
                "quarantined": h.quarantined,
                "redacted": h.redacted,
                "newest row loaded": h.newest,
                "newest before as-of": f.newest if f else None,
                "stale": "🕰️ stale" if f and f.stale else ("fresh" if f else "—"),
                "age h at as-of": age.get(h.source),
                "freshness budget": fm.duration(f.freshness_seconds if f else None),
                "serves": ", ".join(f.serves if f else []),
                "last success": h.last_success,
                "last error": h.last_error or "",
                "load s": h.load_seconds,
                "warnings": " | ".join(h.warnings),
            }
        )
    return rows


def columns() -> dict[str, Any]:
    """Column labels, widths and help of both source tables."""
    text, number = st.column_config.TextColumn, st.column_config.NumberColumn
    return {
        "source": text(width=170),
        "type": text(width=55),
        "tables": text(width=120),
        "load": text(width=150),
        "rows": number(format="%,d", width=85),
        "quarantined": number(format="%,d", width=85),
        "redacted": number(
            format="%,d", width=75, help="Free-text values replaced by [redacted] (PHI screen)"
        ),
        "last success": w.when_column("last success (UTC)", width=135),
        "load s": number(format="%.2f", width=60, help="Seconds the last load took"),
        "newest before as-of": w.when_column(
            "newest before as-of", width=140, help="Newest row before the as-of (UTC)"
        ),
        "stale": text(width=80),
        "age h at as-of": number("age h", format="%.1f", width=65, help="Hours at the as-of"),
        "freshness budget": text("budget", width=75, help="Freshness budget"),
        "newest row loaded": w.when_column(
            "newest loaded", width=135, help="Newest row in the source (UTC)"
        ),
        "serves": text(help="Initiatives this source feeds"),
    }


def source_tables(ctx: Context) -> None:
    """The loading table, the freshness table and every source warning."""
    frame = pl.DataFrame(source_rows(ctx), infer_schema_length=None)
    st.subheader("Loading")
    w.table(
        frame.select(
            "source", "type", "tables", "load", "rows", "quarantined", "redacted", "last success",
            *(["load s"] if ctx.detailed else []), "last error",
        ),
        columns(),
        key="source_table",
    )  # fmt: skip
    st.subheader("Freshness at the as-of")
    w.table(
        frame.select(
            "source", "newest before as-of", "stale", "age h at as-of", "freshness budget",
            "newest row loaded", "serves",
        ),
        columns(),
        key="freshness_table",
    )  # fmt: skip
    st.caption(
        "A source is stale when its newest row before the as-of is older than its freshness "
        "budget; stale sources count against the initiatives they serve (gate dimension `data`). "
        "A failing source keeps its last good snapshot (data/.snapshots) when there is one."
    )
    for h in ctx.data.health:
        for warning in h.warnings:
            st.caption(f"{fm.plain(h.source)}: {fm.plain(warning)}")


def quarantined(ctx: Context) -> None:
    """Rows kept out of every metric, by reason and one by one."""
    st.subheader("Quarantined rows")
    quarantine = ctx.data.quarantine
    if quarantine.height == 0:
        st.success("No quarantined rows: every row met its table's schema.", icon="✅")
    else:
        sources = sorted(set(quarantine.get_column("source").to_list()))
        options = ["(all)", *sources]
        if st.session_state.get("quarantine_source") not in options:
            st.session_state["quarantine_source"] = "(all)"
        chosen = st.selectbox("Source", options, key="quarantine_source")
        shown = quarantine if chosen == "(all)" else quarantine.filter(pl.col("source") == chosen)
        reasons = series.quarantine_reasons(shown)
        st.markdown("**By reason**")
        w.table(reasons, key="quarantine_reasons")
        st.markdown("**Rows** (location in the source, and why)")
        w.table(shown, key="quarantine_rows", height=300)
        st.caption(
            "Quarantined rows are counted and kept out of every metric, never silently dropped. "
            "Fix them at the source or in the source's column/value mapping (config/sources.yaml)."
        )


def render(ctx: Context) -> None:
    """The Data sources page."""
    w.header(ctx, "Data sources", "Where every number comes from, and how fresh it is")
    if not ctx.data.health:
        w.empty(
            "data sources configured",
            "Add connector instances to config/sources.yaml (docs/connectors.md), e.g. a `file` "
            "source for CSV or Parquet, then reload.",
        )
        return
    source_tables(ctx)
    quarantined(ctx)


render(context(__file__))
