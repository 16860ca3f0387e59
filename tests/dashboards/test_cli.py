"""`cardwatch dashboard`: the streamlit command line, the address printed, CARDWATCH_HOME passed on."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dashboards import cli


def test_dashboard_runs_streamlit_on_localhost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        calls.append({"command": command, **options})
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(cli.subprocess, "run", fake_run)
    result = CliRunner().invoke(cli.dashboard, ["--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8501" in result.output
    command = calls[0]["command"]
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("dashboards/streamlit_app.py")
    for flag, value in (
        ("--server.address", "127.0.0.1"),
        ("--server.port", "8501"),
        ("--server.headless", "true"),
    ):
        assert command[command.index(flag) + 1] == value
    assert calls[0]["env"]["CARDWATCH_HOME"] == str((tmp_path / "home").resolve())
