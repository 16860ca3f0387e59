"""Arrow's CSV reader, the one-pass csv parse and the exact record-by-record parse give the same
records and the same typed rows on bad input; ``_extra`` is what ``json.dumps`` writes row by row."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.contract import load_contract
from orchestration.ingest import reader
from orchestration.ingest.load import ingest
from orchestration.ingest.mapping import MisalignedRepair, default_mapping
from orchestration.ingest.reader import PY_WHITESPACE, FileError, RawFile, read_file, strip
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
    # every physical line after the header is a blank line or in the text of the record on its line
    physical = _physical_lines(data, exact.encoding)
    header_line = next(i for i, line in enumerate(physical) if line.strip()) + 1
    texts = _records(auto)[2]
    assert auto.lines == sorted(set(auto.lines)) and all(line > header_line for line in auto.lines)
    for line, text in zip(auto.lines, texts, strict=True):
        assert physical[line - 1 : line - 1 + len(text.splitlines())] == text.splitlines()
    assert header_line + sum(len(text.splitlines()) for text in texts) + auto.blank_lines == len(physical)


def _physical_lines(data: bytes, encoding: str) -> list[str]:
    """The file's lines as the reader numbers them: split once decoded, or split then decoded line by
    line (bad bytes escaped) when the whole file does not decode."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        return data.decode(codec).splitlines()
    except UnicodeDecodeError:
        return [line.decode(codec, errors="backslashreplace") for line in data.splitlines()]


@pytest.fixture
def field_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The csv module's field size limit, and the reader's copy of it, lowered to 20 characters."""
    original = csv.field_size_limit()
    monkeypatch.setattr(reader, "CSV_FIELD_LIMIT", 20)
    csv.field_size_limit(20)
    yield 20
    csv.field_size_limit(original)


def test_a_field_over_the_csv_limit_is_unparseable_on_every_path(tmp_path: Path, field_limit: int) -> None:
    at_limit, over = "x" * field_limit, "y" * (field_limit + 1)
    path = tmp_path / "long.csv"
    path.write_text("\n".join([HEADER, row("a", at_limit), row("c")]) + "\n", encoding="utf-8")
    auto, exact = read_file(path), read_file(path, parse="exact")
    assert auto.parsed_by == "arrow" and _records(auto) == _records(exact)
    path.write_text(
        "\n".join([HEADER, row("a", at_limit), row("b", over), row("c")]) + "\n", encoding="utf-8"
    )
    auto, one_pass, exact = (read_file(path, parse=parse) for parse in ("auto", "csv", "exact"))
    assert auto.parsed_by == "exact" and _records(auto) == _records(one_pass) == _records(exact)
    assert auto.problems == {1: f"unparseable: field larger than field limit ({field_limit})"}
    path.write_text("\n".join([HEADER + "," + over, row("a") + ",z"]) + "\n", encoding="utf-8")
    for parse in ("auto", "csv", "exact"):
        with pytest.raises(FileError, match="cannot parse the header line"):
            read_file(path, parse=parse)


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


def test_a_misaligned_rows_cells_join_its_extra_as_a_dict_update(tmp_path: Path) -> None:
    repair = MisalignedRepair(
        column="merchant_category", expect="[가-힣]+", blank=("merchant_name",), reason=""
    )
    mapping = dataclasses.replace(MAPPING, misaligned_rows=(repair,))
    path = tmp_path / "a.csv"
    lines = [HEADER + ",_misaligned_merchant_name,memo"]
    lines += [
        row("ok") + ",,m1",
        row("bad1").replace("한식", "x") + ",kept,",
        row("bad2").replace("한식", "y") + ",,m",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = transform(read_file(path), mapping).frame.set_index("transaction_id")["_extra"]
    # the header's cells first, then the row's original cells, a repeated key keeping its first place
    assert extra["ok"] == json.dumps({"memo": "m1"})
    assert extra["bad1"] == json.dumps({"_misaligned_merchant_name": "한우마을"}, ensure_ascii=False)
    assert extra["bad2"] == json.dumps(
        {"memo": "m", "_misaligned_merchant_name": "한우마을"}, ensure_ascii=False
    )
