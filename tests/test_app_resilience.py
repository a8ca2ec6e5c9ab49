"""The dashboard keeps working when things break: a failing source gives a banner (and every
page still renders, with the numbers `pilotwatch report` gives for the same inputs), a bad
configuration lists its errors, and missing data shows empty states that say what to add."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from app_helpers import (
    ROOT,
    broken_copy,
    config_env,
    ensure_demo,
    frame,
    new_app,
    open_page,
    texts,
)

from core.models import Source
from pilotwatch import engine
from pilotwatch.config import load_config
from ui import formats as fm
from ui import loaders

PAGES = (
    "portfolio",
    "initiative",
    "slos",
    "delivery",
    "outcomes",
    "compliance",
    "steering",
    "data_sources",
)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ensure_demo()
    dest = tmp_path_factory.mktemp("broken")
    config = broken_copy(dest, break_source="demo-deployments")
    return config, (dest / "broken_source.txt").read_text()


def test_a_broken_source_gives_a_banner_on_every_page(broken: tuple[Path, str]) -> None:
    config, name = broken
    expected = engine.run(config).report.to_jsonable()
    with config_env(config):
        at = new_app()
        at.run()
        for page in PAGES:
            open_page(at, page)
            assert not at.exception, (page, [e.value for e in at.exception])
            warnings = texts(at.warning)
            assert any(fm.plain(name) in w and "failed to load" in w for w in warnings), page
            assert at.title, page
        # the rest of the app carries on with the numbers of `pilotwatch report`
        open_page(at, "portfolio")
        table = frame(at, "id", "score", "verdict")
        for row in table.to_dict("records"):
            item = next(i for i in expected["initiatives"] if i["id"] == row["id"])
            score = item["readiness"]["score"]
            assert math.isnan(row["score"]) if score is None else row["score"] == score, row
        open_page(at, "data_sources")
        sources = frame(at, "source", "load", "last error")
        failed = sources[sources["source"] == name].iloc[0]
        assert failed["load"] == "❌ failed"
        assert "not found" in failed["last error"] or "no file" in failed["last error"]
        assert set(sources[sources["source"] != name]["load"]) == {"✅ loaded"}


def test_a_configuration_error_is_listed_not_raised(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    path = config / "initiatives.yaml"
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["initiatives"][0]["stage"] = "almost_done"
    doc["initiatives"][1]["owner_name"] = "typo"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with config_env(config):
        at = new_app()
        at.run()
    assert not at.exception
    assert any("configuration has errors" in e for e in texts(at.error))
    listed = " ".join(str(code.value) for code in at.code)
    assert "initiatives.yaml" in listed and "owner_name" in listed and "stage" in listed


def test_no_sources_shows_empty_states(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    with config_env(config):
        at = new_app()
        at.run()
        for page in PAGES:
            open_page(at, page)
            assert not at.exception, (page, [e.value for e in at.exception])
        open_page(at, "data_sources")
        assert any("No data sources configured" in i for i in texts(at.info))
        open_page(at, "outcomes")
        at.selectbox(key="initiative").set_value("sepsis-ews").run()
        assert any("No KPI observations" in i for i in texts(at.info))
        open_page(at, "slos")
        assert any("No events in the" in i for i in texts(at.info))


def test_filters_that_match_nothing_say_so() -> None:
    ensure_demo()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(loaders.CONFIG_ENV, raising=False)
        at = new_app()
        at.run()
        at.multiselect(key="f_stage").set_value(["discovery"]).run()
        at.multiselect(key="f_verdict").set_value(["no_go"]).run()
        for page in PAGES[:-1]:
            open_page(at, page)
            assert not at.exception, page
            assert any("No initiative matches the sidebar filters" in i for i in texts(at.info))


def test_fingerprints_follow_config_and_data_changes(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    data = tmp_path / "data"
    data.mkdir()
    (data / "deployments.csv").write_text("deploy_id,initiative\n", encoding="utf-8")
    (config / "sources.yaml").write_text(
        "sources:\n"
        "  - {name: d, type: file, tables: [deployments], settings: {path: data/*.csv}}\n",
        encoding="utf-8",
    )
    before = loaders.config_fingerprint(config)
    loaded = load_config(config)
    data_before = loaders.data_fingerprint(loaded)
    assert loaders.data_fingerprint(loaded) == data_before  # stable
    (data / "more.csv").write_text("deploy_id,initiative\n", encoding="utf-8")
    assert loaders.data_fingerprint(loaded) != data_before  # a new file matches the glob
    assert loaders.data_fingerprint(loaded, nonce=1) != loaders.data_fingerprint(
        loaded
    )  # "Reload data"
    (config / "settings.yaml").write_text("settings: {}\n", encoding="utf-8")
    assert loaders.config_fingerprint(config) != before
    # a database server cannot be fingerprinted by file stats: re-read every few minutes
    server = Source(
        name="s", type="sql", tables=["incidents"], settings={"url": "postgresql://h/db"}
    )
    live = loaded.model_copy(update={"sources": [server]})
    ttl = loaders.LIVE_SOURCE_TTL_SECONDS
    assert loaders.data_fingerprint(live, now=10) == loaders.data_fingerprint(live, now=ttl - 1)
    assert loaders.data_fingerprint(live, now=10) != loaders.data_fingerprint(live, now=ttl + 1)
