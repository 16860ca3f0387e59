"""The router: pages per role, no snapshot yet, a new snapshot swapped in; labels and amounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboards import i18n

from .conftest import APP, metric, no_exception, page
from .snapshot_factory import build_snapshot

PAGES = ["overview", "rules", "thresholds", "cases", "audit", "models", "data_quality"]
VISIBLE = {
    "reviewer": {"overview", "rules", "cases", "data_quality"},
    "lead": set(PAGES),
    "auditor": set(PAGES),
}


@pytest.mark.parametrize("role", ["reviewer", "lead", "auditor"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_every_role_that_may_open_it(
    dashboard_home: Path, role: str, name: str
) -> None:
    if name not in VISIBLE[role]:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            page(f"app_pages/{name}.py", role=role)
        return
    for lang in ("en", "ko") if role == "lead" else ("ko",):
        app = page(f"app_pages/{name}.py", role=role, lang=lang)
        no_exception(app)
        assert app.title[0].value == i18n.label(f"page_{name}", lang)


def test_without_a_snapshot_pages_say_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDWATCH_HOME", str(tmp_path / "empty"))
    app = page("app_pages/overview.py")
    no_exception(app)
    assert "cardwatch run" in app.warning[0].value


def test_a_newly_published_snapshot_is_read_on_the_next_rerun(dashboard_home: Path) -> None:
    app = page("app_pages/data_quality.py")
    assert metric(app, "Failed checks") == "2"
    published = dashboard_home / "published" / "snapshot.duckdb"
    fresh = published.with_name(".snapshot.duckdb.tmp")
    build_snapshot(fresh, with_ml=False)
    import duckdb

    connection = duckdb.connect(str(fresh))
    connection.execute("update raw._load_log set status = 'loaded' where status = 'rejected'")
    connection.close()
    os.replace(fresh, published)
    app.run()
    no_exception(app)
    assert metric(app, "Failed checks") == "1"


def test_won_amounts_and_percentages() -> None:
    assert i18n.krw(1234567.4, "ko") == "1,234,567원"
    assert i18n.krw(1234567.5, "en") == "₩1,234,568"
    assert i18n.krw(-30000, "ko") == "-30,000원"
    assert i18n.krw(None) == "-"
    assert i18n.number(12345.678, 1) == "12,345.7"
    assert i18n.percent(0.1234) == "12.3%"


def test_every_label_has_both_languages() -> None:
    for table in (
        i18n.LABELS,
        i18n.COLUMNS,
        i18n.STATUS_LABELS,
        i18n.DECISION_LABELS,
        i18n.EXPLANATION_LABELS,
        i18n.ROLE_LABELS,
    ):
        for key, (english, korean) in table.items():
            assert english and korean, key


def test_the_router_is_the_app_entry_point() -> None:
    assert APP.name == "streamlit_app.py" and APP.exists()
