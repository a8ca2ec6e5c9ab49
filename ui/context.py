"""This run's context (config, data, portfolio, report, filters), built once by app.py.

The context is built for this session's identity (ui/auth.py): its config, data, portfolio and
report hold only the initiatives the identity may see (pilotwatch/access.py, docs/governance.md).
Every number a page shows is a value of the schema-1 report (`Context.report`, exactly what
`pilotwatch report` writes) or a row of the Portfolio frames; view series come from
metrics/series.py and pilotwatch/report/ (views, compare). Nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st

from core.report import InitiativeReport, Report, iso
from metrics.portfolio import Portfolio
from metrics.timewin import as_of_instant
from pilotwatch.access import Identity
from pilotwatch.config import Config, ConfigError
from pilotwatch.engine import default_as_of
from pilotwatch.sources import LoadedData
from ui import loaders
from ui.auth import current_identity
from ui.formats import plain
from ui.registry import PAGES, ROLES, Role
from ui.sidebar import sidebar

CONTEXT_KEY = "_pw_context"
# Set once a run of app.py has routed through its own st.navigation (see `route_first_run`).
_routed = False


@dataclass(frozen=True)
class Context:
    """Everything a page needs for this run: config, data, portfolio, report and the filters.

    `config`, `data`, `portfolio` and `report` are already restricted to what `identity` may see.
    """

    config_dir: Path
    config: Config
    data: LoadedData
    portfolio: Portfolio
    report: Report
    as_of: datetime
    default_as_of: datetime
    role: Role
    selected: tuple[str, ...]
    filters_active: bool
    report_at: Callable[[datetime], Report]
    identity: Identity

    @property
    def items(self) -> list[InitiativeReport]:
        """The report's initiatives that pass the sidebar filters, in report order."""
        keep = set(self.selected)
        return [i for i in self.report.initiatives if i.id in keep]

    def item(self, initiative_id: str) -> InitiativeReport:
        """One initiative's report block."""
        item = self.report.initiative(initiative_id)
        if item is None:
            raise KeyError(initiative_id)
        return item

    @property
    def summary(self) -> bool:
        """The executive density: fewer columns, details folded away."""
        return self.role.density == "summary"

    @property
    def detailed(self) -> bool:
        """The engineering density: raw counts, n and every window."""
        return self.role.density == "detailed"

    @property
    def delivery_window(self) -> timedelta:
        """The DORA window ending at the as-of (settings.delivery_window, parsed at load)."""
        return self.config.settings.delivery_window

    @property
    def small_cell(self) -> int:
        """The small-cell threshold (the config model keeps it at 11 or more)."""
        return self.config.settings.small_cell_threshold

    @property
    def shown(self) -> str:
        """How many initiatives the filters leave, for captions."""
        return f"{len(self.selected)} of {len(self.report.initiatives)} initiatives"


def filter_ids(
    items: Sequence[InitiativeReport], filters: Mapping[str, Sequence[str]]
) -> list[str]:
    """Ids of the report initiatives matching every non-empty filter (empty = all)."""
    keep = []
    for item in items:
        checks = {
            "stage": item.stage,
            "owner": item.owner,
            "clinical_area": item.clinical_area,
            "verdict": item.readiness.verdict,
        }
        if all(not filters.get(k) or v in filters[k] for k, v in checks.items()):
            keep.append(item.id)
    return keep


class LoadProgress:
    """A status box naming each source as it loads, then the report step (cache misses only).

    It is the loader's `on_progress(source_name, done, total)` callback, called in the script's
    thread, so the box exists only when sources are really read: a warm visit leaves an empty
    placeholder and no flicker.
    """

    def __init__(self) -> None:
        self._holder = st.empty()
        self._status: Any = None

    def __call__(self, source_name: str, done: int, total: int) -> None:
        """`done` of `total` sources loaded, `source_name` the one just finished (or started)."""
        if self._status is None:
            self._status = self._holder.status(f"Loading {total} source(s)…", expanded=True)
        if done:
            self._status.write(f"Loaded **{plain(source_name)}** ({done} of {total})")
        else:
            self._status.write(f"Loading **{plain(source_name)}** …")
        self._status.update(label=f"Loading sources: {done} of {total} loaded…")

    def computing(self, instant: datetime) -> None:
        """The sources are in: say that the report is computed next."""
        if self._status is not None:
            self._status.update(label=f"Computing the report as of {iso(instant)}…")

    def finish(self) -> None:
        """Remove the box: the page renders in its place."""
        self._holder.empty()


def _load_data(
    directory: Path, config_fp: str, data_fp: str, full: Config, progress: LoadProgress
) -> LoadedData:
    """The cached sources; a cold load reports each source to `progress` as it finishes."""
    return loaders.load_data_cached(str(directory), config_fp, data_fp, full, _on_progress=progress)


