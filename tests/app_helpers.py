"""Helpers for the dashboard tests: AppTest on the navigation app, the demo data, a copy of the
project's configuration with one source broken.

AppTest quirk worked around here: AppTest resets `PagesManager.uses_pages_directory` before
every run, and because this project keeps its pages in `pages/`, Streamlit then emulates the
old folder-based multipage mode and runs a switched-to page *without* app.py (no sidebar, no
banners). A real server stops doing that as soon as app.py has called st.navigation once, so the
tests pin the flag to False, like the server after its first run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import streamlit.testing.v1.app_test as app_test_module
import yaml
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
if str(ROOT) not in sys.path:  # `pages` (the dashboard) is not an installed package
    sys.path.insert(0, str(ROOT))
DEMO = ROOT / "data" / "demo"
TIMEOUT = 120


class _NavigationPages(PagesManager):
    """A PagesManager that never falls back to the pages/ folder (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        PagesManager.uses_pages_directory = False
        super().__init__(*args, **kwargs)


app_test_module.PagesManager = _NavigationPages  # type: ignore[misc]


def ensure_demo() -> Path:
    """The demo data under data/demo, written once when missing."""
    if not ((DEMO / ".complete").exists() or (DEMO / "deployments.csv").exists()):
        from pilotwatch.demo import write_demo

        write_demo(DEMO)
        (DEMO / ".complete").write_text("ok\n")
    return DEMO


def new_app(**session: Any) -> AppTest:
    """An AppTest of app.py (not yet run), with session state preset."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in session.items():
        at.session_state[key] = value
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app (once, if needed) and then the page `pages/<page>.py`."""
    if not at._registered_pages:  # switch_page needs the page list st.navigation registered
        at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


@contextmanager
def config_env(directory: Path | str) -> Iterator[None]:
    """Point the app at another configuration directory for the duration."""
    old = os.environ.get("PILOTWATCH_CONFIG")
    os.environ["PILOTWATCH_CONFIG"] = str(directory)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PILOTWATCH_CONFIG", None)
        else:
            os.environ["PILOTWATCH_CONFIG"] = old


def broken_copy(dest: Path, break_source: str | None = None) -> Path:
    """Copy config/ to dest/config with file paths made absolute; break one source's path.

    Returns the new configuration directory. Snapshots then go to dest/data/.snapshots, so
    the broken source has no last good data to fall back on.
    """
    target = dest / "config"
    shutil.copytree(ROOT / "config", target)
    path = target / "sources.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    chosen = None
    for source in doc.get("sources", []):
        settings = source.get("settings", {})
        if isinstance(settings.get("path"), str):
            settings["path"] = _absolute(settings["path"])
        url = settings.get("url")
        if isinstance(url, str) and "sqlite:///" in url and "sqlite:////" not in url:
            settings["url"] = url.replace("sqlite:///", f"sqlite:///{ROOT}/")
        if isinstance(settings.get("paths"), dict):
            settings["paths"] = {t: _absolute(p) for t, p in settings["paths"].items()}
        candidate = source.get("type") == "file" and source.get("enabled", True)
        if chosen is None and candidate and break_source in (None, source["name"]):
            chosen = source["name"]
            if "path" in settings:
                settings["path"] = str(dest / "missing" / "nothing.csv")
            else:
                settings["paths"] = {
                    t: str(dest / "missing" / f"{t}.csv") for t in settings["paths"]
                }
    assert chosen is not None, "no file source to break"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    (dest / "broken_source.txt").write_text(chosen)
    return target


def _absolute(pattern: str) -> str:
    return pattern if os.path.isabs(pattern) else str(ROOT / pattern)


# Every download_button payload, by the file id in its URL (AppTest's media storage is per run).
MEDIA: dict[str, bytes] = {}
_load_and_get_id = MemoryMediaFileStorage.load_and_get_id


def _recording_load(self: MemoryMediaFileStorage, path_or_data: Any, *args: Any, **kw: Any) -> str:
    file_id = _load_and_get_id(self, path_or_data, *args, **kw)
    if isinstance(path_or_data, bytes):
        MEDIA[file_id] = path_or_data
    return file_id


MemoryMediaFileStorage.load_and_get_id = _recording_load  # type: ignore[method-assign]

# A download button whose `data` is a callable registers it (rendered only when clicked).
DEFERRED: dict[str, Any] = {}
_add_deferred = MediaFileManager.add_deferred


def _recording_add_deferred(
    self: MediaFileManager, data_callable: Any, *args: Any, **kw: Any
) -> str:
    file_id = _add_deferred(self, data_callable, *args, **kw)
    DEFERRED[file_id] = data_callable
    return file_id


MediaFileManager.add_deferred = _recording_add_deferred  # type: ignore[method-assign]


def download(at: AppTest, key: str) -> bytes:
    """The bytes a download button serves (a deferred button's callable is called, as a click
    in the browser would)."""
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}"))
    if button.proto.deferred_file_id:
        data = DEFERRED[button.proto.deferred_file_id]()
        return data.encode() if isinstance(data, str) else bytes(data)
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".", 1)[0]
    return MEDIA[file_id]


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~$])")


def unescape(text: Any) -> Any:
    """Markdown text as it reads on screen: `ui.formats.plain` escapes undone, no-break
    spaces and hyphens (which keep short cells on one line) read as plain ones."""
    if not isinstance(text, str):
        return text
    return _MD_ESCAPE.sub(r"\1", text).replace("\u00a0", " ").replace("\u2011", "-")


def _tables(at: AppTest) -> list[pd.DataFrame]:
    """Every table on the page: dataframes first, then the static (Markdown) tables as read."""
    static = [
        t.value.rename(columns=unescape).map(unescape)  # headers and cells as displayed
        for t in at.table
    ]
    return [e.value for e in at.dataframe] + static


def frame(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page (st.dataframe, then st.table) that has all `columns`."""
    for value in _tables(at):
        if all(c in value.columns for c in columns):
            return value
    shown = [list(t.columns) for t in _tables(at)]
    raise AssertionError(f"no table with columns {columns}; shown: {shown}")


def texts(elements: Any) -> list[str]:
    """The text of alerts, captions, markdown ... as a list."""
    return [str(e.value) for e in elements]


def charts(at: AppTest) -> list[dict[str, Any]]:
    """The Vega-Lite specs of the page's Altair charts."""
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int) -> list[pl.DataFrame]:
    """The datasets (as Polars frames) behind the index-th chart."""
    element = at.get("vega_lite_chart")[index]
    frames = []
    for dataset in element.proto.datasets:
        table = pa.ipc.open_stream(dataset.data.data).read_all()
        frames.append(pl.from_arrow(table))
    return frames


# An `[auth]` section as `.streamlit/secrets.toml` holds it: set as AppTest's `at.secrets`, it
# makes sign-in required exactly as in production (the provider is never contacted in AppTest).
AUTH = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "pilotwatch",
        "client_secret": "test-client-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}
