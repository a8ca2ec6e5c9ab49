"""Page widgets: header, empty states, tables, columns, charts, links and the source banners."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from connectors.base import SourceHealth
from core.report import InitiativeReport, iso
from pilotwatch.sources import SNAPSHOT_DISCARDED
from ui.auth import DEMO_BANNER
from ui.context import Context
from ui.formats import NA, plain, unbroken, when


def snapshot_discarded(health: SourceHealth) -> str | None:
    """Why a failed source's snapshot was discarded (its health warning), or None."""
    marker = f"{SNAPSHOT_DISCARDED}: "
    found = [w.removeprefix(marker) for w in health.warnings if w.startswith(marker)]
    return found[0] if found else None


def access_banner(ctx: Context) -> None:
    """Say plainly when nobody signs in: local demo mode shows every initiative to everyone."""
    if not ctx.identity.authenticated:
        st.info(DEMO_BANNER, icon="🔓")


def banners(ctx: Context) -> None:
    """The access banner, a warning per failing source and a note per stale one."""
    access_banner(ctx)
    for health in ctx.data.health:
        if health.ok:
            continue
        if health.using_snapshot:
            fallback = (
                f"Showing its last good data (loaded {when(health.last_success)}, newest row "
                f"{when(health.newest)})."
            )
        elif discarded := snapshot_discarded(health):
            fallback = (
                f"Its last snapshot failed verification and was not used ({plain(discarded)}), "
                "so its tables are empty in this view."
            )
        else:
            fallback = "No earlier snapshot exists, so its tables are empty in this view."
        st.warning(
            f"Source **{plain(health.source)}** ({plain(health.type)}) failed to load: "
            f"{plain(health.last_error or 'unknown error')}. {fallback} Every other source and "
            "page works as usual; see **Data sources**.",
            icon="⚠️",
        )
    stale = [s for s in ctx.report.sources if s.stale]
    if stale:
        names = ", ".join(
            f"{plain(s.source)} (newest {iso(s.newest) if s.newest else 'never'})" for s in stale
        )
        st.info(f"Stale sources at this as-of: {names}. Gates count them under `data`.", icon="🕰️")


def header(ctx: Context, title: str, lead: str) -> None:
    """Page title with the as-of instant and the filter state."""
    st.title(title)
    st.caption(
        f"{lead} · As of **{iso(ctx.report.as_of)}** · {ctx.shown}"
        + (" (filtered)" if ctx.filters_active else "")
    )


def empty(what: str, how: str) -> None:
    """An empty state naming the missing data and how to add it."""
    st.info(f"**No {what}.** {how}", icon="ℹ️")


def no_initiatives(ctx: Context) -> bool:
    """Show an empty state and return True when the filters leave nothing."""
    if ctx.items:
        return False
    if ctx.report.initiatives:
        empty("initiative matches the sidebar filters", "Clear a filter in the sidebar.")
    else:
        empty(
            "initiatives configured",
            "Add them to config/initiatives.yaml (see docs/config.md).",
        )
    return True


def pick_initiative(
    ctx: Context, label_text: str = "Initiative", default: str | None = None
) -> InitiativeReport | None:
    """A selectbox of the filtered initiatives (shared across pages and bound to the URL).

    Nothing chosen yet (or the choice filtered away): `default` if shown, else the first.
    """
    ids = [i.id for i in ctx.items]
    if not ids:
        return None
    current = st.session_state.get("initiative") or st.query_params.get("initiative")
    if current not in ids:  # a filter hid it, or nothing chosen yet
        st.session_state["initiative"] = default if default in ids else ids[0]
    # options are the ids (no format_func): a bound widget puts its *label* in the URL
    chosen = st.selectbox(
        label_text,
        ids,
        key="initiative",
        bind="query-params",
        persist_state="session",
    )
    return ctx.item(chosen)


