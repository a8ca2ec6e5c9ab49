"""Shared page helpers: the app context (config, data, portfolio, report), cached loaders, the
sidebar, status labels, number formats, colour-blind-safe palettes and empty states.

Every number a page shows is a value of the schema-1 report (`Context.report`, exactly what
`pilotwatch report` writes) or a row of the Portfolio frames; view series come from
metrics/series.py and metrics/compare.py. Nothing here computes a metric.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import time as clock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, NoReturn

import altair as alt
import polars as pl
import streamlit as st

from connectors.base import SourceHealth
from core.durations import parse_duration
from core.models import STAGES
from metrics.portfolio import Portfolio, compute_portfolio
from metrics.timewin import as_of_instant
from pilotwatch.config import Config, ConfigError, load_config
from pilotwatch.engine import default_as_of, snapshot_dir
from pilotwatch.render import VERDICT_LABEL as REPORT_VERDICT
from pilotwatch.render import fmt
from pilotwatch.report import report_dict
from pilotwatch.sources import SNAPSHOT_DISCARDED, LoadedData, load_sources

ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "PILOTWATCH_CONFIG"
CONTEXT_KEY = "_pw_context"
# Non-file sources (SQL) cannot be fingerprinted by file stats: re-read them this often.
LIVE_SOURCE_TTL_SECONDS = 300

# ----------------------------------------------------------------------------- pages and roles


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/portfolio.py", "Portfolio", ":material/dashboard:"),
    PageSpec("pages/initiative.py", "Initiative", ":material/fact_check:"),
    PageSpec("pages/slos.py", "SLOs", ":material/speed:"),
    PageSpec("pages/delivery.py", "Delivery and incidents", ":material/rocket_launch:"),
    PageSpec("pages/outcomes.py", "Outcomes", ":material/monitoring:"),
    PageSpec("pages/compliance.py", "Compliance", ":material/verified_user:"),
    PageSpec("pages/steering.py", "Steering review", ":material/summarize:"),
    PageSpec("pages/data_sources.py", "Data sources", ":material/database:"),
)


@dataclass(frozen=True)
class Role:
    label: str
    landing: str  # a PageSpec.path
    density: str  # "summary", "standard" or "detailed"
    blurb: str


ROLES: dict[str, Role] = {
    "innovation_leader": Role(
        "Innovation leader",
        "pages/portfolio.py",
        "standard",
        "Lands on the portfolio: which pilots move toward production, and why.",
    ),
    "engineering_lead": Role(
        "Engineering lead",
        "pages/slos.py",
        "detailed",
        "Lands on SLOs; shows raw counts, n and every burn-rate window.",
    ),
    "executive": Role(
        "Executive",
        "pages/steering.py",
        "summary",
        "Lands on the steering review; fewer columns, details folded away.",
    ),
}

# ----------------------------------------------------------------------------- labels

VERDICT_LABEL = {"go": "✅ GO", "conditional": "⚠️ CONDITIONAL", "no_go": "⛔ NO-GO"}
VERDICT_SHORT = {"go": "GO", "conditional": "COND.", "no_go": "NO-GO"}
VERDICT_ORDER = {"go": 0, "conditional": 1, "no_go": 2}
SLO_LABEL = {
    "healthy": "✅ healthy",
    "at_risk": "⚠️ at risk",
    "breached": "❌ breached",
    "no_data": "∅ no data",
}
OUTCOME_LABEL = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "insufficient_data": "❔ insufficient data",
    "waived": "🛡️ waived",
    "not_gated": "— not gated",
}
LEVEL_LABEL = {
    "elite": "★★★★ elite",
    "high": "★★★ high",
    "medium": "★★ medium",
    "low": "★ low",
    "insufficient_data": "❔ too few",  # fewer events than the DORA minimum: no level
}
CONTROL_LABEL = {
    "ok": "✅ ok",
    "not_applicable": "➖ not applicable",
    "missing": "❌ missing",
    "failing": "❌ failing",
    "na_unjustified": "❌ n/a, unjustified",
    "expired": "⌛ expired",
}
# the compliance matrix's narrow cells: the same icons, shorter words (legend on the page)
MATRIX_LABEL = {
    "ok": "✅ ok",
    "not_applicable": "➖ n/a",
    "na_unjustified": "❌ no reason",
    "missing": "❌ missing",
    "failing": "❌ failing",
    "expired": "⌛ expired",
    "not_required": "· not req.",
}
KPI_LABEL = {
    "on_track": "✅ on track",
    "off_track": "❌ off track",
    "no_data": "∅ no data",
    "suppressed": "🔒 suppressed",
}
MILESTONE_LABEL = {
    "done": "✅ done",
    "overdue": "❌ overdue",
    "due_soon": "⏳ due soon",
    "planned": "🗓️ planned",
}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Colour is never the
# only carrier of status: every chart also has a text label, a shape or a dash pattern.
OKABE = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#BBBBBB",
}
# Chart legends name statuses in words (never the raw ids): the colour scales are keyed by
# those words.
VERDICT_WORD = dict(REPORT_VERDICT)  # go -> GO, conditional -> CONDITIONAL, no_go -> NO-GO
VERDICT_SCALE = alt.Scale(
    domain=[VERDICT_WORD[v] for v in ("go", "conditional", "no_go")],
    range=[OKABE["green"], OKABE["orange"], OKABE["vermillion"]],
)
# heatmap cells are written in (symbol and word); the legend repeats the cell text
OUTCOME_SYMBOL = {
    "pass": "✓ pass",
    "waived": "W waived",
    "insufficient_data": "? no data",
    "fail": "✗ FAIL",
    "not_gated": "—",
}
OUTCOME_LEGEND = {**OUTCOME_SYMBOL, "not_gated": "— not gated"}
OUTCOME_SCALE = alt.Scale(
    domain=list(OUTCOME_LEGEND.values()),  # pass, waived, no data, fail, not gated
    range=[OKABE["green"], OKABE["sky"], OKABE["yellow"], OKABE["vermillion"], OKABE["grey"]],
)


# ----------------------------------------------------------------------------- formats


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage for people; `n/a` when null."""
    return "n/a" if value is None else f"{value:.{digits}%}"