def _config(directory: Path, config_fp: str, secrets: Mapping[str, str]) -> Config:
    """The cached configuration; a configuration error stops the app with every error listed."""
    try:
        return loaders.load_config_cached(str(directory), config_fp, secrets)
    except ConfigError as exc:
        st.error("The configuration has errors; fix them and reload:")
        st.code("\n".join(str(issue) for issue in exc.issues), language=None)
        st.stop()


def build_context() -> Context:
    """Render the shared sidebar, load (cached) and return this run's context.

    A configuration error stops the app: nothing can be shown without a valid configuration.
    A failing source never stops it (see ui.widgets.banners).
    """
    directory = loaders.config_dir()
    if not directory.is_dir():
        st.error(
            f"Configuration directory not found: `{directory}`. Set {loaders.CONFIG_ENV} or "
            "run from the project root (see README)."
        )
        st.stop()
    secrets = loaders.streamlit_secrets()
    config_fp = loaders.config_fingerprint(directory, secrets)
    full = _config(directory, config_fp, secrets)
    identity = current_identity(full, directory)  # stops at the sign-in / no-access screen
    config = loaders.visible_config(config_fp, identity.scope_key, full, identity)
    # "now" moves every minute: fix this session's default so widgets keep their identity
    defaults = st.session_state.setdefault("_pw_default_as_of", {})
    if config_fp not in defaults:
        defaults[config_fp] = default_as_of(config)
    fallback = defaults[config_fp]
    role_key, as_of, filters = sidebar(config, fallback, identity)
    # sources load once for everyone (the full config); what a session sees is cut per scope
    data_fp = loaders.data_fingerprint(full, st.session_state.get("_pw_nonce", 0))
    progress = LoadProgress()
    loaded = _load_data(directory, config_fp, data_fp, full, progress)
    scope = identity.scope_key
    data = loaders.visible_data_cached(config_fp, data_fp, scope, full, loaded, identity)

    def computed(instant: datetime) -> tuple[Portfolio, Report]:
        return loaders.compute_cached(
            str(directory), config_fp, data_fp, instant.isoformat(), scope, full, loaded, identity
        )

    progress.computing(as_of)
    portfolio, report = computed(as_of)
    progress.finish()
    selected = filter_ids(report.initiatives, filters)
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
        report_at=lambda instant: computed(as_of_instant(instant))[1],
        identity=identity,
    )
    failing = [h for h in data.health if not h.ok]
    st.sidebar.caption(
        f"As of {iso(report.as_of)} · {len(data.health)} source(s), {len(failing)} failing · "
        f"{ctx.shown} shown"
    )
    st.session_state[CONTEXT_KEY] = ctx
    return ctx


def context(page_file: str) -> Context:
    """This run's context, built by the router (app.py) earlier in the same run.

    A page runs without the router only on a server that no session has opened yet. Streamlit
    keys its old folder-based multipage mode on a folder named `pages` next to the main script
    (the project keeps its pages there), and until app.py first calls st.navigation it runs a
    deep link's page file alone (no page config, no sidebar of app.py). Such a run hands the
    request to the router: it registers the app's pages (which ends that mode for the whole
    server) and switches to the same page with the same query parameters, so app.py runs it.
    """
    ctx = st.session_state.get(CONTEXT_KEY)
    if ctx is None:
        _through_router(page_file)
    return ctx  # type: ignore[no-any-return]


def route_first_run() -> None:
    """Until app.py has routed once in this process, register its pages and rerun (no widget).

    Streamlit starts a server in its pages/-folder mode and runs the first session's first run
    of app.py inside that mode, under another page hash than every later run. A widget's
    identity includes that hash, so the sidebar widgets of that one run were not those of the
    next run: the next run (a changed as-of date) dropped their values, the time fell back to
    the clock and the URL lost `as_of_date`. Registering the navigation ends that mode for the
    whole server; the rerun (same URL, same landing page) builds every widget in the lasting one.
    """
    if _routed or st.session_state.get("_pw_routed_once"):
        return
    st.session_state["_pw_routed_once"] = True  # this session's rerun goes on (no loop)
    st.navigation(
        [st.Page(s.path, title=s.title, default=s.path == _url_landing()) for s in PAGES],
        position="hidden",
    )
    st.rerun()


def mark_routed() -> None:
    """Record that app.py routed through its own navigation (later runs skip the extra rerun)."""
    global _routed
    _routed = True


def _url_landing() -> str:
    """The landing page of the role in the URL (its label, as the bound selectbox writes it)."""
    wanted = st.session_state.get("role") or st.query_params.get("role")
    for key, role in ROLES.items():
        if wanted in (key, role.label):
            return role.landing
    return next(iter(ROLES.values())).landing


def _through_router(page_file: str) -> NoReturn:
    """Rerun this request through app.py, on the same page and with the same query parameters."""
    path = Path(page_file).resolve().relative_to(loaders.ROOT).as_posix()
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    # st.navigation is what switches Streamlit from the pages/-folder mode to app.py's routing
    st.navigation([st.Page(spec.path, title=spec.title) for spec in PAGES], position="hidden")
    st.switch_page(path, query_params=params)
