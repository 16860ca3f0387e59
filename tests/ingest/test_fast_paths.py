"""Arrow's CSV reader, the one-pass csv parse and the exact record-by-record parse give the same
records and the same typed rows on bad input; ``_extra`` is what ``json.dumps`` writes row by row."""

from __future__ import annotations

import gzip
import json
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.contract import load_contract
from orchestration.ingest.load import ingest
from orchestration.ingest.mapping import default_mapping
from orchestration.ingest.reader import PY_WHITESPACE, RawFile, read_file, strip
from orchestration.ingest.transform import transform

MAPPING = default_mapping(load_contract()["card_transactions"])
HEADER = "transaction_id,card_id,employee_id,transacted_at,amount,merchant_name,merchant_category,status"


def row(tid: str, name: str = "한우마을", amount: str = "12000") -> str:
    return f"{tid},C1,E1,2025-03-02 12:00:00,{amount},{name},한식,approved"


CASES: dict[str, tuple[bytes, str]] = {
    "plain.csv": (("\n".join([HEADER, row("a"), row("b")]) + "\n").encode(), "arrow"),
    "plain_crlf_no_final_newline.csv": ("\r\n".join([HEADER, row("a"), row(" b ", " x\u3000")]).encode(), "arrow"),
    "plain_tabs_cp949.tsv": (("\n".join([HEADER, row("a")]).replace(",", "\t") + "\n").encode("cp949"), "arrow"),
    "spaces_unit_separator.csv": (("\n".join([HEADER, row("a", "\x1f\xa0name\u2003")]) + "\n").encode(), "arrow"),
    "leading_blank_lines.csv": (("\n \r\n\t\n" + "\n".join([HEADER, row("a"), row("b")])).encode(), "arrow"),
    "header_only_no_newline.csv": (HEADER.encode(), "fast"),
    "lone_cr.csv": (("\r".join([HEADER, row("a"), row("b")]) + "\r").encode(), "fast"),
    "wide_and_short_rows.csv": (("\n".join([HEADER + ",", row("a") + ",", row("b") + ",,", row("c")]) + "\n").encode(), "fast"),
    "crlf_bom_blank.csv": (("\ufeff" + "\r\n".join([HEADER, "", row("a"), "  ", row("b") + ",", ",,,"])).encode(), "fast"),
    "cp949.csv": (("\n".join([HEADER, row("k1")]) + "\n").encode("cp949"), "arrow"),
    "truncated.csv": ("\n".join([HEADER, row("t1"), row("t2")[:25]]).encode(), "fast"),
    "mixed.csv": (("\n".join([HEADER, row("m1"), row("m2").replace(",", ";")]) + "\n").encode(), "fast"),
    "header_only.csv": ((HEADER + "\n").encode(), "fast"),
    "quoted.csv": (("\n".join([HEADER, row("q1", '"a ""b"", c"'), row("q2", '"1,234"')]) + "\n").encode(), "fast"),
    "odd_breaks.csv": (("\n".join([HEADER, row("x1", "a\x85b"), row("x2", "c\u2028d"), row("x3", "\x1ce")]) + "\n").encode(), "fast"),
    "multiline.csv": (("\n".join([HEADER, row("n1", '"two\nlines"'), row("n2")]) + "\n").encode(), "exact"),
    "broken_quote.csv": (("\n".join([HEADER, row("b1"), row("b2", '"ab"c'), row("b3"), row("b4", '"open')]) + "\n").encode(), "exact"),
    "broken_utf8.csv": (
        ("\n".join([HEADER, row("u1")]) + "\n").encode() + row("u2").encode().replace("한우".encode(), b"\xff\xfe") + b"\n" + row("u3").encode(),
        "fast",
    ),
    "broken_utf8_multiline.csv": (
        ("\n".join([HEADER, row("v1", '"x\ny"')]) + "\n").encode() + b"v2,\xc3\x28\n\n" + row("v3").encode() + b"\n",
        "exact",
    ),
}  # fmt: skip


def _records(raw: RawFile) -> tuple:
    """What a read gives, the same way for every path (cells stripped, as they are used)."""
    if raw.columns is not None:
        cells = [list(row) for row in zip(*(c.to_pylist() for c in raw.columns), strict=True)]
    else:
        cells = [None if row is None else [c.strip() for c in row] for row in raw.cells]
    texts = raw.texts if isinstance(raw.texts, list) else raw.texts.to_pylist()
    return (
        raw.header,
        list(raw.lines),
        texts,
        cells,
        raw.problems,
        raw.blank_lines,
        raw.encoding,
        raw.separator,
    )


def _typed(raw: RawFile) -> tuple:
    shaped = transform(raw, MAPPING)
    rejected = [(r.line, r.kind, r.reason, r.text) for r in shaped.rejected]
    return shaped.frame, rejected


@pytest.mark.parametrize("name", sorted(CASES))
def test_arrow_csv_and_exact_paths_agree(tmp_path: Path, name: str) -> None:
    data, expected_path = CASES[name]
    path = tmp_path / (name + ".gz")
    path.write_bytes(gzip.compress(data))
    auto, one_pass, exact = (read_file(path, parse=parse) for parse in ("auto", "csv", "exact"))
    assert (auto.parsed_by, one_pass.parsed_by, exact.parsed_by) == (
        expected_path,
        "exact" if expected_path == "exact" else "fast",
        "exact",
    )
    assert _records(auto) == _records(one_pass) == _records(exact)
    if auto.row_count:
        frames = [_typed(raw) for raw in (auto, one_pass, exact)]
        for frame, rejected in frames[1:]:
            pd.testing.assert_frame_equal(frame, frames[0][0])
            assert rejected == frames[0][1]
    # every physical line after the header is a record, a blank line or inside a multi-line record
    assert all(0 < a < b for a, b in zip(auto.lines, auto.lines[1:], strict=False))


def test_arrow_strips_what_python_strips() -> None:
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    assert "".join(c for c in everything if c.isspace()) == PY_WHITESPACE
    cells = [" a ", "\x1fb\u3000", "\u200bc\u200b", "\xa0\x85d\t"]
    assert strip(pa.array(cells)).to_pylist() == [c.strip() for c in cells]


def test_extra_columns_are_json_as_json_dumps_writes_them(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "card_transactions"
    folder.mkdir(parents=True)
    memos = ['"q""uote"', "back\\slash", '"tab\tand\x01ctl"', "한글", '"<\u2028>"', ""]
    lines = [HEADER + ",memo,note"] + [row(f"t{i}") + f",{memo},n{i}" for i, memo in enumerate(memos)]
    (folder / "a.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "b.csv").write_text(
        "\n".join([HEADER + ",memo,memo", row("r1") + ",first,second", row("r2") + ",,only"]) + "\n",
        encoding="utf-8",
    )
    ingest(tmp_path / "landing", tmp_path / "w.duckdb", now=datetime(2026, 1, 1))
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    extra = dict(con.execute("SELECT transaction_id, _extra FROM raw.card_transactions").fetchall())
    values = ['q"uote', "back\\slash", "tab\tand\x01ctl", "한글", "<\u2028>", ""]
    for i, memo in enumerate(values):
        expected = {"memo": memo, "note": f"n{i}"} if memo else {"note": f"n{i}"}
        assert extra[f"t{i}"] == json.dumps(expected, ensure_ascii=False)
    # a repeated header name keeps its first place and its last non-empty value, as a dict does
    assert extra["r1"] == json.dumps({"memo": "second"}, ensure_ascii=False)
    assert extra["r2"] == json.dumps({"memo": "only"}, ensure_ascii=False)