def num(value: Any, digits: int = 3) -> str:
    """A number for people (the HTML report's format); `n/a` when null."""
    return fmt(value, digits)


def when(value: datetime | date | str | None) -> str:
    """An instant or date as text; `—` when null."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(text: Any) -> str:
    """Escape Markdown in free text (titles, errors, remediation) before st.markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def label(mapping: Mapping[str, str], key: str | None) -> str:
    """The icon-and-text label of a status (the raw status when unknown)."""
    if key is None:
        return "—"
    return mapping.get(key, key)


# ----------------------------------------------------------------------------- fingerprints


def config_dir() -> Path:
    """The configuration directory: $PILOTWATCH_CONFIG, else config/ under the project root."""
    value = os.environ.get(CONFIG_ENV)
    return Path(value).resolve() if value else ROOT / "config"


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def streamlit_secrets() -> dict[str, str]:
    """Top-level scalar Streamlit secrets: `${NAME}` in the YAML may come from them too."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        items = st.secrets.to_dict().items()
    except (FileNotFoundError, OSError, ValueError):  # unreadable secrets: the env still works
        return {}
    return {k: str(v) for k, v in items if isinstance(v, str | int | float | bool)}


def config_fingerprint(directory: Path, secrets: Mapping[str, str] | None = None) -> str:
    """Hash of every YAML file under `directory` and of the `${NAME}` values they reference."""
    digest = hashlib.sha256()
    names: set[str] = set()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            content = path.read_bytes()
            names |= set(_ENV_REF.findall(content.decode("utf-8", "replace")))
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + content + b"\0")
    values = {**(secrets or {}), **os.environ}  # the environment wins, as in load_config
    for name in sorted(names):
        digest.update(f"{name}={values.get(name, '')}\0".encode())
    return digest.hexdigest()


def _source_files(config: Config, settings: Mapping[str, Any]) -> list[str] | None:
    """The files a source reads: file paths and globs, SQLite files; None for servers."""
    patterns: list[str] = []
    url = settings.get("url")
    if isinstance(url, str) and url.startswith("sqlite:///"):
        patterns.append(url.removeprefix("sqlite:///"))  # sqlite:////abs keeps its slash
    if isinstance(settings.get("path"), str):
        patterns.append(settings["path"])
    if isinstance(settings.get("paths"), Mapping):
        patterns += [p for p in settings["paths"].values() if isinstance(p, str)]
    if not patterns:
        return None
    files: list[str] = []
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else str(Path(config.root) / pattern)
        matched = sorted(glob.glob(full))
        files += matched or [f"missing:{full}"]
    return files


def data_fingerprint(config: Config, nonce: int = 0, now: float | None = None) -> str:
    """Paths, sizes and mtimes of every file source; a time bucket when a source is not a file."""
    digest = hashlib.sha256(f"nonce={nonce}\0".encode())
    live = False
    for source in config.sources:
        if not source.enabled:
            continue
        digest.update(f"{source.name}\0{source.type}\0".encode())
        files = _source_files(config, source.settings)
        if files is None:
            live = True
            continue
        for name in files:
            try:
                stat = os.stat(name)
                digest.update(f"{name}\0{stat.st_mtime_ns}\0{stat.st_size}\0".encode())
            except OSError:
                digest.update(f"{name}\0missing\0".encode())
    if live:
        bucket = int((now if now is not None else clock.time()) // LIVE_SOURCE_TTL_SECONDS)
        digest.update(f"live={bucket}".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- cached loaders


@st.cache_resource(max_entries=4, show_spinner=False)
def load_config_cached(directory: str, config_fp: str, _secrets: Mapping[str, str]) -> Config:
    """The validated configuration (keyed on the directory and its fingerprint)."""
    return load_config(directory, secrets=_secrets)


@st.cache_resource(max_entries=2, show_spinner="Loading sources…")
def load_data_cached(directory: str, config_fp: str, data_fp: str, _config: Config) -> LoadedData:
    """Every source loaded once per (config, data) fingerprint; never raises for a source."""
    try:
        return load_sources(_config, snapshot_dir(_config))
    except Exception as exc:  # a loader bug must not blank the dashboard
        health = SourceHealth(
            source="(all sources)",
            type="loader",
            tables=(),
            ok=False,
            last_error=f"{type(exc).__name__}: {exc}",
        )
        return LoadedData(tables={}, health=[health])


@st.cache_resource(max_entries=8, show_spinner="Computing metrics…")
def compute_cached(
    directory: str,
    config_fp: str,
    data_fp: str,
    as_of_iso: str,
    _config: Config,
    _data: LoadedData,
) -> tuple[Portfolio, dict[str, Any]]:
    """The Portfolio and its schema-1 report as of one instant: what `pilotwatch report` does."""
    portfolio = compute_portfolio(
        _data.tables, _config, datetime.fromisoformat(as_of_iso), _data.newest
    )
    return portfolio, report_dict(portfolio)  # dict shim until pages read the model


# ----------------------------------------------------------------------------- the context


@dataclass(frozen=True)
class Context:
    """Everything a page needs for this run: config, data, portfolio, report and the filters."""

    config_dir: Path
    config: Config
    data: LoadedData
    portfolio: Portfolio
    report: dict[str, Any]
    as_of: datetime
    default_as_of: datetime
    role: Role
    selected: tuple[str, ...]
    filters_active: bool
    report_at: Callable[[datetime], dict[str, Any]]

    @property
    def items(self) -> list[dict[str, Any]]:
        """The report's initiatives that pass the sidebar filters, in report order."""
        keep = set(self.selected)
        return [i for i in self.report["initiatives"] if i["id"] in keep]

    def item(self, initiative_id: str) -> dict[str, Any]:
        """One initiative's report block."""
        return next(i for i in self.report["initiatives"] if i["id"] == initiative_id)

    @property
    def summary(self) -> bool:
        return self.role.density == "summary"

    @property
    def detailed(self) -> bool:
        return self.role.density == "detailed"

    @property
    def delivery_window(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.config.settings.delivery_window))

    @property
    def small_cell(self) -> int:
        return max(self.config.settings.small_cell_threshold, 11)


