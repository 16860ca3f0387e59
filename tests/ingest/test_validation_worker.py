"""Validation in the worker process quarantines exactly what inline validation does, and survives its death."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest import validation
from orchestration.ingest.expectations import failing_rows
from orchestration.ingest.load import ingest
from tests.ingest.test_bad_input import HEADER, NOW, row, write

LINES = [
    HEADER,
    row("ok1"),
    row("neg", amount="-5000"),
    row("zero", amount="0"),
    row("future", when="2026-06-01 10:00:00"),
    row("refund", amount="-3000", status="refund"),
    row("bad_status", status="maybe"),
]


def _landing(root: Path) -> Path:
    write(root / "landing", "card_transactions", "a.csv", "\n".join(LINES[:4]) + "\n")
    write(root / "landing", "card_transactions", "b.csv", "\n".join([HEADER, *LINES[4:]]) + "\n")
    write(root / "landing", "employees", "e.csv", "employee_id,department\nE1,영업\n")
    return root / "landing"


def _load(root: Path, worker: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    monkeypatch.setattr(validation, "in_worker", lambda: worker)
    report = ingest(_landing(root), root / "w.duckdb", now=NOW)
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        quarantined = con.execute(
            "SELECT source, parse_filename(file), line, reason FROM raw._quarantine ORDER BY ALL"
        ).fetchall()
        accepted = con.execute("SELECT transaction_id FROM raw.card_transactions ORDER BY 1").fetchall()
    finally:
        con.close()
    files = [
        (f.source, Path(f.file).name, f.status, f.rows_accepted, f.rows_quarantined) for f in report.files
    ]
    return files + accepted, quarantined


def test_the_worker_quarantines_what_inline_validation_does(tmp_path: Path, monkeypatch) -> None:
    in_worker, worker_quarantine = _load(tmp_path / "worker", True, monkeypatch)
    inline, inline_quarantine = _load(tmp_path / "inline", False, monkeypatch)

    assert in_worker == inline
    assert worker_quarantine == inline_quarantine
    reasons = " ".join(r[3] for r in worker_quarantine)
    assert "negative amount" in reasons and "zero amount" in reasons and "status not in" in reasons
    assert [r[1] for r in worker_quarantine].count("b.csv") == 2  # failures land in the file they came from


def test_a_dead_worker_falls_back_to_inline_validation(tmp_path: Path, monkeypatch, caplog) -> None:
    from orchestration.contract import load_contract
    from orchestration.ingest.mapping import default_mapping
    from orchestration.ingest.reader import read_file
    from orchestration.ingest.transform import rows_to_validate, transform

    monkeypatch.setattr(validation, "in_worker", lambda: True)
    path = _landing(tmp_path) / "card_transactions" / "b.csv"
    shaped = transform(read_file(path, "utf-8", ","), default_mapping(load_contract()["card_transactions"]))
    frame = rows_to_validate([shaped])
    expected = failing_rows("card_transactions", frame, NOW)
    assert expected  # the unknown status fails

    pool = validation._pool()
    assert pool.submit(os.getpid).result() != os.getpid()  # the worker is up, in its own process
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)

    with caplog.at_level("WARNING", logger="orchestration.ingest.validation"):
        assert validation.Validation("card_transactions", frame, NOW).result() == expected
    assert "validation worker stopped; validating card_transactions in this process" in caplog.text
    assert validation.Validation("card_transactions", frame, NOW).result() == expected  # a new worker
