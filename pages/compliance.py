"""Compliance: controls by initiatives, the gaps with owners and expiry, what expires soon."""

from __future__ import annotations

import polars as pl
import streamlit as st

from core.enums import GAP_STATUSES
from metrics import series
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.context import Context, context

MATRIX_LEGEND = {
    "ok": "evidence passes",
    "not_applicable": "not applicable, with a justification",
    "na_unjustified": "marked not applicable without a justification",
    "missing": "no evidence",
    "failing": "latest evidence failed",
    "expired": "evidence too old or past its expiry",
    "not_required": "not required at the initiative's gate",
}


def coverage_table(ctx: Context) -> None:
    """Required controls, coverage, gaps and expiring evidence per initiative (report)."""
    summary = pl.DataFrame(
        [
            {
                "initiative": i.name,
                "gate": i.gate,
                "required": i.compliance.required,
                "coverage": fm.pct(i.compliance.coverage, 1),
                "gaps": i.compliance.gap_count,
                "expiring soon": i.compliance.expiring_count,
            }
            for i in ctx.items
        ],
    )
    w.table(
        summary,
        {
            "initiative": st.column_config.TextColumn(width=240),
            "coverage": st.column_config.TextColumn(alignment="right"),
        },
        key="coverage",
    )
    st.caption(
        "Required = controls whose `required_from` stage is the initiative's gate or earlier. "
        "Coverage = (ok + justified not applicable) / required."
    )


def enriched_controls(ctx: Context, controls: pl.DataFrame) -> pl.DataFrame:
    """The shown initiatives' controls with their names and an owner for every row."""
    names = {i.id: i.name for i in ctx.items}
    owners = {i.id: i.owner for i in ctx.items}
    owner_or_fallback = (
        pl.when(pl.col("owner").fill_null("").str.strip_chars() != "")
        .then(pl.col("owner"))
        .otherwise(pl.format("unassigned → {}", pl.col("initiative_owner")))
        .alias("owner")
    )
    enriched = controls.with_columns(
        pl.col("initiative").replace_strict(owners).alias("initiative_owner"),
        pl.col("initiative").replace_strict(names).alias("initiative_name"),
        pl.col("status")
        .replace_strict(lb.CONTROL_LABEL, default=pl.col("status"))
        .alias("status label"),
    ).with_columns(owner_or_fallback)
    return enriched


def gap_table(ctx: Context, enriched: pl.DataFrame) -> None:
    """The gaps, with owner and expiry."""
    text = st.column_config.TextColumn
    st.subheader("Gaps")
    gaps = enriched.filter(pl.col("gap"))
    if gaps.height == 0:
        st.success("No compliance gaps for the shown initiatives.", icon="✅")
    else:
        gap_rows = gaps.select(
            pl.col("initiative_name").alias("initiative"),
            pl.col("status label").alias("status"),
            "control",
            "title",
            "owner",
            "expiry",
            "collected_at",
            "evidence_ref",
            "required_from",
        )
        columns = {
            "initiative": text(width=180),
            "status": text(width=120),
            "control": text(width=215),
            "title": text(width=200),
            "owner": text(
                width=190,
                help="The evidence owner; 'unassigned → name' when there is no evidence "
                "yet: the initiative's owner is the one to ask.",
            ),
            "expiry": w.day_column("expires (UTC)", width=90),
            "collected_at": w.day_column("collected (UTC)", width=105),
            "evidence_ref": w.link_or_text(gap_rows, "evidence_ref", "evidence", width=115),
            "required_from": text("required from", width=120),
        }
        w.table(
            gap_rows.select("initiative", "status", "control", "owner", "expiry", "evidence_ref"),
            columns,
            key="gap_table",
        )
        with st.expander("Control titles, evidence dates and the stage that requires each"):
            w.table(
                gap_rows.select("initiative", "control", "title", "collected_at", "required_from"),
                columns,
                key="gap_more",
            )
        st.caption(
            "missing: no evidence; failing: latest evidence failed; expired: the pass is "
            "older than `max_age_days` or past its `expires_at`; n/a without justification."
        )


def expiring_table(ctx: Context, enriched: pl.DataFrame) -> None:
    """Evidence that expires soon."""
    text = st.column_config.TextColumn
    st.subheader("Expiring soon")
    expiring = enriched.filter(pl.col("expiring"))
    if expiring.height == 0:
        st.caption(
            f"Nothing expires within {ctx.config.settings.expiring_within_days} days of the as-of."
        )
    else:
        soon = expiring.select(
            pl.col("initiative_name").alias("initiative"),
            "control",
            "title",
            "expiry",
            "owner",
            "evidence_ref",
        ).sort("expiry")
        w.table(
            soon,
            {
                "initiative": text(width=180),
                "control": text(width=190),
                "title": text(width=170),
                "expiry": w.day_column("expires (UTC)", width=100),
                "owner": text(width=130),
                "evidence_ref": w.link_or_text(soon, "evidence_ref", "evidence"),
            },
            key="expiring_table",
        )


def control_matrix(ctx: Context, controls: pl.DataFrame, ids: list[str]) -> None:
    """Every control against every shown initiative (executives: only rows with a gap)."""
    names = {i.id: i.name for i in ctx.items}
    st.subheader("Controls by initiative")
    matrix = series.compliance_matrix(controls, ids)
    status_columns = [i for i in ids if i in matrix.columns]
    if ctx.summary:  # on the statuses themselves, before they become labels
        matrix = matrix.filter(
            pl.any_horizontal(
                pl.col(i).is_in(GAP_STATUSES).fill_null(False) for i in status_columns
            )
        )
        st.caption("Executive view: only controls with a gap somewhere.")
    shown = matrix.with_columns(
        pl.col(i).fill_null("not_required").replace_strict(lb.MATRIX_LABEL).alias(i)
        for i in status_columns
    ).select("control", *status_columns)
    # every initiative gets a narrow column headed by its id (its name on hover)
    w.table(
        shown.rename({i: names[i] for i in status_columns}),
        {
            "control": st.column_config.TextColumn(width=230),
            **{
                names[i]: st.column_config.TextColumn(i, width=86, help=names[i])
                for i in status_columns
            },
        },
        key="control_matrix",
        height=min(35 * shown.height + 40, 700),
    )
    st.caption(
        "Columns are initiative ids (hover for the name). "
        + "; ".join(f"{lb.MATRIX_LABEL[k]}: {meaning}" for k, meaning in MATRIX_LEGEND.items())
        + ". Control titles are in the catalog, config/controls.yaml."
    )


def render(ctx: Context) -> None:
    """The Compliance page."""
    w.header(ctx, "Compliance", "HIPAA Security Rule safeguards and product controls per gate")
    if w.no_initiatives(ctx):
        return
    ids = [i.id for i in ctx.items]
    controls = ctx.portfolio.controls.filter(pl.col("initiative").is_in(ids))
    coverage_table(ctx)
    if not ctx.config.controls:
        w.empty("control catalog", "Add controls to config/controls.yaml (docs/config.md).")
    elif controls.height == 0:
        w.empty(
            "required controls for the shown initiatives",
            "Their gates require none yet; see `required_from` in config/controls.yaml.",
        )
    else:
        enriched = enriched_controls(ctx, controls)
        gap_table(ctx, enriched)
        expiring_table(ctx, enriched)
        control_matrix(ctx, controls, ids)


render(context(__file__))