def table(
    frame: pl.DataFrame,
    column_config: Mapping[str, Any] | None = None,
    key: str | None = None,
    height: int | str = "auto",
    **kwargs: Any,
) -> Any:
    """A full-width dataframe without the index; missing values show as `n/a`.

    Give wide frames column widths and short labels (`column_config`) or fewer columns
    (`column_order`): at 1400 px with the sidebar open the main column is about 940 px wide.
    """
    options: dict[str, Any] = {
        "hide_index": True,
        "width": "stretch",
        "height": height,
        "column_config": dict(column_config or {}),
        "key": key,
        "placeholder": NA,
        **kwargs,
    }
    return st.dataframe(frame, **options)


def static_table(frame: pl.DataFrame) -> None:
    """A printable table (st.table): every cell in full, wrapped to the page width.

    st.table renders Markdown, so every header and cell is escaped (free text stays text);
    pass numbers already formatted. Missing values show as `n/a`.
    """
    shown = {
        plain(name): [NA if v is None else unbroken(plain(v)) for v in frame.get_column(name)]
        for name in frame.columns
    }
    st.table(pl.DataFrame(shown, schema=dict.fromkeys(shown, pl.String())), hide_index=True)


def when_column(label: str, **kwargs: Any) -> Any:
    """A datetime column shown as `YYYY-MM-DD HH:mm` in UTC."""
    return st.column_config.DatetimeColumn(
        label, format="YYYY-MM-DD HH:mm", timezone="UTC", **kwargs
    )


def day_column(label: str, **kwargs: Any) -> Any:
    """A datetime column shown as its UTC date, `YYYY-MM-DD`."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD", timezone="UTC", **kwargs)


def link_or_text(frame: pl.DataFrame, column: str, label: str, **kwargs: Any) -> Any:
    """A link column (showing the URL's path) when every value is an http(s) URL, else text."""
    values = frame.get_column(column).drop_nulls()
    if values.len() and values.str.contains(r"^https?://").all():
        return st.column_config.LinkColumn(label, display_text=r"^https?://[^/]+/(.+)$", **kwargs)
    return st.column_config.TextColumn(label, **kwargs)


def incident_flags() -> list[pl.Expr]:
    """The incident table's `open` and `patient_impact` columns as words, never colour alone."""
    return [
        pl.when("open").then(pl.lit("open")).otherwise(pl.lit("")).alias("open"),
        pl.when("patient_impact")
        .then(pl.lit("⚠️ yes"))
        .otherwise(pl.lit(""))
        .alias("patient_impact"),
    ]


Chart = alt.Chart | alt.LayerChart | alt.ConcatChart | alt.HConcatChart | alt.VConcatChart


def chart(spec: Chart, alt_text: str) -> None:
    """An Altair chart at full width with an accessible description.

    Single and layered charts fit the width only, so `height` is the plot's own height (axes
    and legends come on top of it) and discrete axes stretch too.
    """
    if isinstance(spec, alt.Chart | alt.LayerChart):
        spec = spec.properties(
            width="container", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
    st.altair_chart(_unvalidated(spec), width="stretch", alt=alt_text)


def _unvalidated(spec: Chart) -> Chart:
    """The chart, converted without Altair's schema validation unless PILOTWATCH_VALIDATE_CHARTS=1.

    `st.altair_chart` calls `to_dict()`, which validates the whole Vega-Lite spec against the
    JSON schema on every run: about a third of a warm page's CPU (docs/performance.md). The
    specs are fixed code, validated by the test suite (tests/conftest.py sets the variable), so
    a running app skips it. The override is this object's own (`object.__setattr__`, past
    Altair's attribute magic); the class and every other chart are unchanged.
    """
    if os.environ.get("PILOTWATCH_VALIDATE_CHARTS") == "1":
        return spec
    convert = spec.to_dict

    def to_dict(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if args:  # validate is the only positional parameter
            args = (False, *args[1:])
        else:
            kwargs["validate"] = False
        return convert(*args, **kwargs)

    object.__setattr__(spec, "to_dict", to_dict)
    return spec


def page_link(path: str, text: str, **params: str) -> None:
    """A link to another page, carrying query parameters (e.g. initiative=...)."""
    st.page_link(path, label=text, query_params=params or None)
