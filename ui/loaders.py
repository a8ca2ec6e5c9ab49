"""Cached loaders: the configuration, the sources and the computed report, keyed on fingerprints.

Thin `st.cache_resource` wrappers: loading and computing are the engine's (pilotwatch/engine.py),
the same path `pilotwatch report` takes, so the app shows exactly what the CLI writes. What one
identity sees is cut by pilotwatch/access.py; every restricted result is keyed on the identity's
scope (`Identity.scope_key`), so two sessions with different scopes never share one.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import threading
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from connectors.base import SourceHealth
from core.report import Report
from metrics.portfolio import Portfolio
from pilotwatch.access import Identity, compute_visible, restrict, restrict_data
from pilotwatch.config import Config, load_config
from pilotwatch.engine import default_as_of, snapshot_dir
from pilotwatch.history import compute_visible_history, history_frame
from pilotwatch.sources import LoadedData, load_sources

ROOT = Path(__file__).resolve().parent.parent
CONFIG_ENV = "PILOTWATCH_CONFIG"
# Non-file sources (SQL) cannot be fingerprinted by file stats: re-read them this often.
LIVE_SOURCE_TTL_SECONDS = 300


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


@st.cache_resource(max_entries=4, show_spinner=False)
def load_config_cached(directory: str, config_fp: str, _secrets: Mapping[str, str]) -> Config:
    """The validated configuration (keyed on the directory and its fingerprint)."""
    return load_config(directory, secrets=_secrets)


@dataclass
class _DataSlot:
    """One (config, data) fingerprint's loaded data, filled outside the cached function.

    The progress box (ui/context.py) is a Streamlit element; a cached function must not touch
    elements created outside it (Streamlit would record and replay the calls), so the cache
    only holds this slot and the load runs in the caller, once, under the slot's lock.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    data: LoadedData | None = None


@st.cache_resource(max_entries=2, show_spinner=False)
def _data_slot(directory: str, config_fp: str, data_fp: str) -> _DataSlot:
    return _DataSlot()


def load_data_cached(
    directory: str,
    config_fp: str,
    data_fp: str,
    _config: Config,
    _on_progress: Callable[[str, int, int], None] | None = None,
) -> LoadedData:
    """Every source loaded once per (config, data) fingerprint; never raises for a source."""
    slot = _data_slot(directory, config_fp, data_fp)
    with slot.lock:  # a second session waits for the first one's load instead of repeating it
        if slot.data is None:
            slot.data = _load_all(_config, _on_progress)
        return slot.data


def _load_all(config: Config, on_progress: Callable[[str, int, int], None] | None) -> LoadedData:
    try:
        return load_sources(
            config,
            snapshot_dir(config),
            until=default_as_of(config),
            on_progress=on_progress,
        )
    except Exception as exc:  # a loader bug must not blank the dashboard
        health = SourceHealth(
            source="(all sources)",
            type="loader",
            tables=(),
            ok=False,
            last_error=f"{type(exc).__name__}: {exc}",
        )
        return LoadedData(tables={}, health=[health])


@st.cache_resource(max_entries=16, show_spinner=False)
def visible_config(config_fp: str, scope_key: str, _config: Config, _identity: Identity) -> Config:
    """The configuration cut to one scope's initiatives, SLOs and waivers."""
    return restrict(_config, _identity)


@st.cache_resource(max_entries=8, show_spinner=False)
def visible_data_cached(
    config_fp: str,
    data_fp: str,
    scope_key: str,
    _config: Config,
    _data: LoadedData,
    _identity: Identity,
) -> LoadedData:
    """The loaded data as one scope may browse it (raw rows of other initiatives dropped)."""
    return restrict_data(_config, _data, _identity)


@st.cache_resource(max_entries=8, show_spinner="Computing metrics…")
def compute_cached(
    directory: str,
    config_fp: str,
    data_fp: str,
    as_of_iso: str,
    scope_key: str,
    _config: Config,
    _data: LoadedData,
    _identity: Identity,
) -> tuple[Portfolio, Report]:
    """The Portfolio and report of one scope as of one instant: `pilotwatch report` for it.

    `_config` and `_data` are the full ones: the visible initiatives' numbers are computed over
    all the data, exactly as for an identity that sees everything.
    """
    return compute_visible(_config, _data, datetime.fromisoformat(as_of_iso), _identity)


@st.cache_data(max_entries=8, show_spinner=False)
def history_cached(
    directory: str,
    config_fp: str,
    data_fp: str,
    instants_iso: tuple[str, ...],
    scope_key: str,
    _config: Config,
    _data: LoadedData,
    _identity: Identity,
) -> pl.DataFrame:
    """One scope's readiness history at `instants_iso`: `pilotwatch history` for it.

    Keyed like `compute_cached`, plus the instants; one row per (as-of, visible initiative),
    the numbers of a single report at each instant (pilotwatch/history.py).
    """
    instants = [datetime.fromisoformat(text) for text in instants_iso]
    return history_frame(compute_visible_history(_config, _data, instants, _identity))