def _on_role_change() -> None:
    st.session_state["_pw_go_landing"] = True


def _set_as_of(value: datetime) -> None:
    st.session_state["as_of_date"] = value.date()
    st.session_state["as_of_time"] = value.time().replace(tzinfo=None)


def _reload() -> None:
    st.session_state["_pw_nonce"] = st.session_state.get("_pw_nonce", 0) + 1


def _sidebar(config: Config, fallback: datetime) -> tuple[str, datetime, dict[str, list[str]]]:
    """Role, as-of and filters from the sidebar widgets (bound to the URL for sharing)."""
    side = st.sidebar
    role = side.selectbox(
        "Role",
        list(ROLES),
        format_func=lambda k: ROLES[k].label,
        key="role",
        bind="query-params",
        on_change=_on_role_change,
        help="Sets the landing page and how much detail the pages show.",
    )
    side.caption(ROLES[role].blurb)
    side.markdown("**As of (UTC)**")
    # Seeded through session state (not `value=`) so that a URL parameter can override the
    # default and the reset button can set it back without a "default and state" conflict.
    if "as_of_date" not in st.session_state and "as_of_date" not in st.query_params:
        st.session_state["as_of_date"] = fallback.date()
    if "as_of_time" not in st.session_state and "as_of_time" not in st.query_params:
        st.session_state["as_of_time"] = fallback.time().replace(tzinfo=None)
    day = side.date_input("As-of date (UTC)", key="as_of_date", bind="query-params")
    moment = side.time_input("As-of time (UTC)", key="as_of_time", step=60, bind="query-params")
    side.button("Reset as-of to default", on_click=_set_as_of, args=(fallback,), width="stretch")
    side.markdown("**Filters**")
    owners = sorted({i.owner for i in config.initiatives})
    areas = sorted({i.clinical_area for i in config.initiatives})
    filters = {
        "stage": side.multiselect(
            "Stage", list(STAGES), key="f_stage", placeholder="All stages", bind="query-params"
        ),
        "owner": side.multiselect(
            "Owner", owners, key="f_owner", placeholder="All owners", bind="query-params"
        ),
        "clinical_area": side.multiselect(
            "Clinical area", areas, key="f_area", placeholder="All areas", bind="query-params"
        ),
        "verdict": side.multiselect(
            "Gate verdict",
            list(VERDICT_LABEL),
            format_func=REPORT_VERDICT.get,  # GO, CONDITIONAL, NO-GO: also the URL's words
            key="f_verdict",
            placeholder="All verdicts",
            bind="query-params",
        ),
    }
    side.button(
        "Reload data",
        on_click=_reload,
        width="stretch",
        help="Re-read every source now (files are re-read automatically when they change).",
    )
    as_of = as_of_instant(datetime.combine(day or fallback.date(), moment or dtime(0), UTC))
    return role, as_of, filters


