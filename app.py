"""pilotwatch dashboard: `streamlit run app.py`. The router: shared sidebar, banners, pages.

Pages live in pages/ and render what metrics/ computed (see docs/dashboard.md). The config
directory is $PILOTWATCH_CONFIG (default: config/ next to this file). `build_context` signs the
visitor in first (ui/auth.py, docs/governance.md): with OpenID Connect configured nothing below
runs for an anonymous visitor or an identity without a role.
"""

from __future__ import annotations

import os
import sys
import time

import streamlit as st

from ui.context import build_context, mark_routed, route_first_run
from ui.registry import PAGES
from ui.widgets import banners

_started, _cpu = time.perf_counter(), time.thread_time()  # PILOTWATCH_TIMING=1: see the end
st.set_page_config(page_title="pilotwatch", page_icon="🩺", layout="wide")

route_first_run()  # a server's first run: before any widget exists (ui/context.py says why)
ctx = build_context()
pages = {
    spec.path: st.Page(
        spec.path, title=spec.title, icon=spec.icon, default=spec.path == ctx.role.landing
    )
    for spec in PAGES
}
current = st.navigation(list(pages.values()))
mark_routed()
if st.session_state.pop("_pw_go_landing", False) and current is not pages[ctx.role.landing]:
    # query_params={}: a plain switch_page would try to clear the URL and refuse, because the
    # sidebar widgets are bound to it (the widgets keep their values either way)
    st.switch_page(pages[ctx.role.landing], query_params={})
banners(ctx)
current.run()
if os.environ.get("PILOTWATCH_TIMING") == "1":  # one line per run, read by bench_load.py
    # one write per line: two script threads' lines never interleave (print writes twice)
    sys.stdout.write(
        f"pilotwatch-timing page={current.url_path or '/'} "
        f"wall={time.perf_counter() - _started:.4f} cpu={time.thread_time() - _cpu:.4f}\n"
    )
    sys.stdout.flush()
