"""A private CARDWATCH_HOME with a small snapshot and case store, and a helper to render one page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from orchestration.cases import CaseStore

from .snapshot_factory import build_case_store, build_snapshot

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def dashboard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$CARDWATCH_HOME with a snapshot that has every table, including the model outputs."""
    home = tmp_path / "cardwatch"
    build_snapshot(home / "published" / "snapshot.duckdb", with_ml=True)
    build_case_store(f"sqlite:///{home / 'cases.sqlite'}", home / "published" / "snapshot.duckdb").dispose()
    monkeypatch.setenv("CARDWATCH_HOME", str(home))
    monkeypatch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
    monkeypatch.delenv("CARDWATCH_PSEUDONYM_KEY", raising=False)
    _clear_caches()
    yield home
    _clear_caches()


@pytest.fixture
def bare_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$CARDWATCH_HOME whose snapshot has no model outputs yet, and an empty case store."""
    home = tmp_path / "bare"
    build_snapshot(home / "published" / "snapshot.duckdb", with_ml=False)
    monkeypatch.setenv("CARDWATCH_HOME", str(home))
    monkeypatch.delenv("CARDWATCH_CASE_STORE_URL", raising=False)
    _clear_caches()
    yield home
    _clear_caches()


def sql(home: Path, query: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Read the test snapshot directly, to compute the figures a page must show."""
    connection = duckdb.connect(str(home / "published" / "snapshot.duckdb"), read_only=True)
    try:
        return connection.execute(query, params or []).df()
    finally:
        connection.close()


def store(home: Path) -> CaseStore:
    return CaseStore(f"sqlite:///{home / 'cases.sqlite'}")


def page(path: str, *, role: str = "lead", lang: str = "en", **state: Any) -> AppTest:
    """An AppTest of the router switched to `path`, as `role`, in `lang`, run once."""
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["lang"] = lang
    app.session_state["role"] = role
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    app.switch_page(path)
    return app.run()


def metric(app: AppTest, label: str) -> str:
    """The value of the metric with this label (exactly one must exist)."""
    found = [element.value for element in app.metric if element.label == label]
    assert len(found) == 1, f"metric {label!r}: {[element.label for element in app.metric]}"
    return found[0]


def no_exception(app: AppTest) -> None:
    assert not app.exception, [element.message for element in app.exception]