def filter_ids(
    items: Sequence[Mapping[str, Any]], filters: Mapping[str, Sequence[str]]
) -> list[str]:
    """Ids of the report initiatives matching every non-empty filter (empty = all)."""
    keep = []
    for item in items:
        checks = {
            "stage": item["stage"],
            "owner": item["owner"],
            "clinical_area": item["clinical_area"],
            "verdict": item["readiness"]["verdict"],
        }
        if all(not filters.get(k) or v in filters[k] for k, v in checks.items()):
            keep.append(item["id"])
    return keep


def build_context() -> Context:
    """Render the shared sidebar, load (cached) and return this run's context.

    A configuration error stops the app with every error listed: nothing can be shown without
    a valid configuration. A failing source never stops it (see banners()).
    """
    directory = config_dir()
    if not directory.is_dir():
        st.error(
            f"Configuration directory not found: `{directory}`. Set {CONFIG_ENV} or run from "
            "the project root (see README)."
        )
        st.stop()
    secrets = streamlit_secrets()
    config_fp = config_fingerprint(directory, secrets)
    try:
        config = load_config_cached(str(directory), config_fp, secrets)
    except ConfigError as exc:
        st.error("The configuration has errors; fix them and reload:")
        st.code("\n".join(str(issue) for issue in exc.issues), language=None)
        st.stop()
    # "now" moves every minute: fix this session's default so widgets keep their identity
    defaults = st.session_state.setdefault("_pw_default_as_of", {})
    if config_fp not in defaults:
        defaults[config_fp] = default_as_of(config)
    fallback = defaults[config_fp]
    role_key, as_of, filters = _sidebar(config, fallback)
    data_fp = data_fingerprint(config, st.session_state.get("_pw_nonce", 0))
    data = load_data_cached(str(directory), config_fp, data_fp, config)

    def report_at(instant: datetime) -> dict[str, Any]:
        instant = as_of_instant(instant)
        return compute_cached(
            str(directory), config_fp, data_fp, instant.isoformat(), config, data
        )[1]

    portfolio, report = compute_cached(
        str(directory), config_fp, data_fp, as_of.isoformat(), config, data
    )
    selected = filter_ids(report["initiatives"], filters)
    ctx = Context(
        config_dir=directory,
        config=config,
        data=data,
        portfolio=portfolio,
        report=report,
        as_of=as_of,
        default_as_of=fallback,
        role=ROLES[role_key],
        selected=tuple(selected),
        filters_active=any(filters.values()),
        report_at=report_at,
    )
    failing = [h for h in data.health if not h.ok]
    st.sidebar.caption(
        f"As of {report['as_of']} · {len(data.health)} source(s), {len(failing)} failing · "
        f"{len(selected)} of {len(report['initiatives'])} initiatives shown"
    )
    st.session_state[CONTEXT_KEY] = ctx
    return ctx


