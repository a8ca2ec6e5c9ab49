"""Compliance: controls by initiatives, the gaps with owners and expiry, what expires soon."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics import series
from pages import common as c

ctx = c.context()
c.header(ctx, "Compliance", "HIPAA Security Rule safeguards and product controls per gate")

if not c.no_initiatives(ctx):
    items = ctx.items
    ids = [i["id"] for i in items]
    names = {i["id"]: i["name"] for i in items}
    owners = {i["id"]: i["owner"] for i in items}
    controls = ctx.portfolio.controls.filter(pl.col("initiative").is_in(ids))

    summary = pl.DataFrame(
        [
            {
                "initiative": i["name"],
                "gate": i["gate"],
                "required": i["compliance"]["required"],
                "coverage": i["compliance"]["coverage"],
                "gaps": i["compliance"]["gap_count"],
                "expiring soon": len(i["compliance"]["expiring"]),
            }
            for i in items
        ],
        schema_overrides={"coverage": pl.Float64()},
    )
    c.table(summary, {"coverage": st.column_config.NumberColumn(format="percent")}, key="coverage")
    st.caption(
        "Required = controls whose `required_from` stage is the initiative's gate or earlier. "
        "Coverage = (ok + justified not applicable) / required."
    )

    if not ctx.config.controls:
        c.empty("control catalog", "Add controls to config/controls.yaml (docs/config.md).")
    elif controls.height == 0:
        c.empty(
            "required controls for the shown initiatives",
            "Their gates require none yet; see `required_from` in config/controls.yaml.",
        )
    else:
        st.subheader("Gaps")
        owner_or_fallback = (
            pl.when(pl.col("owner").fill_null("").str.strip_chars() != "")
            .then(pl.col("owner"))
            .otherwise(pl.format("unassigned (initiative owner: {})", pl.col("initiative_owner")))
            .alias("owner")
        )
        enriched = controls.with_columns(
            pl.col("initiative").replace_strict(owners).alias("initiative_owner"),
            pl.col("initiative").replace_strict(names).alias("initiative_name"),
            pl.col("status")
            .replace_strict(c.CONTROL_LABEL, default=pl.col("status"))
            .alias("status label"),
        ).with_columns(owner_or_fallback)
        gaps = enriched.filter(pl.col("gap"))
        if gaps.height == 0:
            st.success("No compliance gaps for the shown initiatives.", icon="✅")
        else:
            c.table(
                gaps.select(
                    pl.col("initiative_name").alias("initiative"),
                    pl.col("status label").alias("status"),
                    "control",
                    "title",
                    "owner",
                    "expiry",
                    "collected_at",
                    "evidence_ref",
                    "required_from",
                ),
                key="gap_table",
            )
            st.caption(
                "missing: no evidence; failing: latest evidence failed; expired: the pass is "
                "older than `max_age_days` or past its `expires_at`; n/a without justification."
            )

        st.subheader("Expiring soon")
        expiring = enriched.filter(pl.col("expiring"))
        if expiring.height == 0:
            st.caption(
                f"Nothing expires within {ctx.config.settings.expiring_within_days} days of the "
                "as-of."
            )
        else:
            c.table(
                expiring.select(
                    pl.col("initiative_name").alias("initiative"),
                    "control",
                    "title",
                    "expiry",
                    "owner",
                    "evidence_ref",
                ).sort("expiry"),
                key="expiring_table",
            )

        st.subheader("Controls by initiative")
        matrix = series.compliance_matrix(controls, ids)
        status_columns = [i for i in ids if i in matrix.columns]
        titles = {ctl.id: ctl.title for ctl in ctx.config.controls}
        shown = matrix.with_columns(
            pl.col("control").replace_strict(titles, default="").alias("title"),
            *[
                pl.col(i)
                .fill_null("not_required")
                .replace_strict({**c.CONTROL_LABEL, "not_required": "· not required"})
                .alias(i)
                for i in status_columns
            ],
        ).select("control", "title", *status_columns)
        if ctx.summary:
            shown = shown.filter(
                pl.any_horizontal(pl.col(i).str.starts_with("❌") | pl.col(i).str.starts_with("⌛"))
                for i in status_columns
            )
            st.caption("Executive view: only controls with a gap somewhere.")
        c.table(
            shown.rename({i: names[i] for i in status_columns}),
            key="control_matrix",
            height=min(35 * shown.height + 40, 700),
        )
