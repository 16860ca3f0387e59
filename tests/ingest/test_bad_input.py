"""Bad input gets a clear answer and loses nothing: every row accepted, quarantined or set aside."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.ingest.load import IngestReport, ingest
from orchestration.ingest.reader import FileError

NOW = datetime(2026, 1, 1)
HEADER = "transaction_id,card_id,employee_id,transacted_at,amount,merchant_name,merchant_category,status"


def row(
    tid: str, when: str = "2025-03-02 12:00:00", amount: str = "12000", status: str = "approved", emp="E1"
):
    return f"{tid},C1,{emp},{when},{amount},한우마을,한식,{status}"


def write(landing: Path, source: str, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    folder = landing / source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = text if isinstance(text, bytes) else text.encode(encoding)
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def run(tmp_path: Path) -> tuple[IngestReport, duckdb.DuckDBPyConnection]:
    warehouse = tmp_path / "w.duckdb"
    report = ingest(tmp_path / "landing", warehouse, now=NOW)
    for item in report.files:
        assert item.reconciles, item
    return report, duckdb.connect(str(warehouse))


def quarantine(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("SELECT line, reason FROM raw._quarantine WHERE kind = 'quarantined'").fetchall())


def accepted_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT transaction_id FROM raw.card_transactions ORDER BY 1").fetchall()
    ]


def test_row_level_problems_are_quarantined_with_reasons(tmp_path: Path) -> None:
    lines = [
        HEADER,
        row("ok1"),
        row("bad_type", amount="12k?"),
        row("neg", amount="-5000"),
        row("zero", amount="0"),
        row("future", when="2026-06-01 10:00:00"),
        row("refund", amount="-3000", status="refund"),
        row("bad_date", when="yesterday"),
        row("bad_status", status="maybe"),
    ]
    write(tmp_path / "landing", "card_transactions", "a.csv", "\n".join(lines) + "\n")
    report, con = run(tmp_path)
    reasons = quarantine(con)
    assert accepted_ids(con) == ["ok1", "refund"]
    assert "amount" in reasons[3] and "not a valid decimal" in reasons[3]
    assert "negative amount on an approved purchase" in reasons[4]
    assert "zero amount" in reasons[5]
    assert "in the future" in reasons[6]
    assert "transacted_at" in reasons[8]
    assert "status not in" in reasons[9]
    assert report.files[0].rows_read == 8


def test_missing_required_column_rejects_the_file_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "landing", "card_transactions", "a.csv", "transaction_id,card_id,amount\nt1,C1,100\n")
    report, con = run(tmp_path)
    [item] = report.errors
    assert "a.csv" in item.message and "transacted_at" in item.message
    assert "\n" not in item.message
    assert con.execute("SELECT count(*) FROM raw.card_transactions").fetchall()[0][0] == 0
    assert con.execute("SELECT status FROM raw._load_log").fetchall() == [("rejected",)]


def test_unknown_extra_columns_are_kept_not_lost(tmp_path: Path) -> None:
    write(tmp_path / "landing", "card_transactions", "a.csv", HEADER + ",memo\n" + row("t1") + ",note here\n")
    report, con = run(tmp_path)
    assert "memo" in report.files[0].message
    assert con.execute("SELECT _extra FROM raw.card_transactions").fetchall() == [('{"memo": "note here"}',)]


def test_duplicates_within_and_across_files(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(landing, "card_transactions", "a.csv", "\n".join([HEADER, row("t1"), row("t2"), row("t1")]) + "\n")
    write(landing, "card_transactions", "b.csv", "\n".join([HEADER, row("t2"), row("t3")]) + "\n")
    _, con = run(tmp_path)
    assert accepted_ids(con) == ["t1", "t2", "t3"]
    reasons = [r[0] for r in con.execute("SELECT reason FROM raw._quarantine ORDER BY file, line").fetchall()]
    assert reasons[0].startswith("duplicate transaction_id 't1' (first at line 2")
    assert reasons[1].startswith("duplicate transaction_id 't2' (already loaded from a.csv line 3")


def test_dates_before_hire_are_quarantined(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(landing, "employees", "e.csv", "employee_id,department,hire_date\nE1,sales,2025-03-01\n")
    text = "\n".join(
        [HEADER, row("early", when="2025-02-28 23:59:00"), row("ok", when="2025-03-01 08:00:00")]
    )
    write(landing, "card_transactions", "a.csv", text + "\n")
    _, con = run(tmp_path)
    assert accepted_ids(con) == ["ok"]
    assert "before employee E1 was hired (2025-03-01)" in quarantine(con)[2]


def test_cp949_and_broken_encoding(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(landing, "card_transactions", "cp949.csv", "\n".join([HEADER, row("k1")]) + "\n", encoding="cp949")
    good = "\n".join([HEADER, row("u1"), row("u2")]).encode("utf-8") + b"\n"
    broken = good + row("u3").encode("utf-8").replace("한우".encode(), b"\xff\xfe") + b"\n"
    write(landing, "card_transactions", "broken.csv", broken)
    _, con = run(tmp_path)
    names = dict(con.execute("SELECT transaction_id, merchant_name FROM raw.card_transactions").fetchall())
    assert names["k1"] == "한우마을"
    assert {"u1", "u2"} <= set(names) and "u3" not in names
    [(reason, raw_row)] = con.execute("SELECT reason, raw_row FROM raw._quarantine").fetchall()
    assert "not valid utf-8" in reason and "u3" in raw_row


def test_empty_header_only_truncated_and_mixed_separators(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(landing, "card_transactions", "empty.csv", "")
    write(landing, "card_transactions", "header_only.csv", HEADER + "\n")
    write(landing, "card_transactions", "truncated.csv", "\n".join([HEADER, row("t1"), row("t2")[:25]]))
    mixed = "\n".join([HEADER, row("m1"), row("m2").replace(",", ";")]) + "\n"
    write(landing, "card_transactions", "mixed.csv", mixed)
    report, con = run(tmp_path)
    status = {Path(f.file).name: f.status for f in report.files}
    assert status == {
        "empty.csv": "empty",
        "header_only.csv": "empty",
        "truncated.csv": "loaded",
        "mixed.csv": "loaded",
    }
    assert accepted_ids(con) == ["m1", "t1"]
    reasons = dict(con.execute("SELECT file, reason FROM raw._quarantine").fetchall())
    assert "fields, the header has 8" in reasons[str(landing / "card_transactions" / "truncated.csv")]
    assert "fields, the header has 8" in reasons[str(landing / "card_transactions" / "mixed.csv")]


def test_parquet_good_and_wrong_schema(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "card_transactions").mkdir(parents=True)
    good = pd.DataFrame(
        {
            "transaction_id": ["p1", "p2"],
            "card_id": ["C1", "C1"],
            "transacted_at": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 11:00"]),
            "amount": [1000.0, -500.0],
            "status": ["approved", "approved"],
        }
    )
    good.to_parquet(landing / "card_transactions" / "good.parquet")
    pd.DataFrame({"id": [1], "value": [2.0]}).to_parquet(landing / "card_transactions" / "wrong.parquet")
    (landing / "card_transactions" / "garbage.parquet").write_bytes(b"not parquet at all")
    report, con = run(tmp_path)
    assert accepted_ids(con) == ["p1"]
    messages = {Path(f.file).name: f.message for f in report.errors}
    assert "missing required column" in messages["wrong.parquet"]
    assert "not a readable Parquet file" in messages["garbage.parquet"]


def test_parquet_timestamps_keep_their_fraction_of_a_second(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "card_transactions").mkdir(parents=True)
    pd.DataFrame(
        {
            "transaction_id": ["p1", "p2"],
            "card_id": ["C1", "C1"],
            "transacted_at": pd.to_datetime(["2025-01-01 10:00:00.250", "2025-01-01 11:00:00.000"]),
            "amount": [1000.0, 500.0],
        }
    ).to_parquet(landing / "card_transactions" / "fraction.parquet")
    report, con = run(tmp_path)
    assert not report.errors
    stamps = dict(con.execute("SELECT transaction_id, transacted_at FROM raw.card_transactions").fetchall())
    assert stamps == {"p1": datetime(2025, 1, 1, 10, 0, 0, 250000), "p2": datetime(2025, 1, 1, 11, 0)}


def test_reingest_adds_nothing(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(
        landing,
        "card_transactions",
        "a.csv.gz",
        "\n".join([HEADER, row("t1"), row("bad", amount="x")]) + "\n",
    )
    write(landing, "card_transactions", "reject.csv", "nothing,useful\n1,2\n")
    run(tmp_path)[1].close()
    counts = "SELECT (SELECT count(*) FROM raw.card_transactions), (SELECT count(*) FROM raw._quarantine), (SELECT count(*) FROM raw._load_log)"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    before = con.execute(counts).fetchall()
    con.close()
    report, con = run(tmp_path)
    assert con.execute(counts).fetchall() == before
    assert [f.status for f in report.files] == ["already_loaded", "rejected"]


def test_missing_landing_and_required_source_give_one_line(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="does not exist"):
        ingest(tmp_path / "nope", tmp_path / "w.duckdb")
    (tmp_path / "landing" / "employees").mkdir(parents=True)
    with pytest.raises(FileError, match="required source card_transactions"):
        ingest(tmp_path / "landing", tmp_path / "w.duckdb")


def test_a_mapping_separator_of_several_characters_is_one_line_error(tmp_path: Path) -> None:
    from orchestration.ingest.mapping import MappingError, load_mapping_file

    mapping = tmp_path / "export.yml"
    mapping.write_text("sources:\n  card_transactions:\n    separator: '||'\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"separator must be one character") as raised:
        load_mapping_file(mapping)
    assert "\n" not in str(raised.value)
    mapping.write_text("sources:\n  card_transactions:\n    separator: tab\n", encoding="utf-8")
    assert load_mapping_file(mapping)["card_transactions"].separator == "tab"


def test_cli_prints_one_line_error_and_exit_status(tmp_path: Path, home: Path) -> None:
    cardwatch = Path(sys.executable).with_name("cardwatch")
    proc = subprocess.run(
        [str(cardwatch), "ingest", "--landing", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("error:")
    write(tmp_path / "landing", "card_transactions", "a.csv", "\n".join([HEADER, row("t1")]) + "\n")
    ok = subprocess.run(
        [str(cardwatch), "ingest", "--landing", str(tmp_path / "landing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Reconciliation" in ok.stdout


def test_mixed_utc_offsets_in_one_column_load_at_their_wall_time(tmp_path: Path) -> None:
    lines = [
        HEADER,
        row("plus9", when="2025-03-02T10:00:00+09:00"),
        row("naive", when="2025-03-02 11:00:00"),
        row("plus1", when="2025-03-02T12:00:00+01:00"),
        row("bad", when="2025-03-02T25:00:00+01:00"),
    ]
    write(tmp_path / "landing", "card_transactions", "a.csv", "\n".join(lines) + "\n")
    report, con = run(tmp_path)
    hours = "SELECT transaction_id, strftime(transacted_at, '%H') FROM raw.card_transactions"
    times = dict(con.execute(hours).fetchall())
    assert times == {"plus9": "10", "naive": "11", "plus1": "12"}
    assert "transacted_at" in quarantine(con)[5]
    assert report.files[0].rows_read == 4