def snapshot_discarded(health: SourceHealth) -> str | None:
    """Why a failed source's snapshot was discarded (its health warning), or None."""
    marker = f"{SNAPSHOT_DISCARDED}: "
    found = [w.removeprefix(marker) for w in health.warnings if w.startswith(marker)]
    return found[0] if found else None


def banners(ctx: Context) -> None:
    """A warning per failing source and a note per stale one; the rest of the app carries on."""
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
    stale = [s for s in ctx.report.get("sources", []) if s["stale"]]
    if stale:
        names = ", ".join(f"{plain(s['source'])} (newest {s['newest'] or 'never'})" for s in stale)
        st.info(f"Stale sources at this as-of: {names}. Gates count them under `data`.", icon="🕰️")


def context(page_file: str) -> Context:
    """This run's context, built by the router (app.py) earlier in the same run.

    A page runs without the router only on a server that no session has opened yet: until
    app.py first calls st.navigation, Streamlit treats pages/ as an old-style pages folder and
    runs a deep link's page file alone (no page config, no sidebar of app.py). Such a run hands
    the request to the router: it registers the app's pages (which ends that mode for the whole
    server) and switches to the same page with the same query parameters, so app.py runs it.
    """
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        _through_router(page_file)
    return ctx


def _through_router(page_file: str) -> NoReturn:
    """Rerun this request through app.py, on the same page and with the same query parameters."""
    path = Path(page_file).resolve().relative_to(ROOT).as_posix()
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    # st.navigation is what switches Streamlit from the pages/-folder mode to app.py's routing
    st.navigation([st.Page(spec.path, title=spec.title) for spec in PAGES], position="hidden")
    st.switch_page(path, query_params=params)


