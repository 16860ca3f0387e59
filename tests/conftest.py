"""Shared fixtures. Tests write only under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a one-line reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"external data not available: {path} (../shared is absent on a fresh clone)")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private CARDWATCH_HOME for one test."""
    state = tmp_path / "cardwatch"
    monkeypatch.setenv("CARDWATCH_HOME", str(state))
    monkeypatch.delenv("CARDWATCH_WAREHOUSE", raising=False)
    monkeypatch.delenv("CARDWATCH_LANDING", raising=False)
    return state