# ----------------------------------------------------------------------------- page helpers


def header(ctx: Context, title: str, lead: str) -> None:
    """Page title with the as-of instant and the filter state."""
    st.title(title)
    shown = f"{len(ctx.selected)} of {len(ctx.report['initiatives'])} initiatives"
    st.caption(
        f"{lead} · As of **{ctx.report['as_of']}** · {shown}"
        + (" (filtered)" if ctx.filters_active else "")
    )


def empty(what: str, how: str) -> None:
    """An empty state naming the missing data and how to add it."""
    st.info(f"**No {what}.** {how}", icon="ℹ️")


def no_initiatives(ctx: Context) -> bool:
    """Show an empty state and return True when the filters leave nothing."""
    if ctx.items:
        return False
    if ctx.report["initiatives"]:
        empty("initiative matches the sidebar filters", "Clear a filter in the sidebar.")
    else:
        empty(
            "initiatives configured",
            "Add them to config/initiatives.yaml (see docs/config.md).",
        )
    return True


def pick_initiative(
    ctx: Context, label_text: str = "Initiative", default: str | None = None
) -> dict[str, Any] | None:
    """A selectbox of the filtered initiatives (shared across pages and bound to the URL).

    Nothing chosen yet (or the choice filtered away): `default` if shown, else the first.
    """
    ids = [i["id"] for i in ctx.items]
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


NA = "n/a"  # how every page shows a missing value


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
    return st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=height,  # type: ignore[arg-type]
        column_config=dict(column_config or {}),
        key=key,
        placeholder=NA,
        **kwargs,
    )


def static_table(frame: pl.DataFrame) -> None:
    """A printable table (st.table): every cell in full, wrapped to the page width.

    st.table renders Markdown, so every header and cell is escaped (free text stays text);
    pass numbers already formatted. Missing values show as `n/a`.
    """
    shown = {
        plain(name): [NA if v is None else _unbroken(plain(v)) for v in frame.get_column(name)]
        for name in frame.columns
    }
    st.table(pl.DataFrame(shown, schema=dict.fromkeys(shown, pl.String())), hide_index=True)


_ISO_DATE = re.compile(r"^\d{4}\\-\d{2}\\-\d{2}$")  # as escaped by plain()


def _unbroken(text: str) -> str:
    """Keep short cells (a status label, a date, a name) on one line in a wrapping table."""
    if _ISO_DATE.match(text):
        return text.replace("\\-", "\u2011")  # non-breaking hyphens
    return text.replace(" ", "\u00a0") if len(text) <= 16 else text


def when_column(label: str, **kwargs: Any) -> Any:
    """A datetime column shown as `YYYY-MM-DD HH:mm` in UTC."""
    return st.column_config.DatetimeColumn(
        label, format="YYYY-MM-DD HH:mm", timezone="UTC", **kwargs
    )


def day_column(label: str, **kwargs: Any) -> Any:
    """A datetime column shown as its UTC date, `YYYY-MM-DD`."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD", timezone="UTC", **kwargs)


def day(value: date | datetime | None) -> str:
    """A date, or an instant's UTC date, as `YYYY-MM-DD`; `n/a` when null."""
    if value is None:
        return NA
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


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


def chart(spec: alt.TopLevelMixin, alt_text: str) -> None:
    """An Altair chart at full width with an accessible description.

    Single and layered charts fit the width only, so `height` is the plot's own height (axes
    and legends come on top of it) and discrete axes stretch too.
    """
    if isinstance(spec, alt.Chart | alt.LayerChart):
        spec = spec.properties(
            width="container", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
    st.altair_chart(spec, width="stretch", alt=alt_text)


def page_link(path: str, text: str, **params: str) -> None:
    """A link to another page, carrying query parameters (e.g. initiative=...)."""
    st.page_link(path, label=text, query_params=params or None)
