"""Read one landing file into a header and records, keeping every physical line accounted for.

CSV (optionally gzipped) in UTF-8 or CP949 (or any encoding a mapping names) and Parquet. A line
that cannot be decoded or parsed becomes a record with a ``problem`` instead of disappearing.

Records are kept column-wise (line numbers, raw texts, cells) rather than as one object per row.
Three ways to parse a CSV, tried in order, all giving the same records:

- ``arrow``: Arrow's CSV reader, for the common file: no quote character, no NUL, lines ending in
  LF or CR LF only; every line after the header one record with the header's number of fields and
  not blank. Anything else falls through.
- ``fast``: the standard ``csv`` module in one pass over all lines, kept when each record is one
  line and none is broken.
- ``exact``: record by record with the exact line tracking of ``_parse``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SEPARATORS = (",", "\t", ";", "|")
AUTO_ENCODINGS = ("utf-8-sig", "cp949")
csv.field_size_limit(10_000_000)
# What str.strip() removes (every character whose isspace() is true), for Arrow's trim, which then
# strips exactly like Python; a test keeps it in step with the running Python.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Characters that make a file's lines differ between Arrow's CSV reader and str.splitlines + csv:
# quotes, NUL, and the line breaks str.splitlines knows beyond \n, \r\n and \r.
NOT_FOR_ARROW = ('"', "\x00", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class FileError(Exception):
    """A file that cannot be read at all; the message is one line naming the file."""


@dataclass
class RawFile:
    """A read file. Records are kept column-wise: record ``i`` starts on physical line
    ``lines[i]`` (the row number for Parquet), its raw text is ``texts[i]`` and its cells are
    ``cells[i]`` (``None`` when it could not be decoded or parsed; ``problems[i]`` says why).
    Parquet files and CSV read by Arrow give ``columns`` instead of ``cells``: the cells by column,
    already stripped, every record full width.
    """

    path: Path
    sha256: str
    header: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    texts: list[str] | pa.Array = field(default_factory=list)
    cells: list[list[str] | None] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)
    columns: list[pa.Array] | None = None
    encoding: str = ""
    separator: str = ""
    blank_lines: int = 0
    is_empty: bool = False
    parsed_by: str = ""  # "arrow", "fast" or "exact" (CSV), "parquet"

    @property
    def row_count(self) -> int:
        return len(self.lines)

    def release(self) -> None:
        """Drop the records once they are typed (a source's files wait together for validation)."""
        self.lines, self.texts, self.cells, self.problems, self.columns = [], [], [], {}, None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


def read_file(path: Path, encoding: str = "auto", separator: str = "auto", parse: str = "auto") -> RawFile:
    """Read a landing file; raise FileError (one line) if it cannot be read at all.

    ``parse`` (tests use it to check that the CSV paths agree): ``auto`` tries Arrow, then the
    one-pass csv, then record by record; ``csv`` skips Arrow; ``exact`` goes record by record.
    """
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise FileError(f"{path}: cannot open: {exc.strerror}") from exc
    if is_parquet(path):
        return _read_parquet(path, sha)
    return _read_csv(path, sha, encoding, separator, parse)


def _read_parquet(path: Path, sha: str) -> RawFile:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0]}") from exc
    raw = RawFile(path=path, sha256=sha, header=list(table.column_names), encoding="parquet")
    raw.parsed_by = "parquet"
    if table.num_rows == 0:
        raw.is_empty = True
        return raw
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("s"))
        text = column.cast(pa.string(), safe=False).to_pylist()
        columns.append(["" if v is None else v for v in text])
    raw.lines = list(range(1, table.num_rows + 1))
    raw.texts = list(map("\t".join, zip(*columns, strict=True)))
    raw.columns = [strip(pa.array(column, type=pa.string())) for column in columns]
    return raw


def strip(values: pa.Array) -> pa.Array:
    """``str.strip()`` on every value."""
    return pc.utf8_trim(values, characters=PY_WHITESPACE)


def _load_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz" or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileError(f"{path}: cannot decompress: {exc}") from exc
    return data


def _decode(data: bytes, encoding: str) -> tuple[str, str | None, list[str] | None, dict[int, str]]:
    """Decode to ``(encoding, text, lines, problems)``: the whole text when it decodes (lines None:
    split them when needed), otherwise physical lines (with their endings) and ``{line index:
    problem}`` for the lines that cannot be decoded (kept with their bad bytes escaped)."""
    candidates = AUTO_ENCODINGS if encoding == "auto" else (encoding,)
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise FileError(f"unknown encoding {encoding!r}") from exc
        return candidate.removesuffix("-sig"), text, None, {}
    # No encoding decodes the whole file: keep the lines that decode, set aside the others.
    chosen = candidates[0]
    lines: list[str] = []
    problems: dict[int, str] = {}
    for index, chunk in enumerate(data.splitlines(keepends=True)):
        try:
            lines.append(chunk.decode(chosen))
        except UnicodeDecodeError as exc:
            bad = chunk[exc.start : exc.start + 1].hex()
            problems[index] = (
                f"line is not valid {chosen.removesuffix('-sig')} (byte 0x{bad} at position {exc.start})"
            )
            lines.append(chunk.decode(chosen, errors="backslashreplace"))
    return chosen.removesuffix("-sig"), None, lines, problems


def _sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _parse_arrow(text: str, separator: str) -> tuple | None:
    """Read a whole decoded file with Arrow's CSV reader: ``(header line index, separator, header
    cells, stripped columns, texts)``, or None when the file is not the common case this path is
    exact for (see the module docstring)."""
    if any(c in text for c in NOT_FOR_ARROW) or text.count("\r") != text.count("\r\n"):
        return None
    # Lines end with \n (or \r\n) only: find the header, the first line that is not blank.
    start, header_index = 0, 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            return None  # no line after the header
        if text[start:end].strip():
            break
        start, header_index = end + 1, header_index + 1
    header_line, body = text[start : end + 1], text[end + 1 :]
    rows = body.count("\n") + (1 if body and not body.endswith("\n") else 0)
    separator = _sniff_separator(header_line) if separator == "auto" else _unescape(separator)
    if not rows or len(body) > 1 << 30 or len(separator) != 1 or not separator.isascii():
        return None
    if separator in "\r\n":
        return None
    header = next(csv.reader([header_line], delimiter=separator, strict=True))
    width = len(header)
    if width < 2:
        return None
    names = [str(i) for i in range(width)]
    try:
        encoded = body.encode("utf-8")
    except UnicodeEncodeError:
        return None  # lone surrogates from an exotic codec
    try:
        table = pacsv.read_csv(
            pa.BufferReader(encoded),
            # one thread: cheaper in CPU, and as fast on a shared two-core machine
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=separator,
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a row with another number of fields, among others
    del encoded
    if table.num_rows != rows:
        return None
    raw_columns = [column.combine_chunks() for column in table.columns]
    if any((pc.max(pc.utf8_length(c)).as_py() or 0) >= 100_000 for c in raw_columns):
        return None  # near the csv module's field size limit: let it decide
    columns = [strip(column) for column in raw_columns]
    blank = pc.equal(pc.utf8_length(columns[0]), 0)
    for column in columns[1:]:
        blank = pc.and_(blank, pc.equal(pc.utf8_length(column), 0))
    if pc.any(blank).as_py():
        return None  # blank rows are counted and skipped by the other paths
    # The raw text of each line: split the body at \n, drop the \r of \r\n (as rstrip("\r\n")).
    texts = pc.utf8_rtrim(pa.array(body.split("\n")[:rows], type=pa.string()), characters="\r")
    return header_index, separator, header, columns, texts


def _parse_fast(lines: list[str], separator: str) -> list[list[str]] | None:
    """Parse every line in one pass; None unless each record is exactly one line and none is broken."""
    reader = csv.reader(lines, delimiter=separator, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    return rows if len(rows) == reader.line_num == len(lines) else None


def _parse(lines: list[str], separator: str) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
    """Parse record by record: ``(first line index, end line index, cells or None, problem)``."""
    start = 0
    while start < len(lines):
        consumed = start

        def feed(begin: int = start) -> Iterator[str]:
            nonlocal consumed
            for index in range(begin, len(lines)):
                consumed = index + 1
                yield lines[index]

        reader = csv.reader(feed(), delimiter=separator, strict=True)
        record_start = start
        try:
            for cells in reader:
                yield record_start, consumed, cells, None
                record_start = consumed
            start = len(lines)
        except csv.Error as exc:
            # A broken record: set aside the line it started on and go on from the next line.
            yield record_start, record_start + 1, None, f"unparseable: {exc}"
            start = record_start + 1


def _read_csv(path: Path, sha: str, encoding: str, separator: str, parse: str = "auto") -> RawFile:
    data = _load_bytes(path)
    raw = RawFile(path=path, sha256=sha)
    if not data.strip():
        raw.is_empty = True
        return raw
    try:
        raw.encoding, text, lines, undecodable = _decode(data, encoding)
    except FileError as exc:
        raise FileError(f"{path}: {exc}") from exc
    del data
    arrow = _parse_arrow(text, separator) if text is not None and parse == "auto" else None
    if arrow is not None:
        header_index, raw.separator, header_cells, raw.columns, raw.texts = arrow
        raw.parsed_by = "arrow"
        raw.header = [cell.strip().lstrip("\ufeff") for cell in header_cells]
        raw.lines = list(range(header_index + 2, header_index + 2 + len(raw.texts)))
        return raw
    if lines is None:
        lines = text.splitlines(keepends=True)
        del text
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raw.is_empty = True
        return raw
    if header_index in undecodable:
        problem = undecodable[header_index]
        raise FileError(f"{path}: header line {header_index + 1} {problem.removeprefix('line ')}")
    raw.separator = _sniff_separator(lines[header_index]) if separator == "auto" else _unescape(separator)
    if undecodable:
        good_index = [i for i in range(header_index, len(lines)) if i not in undecodable]
        good = [lines[i] for i in good_index]
    else:
        good_index = range(header_index, len(lines))
        good = lines[header_index:] if header_index else lines

    rows = None if parse == "exact" else _parse_fast(good, raw.separator)
    if rows is not None:
        raw.parsed_by = "fast"
        if not rows:
            raise FileError(f"{path}: cannot parse the header line")
        header_cells = rows[0]
        body_cells: list[list[str] | None] = rows
        starts: list[int] | range = range(len(rows))
        texts = [line.rstrip("\r\n") for line in good]
        problems: dict[int, str] = {}
    else:
        raw.parsed_by = "exact"
        starts, texts, body_cells, problems = [], [], [], {}
        for first, end, cells, problem in _parse(good, raw.separator):
            if problem is not None:
                problems[len(starts)] = problem
            starts.append(first)
            texts.append("".join(good[first:end]).rstrip("\r\n"))
            body_cells.append(cells)
        if not body_cells or body_cells[0] is None:
            raise FileError(f"{path}: cannot parse the header line")
        header_cells = body_cells[0]
    raw.header = [cell.strip().lstrip("\ufeff") for cell in header_cells]

    # Records after the header, blank ones skipped (counted), undecodable lines put back in order.
    blank = [cells is not None and not "".join(cells).strip() for cells in body_cells]
    if not problems and not undecodable and not any(blank[1:]):
        # The common case: every line after the header is one record.
        raw.lines = (
            [good_index[start] + 1 for start in starts[1:]]
            if raw.parsed_by == "exact"
            else list(range(header_index + 2, header_index + 1 + len(body_cells)))
        )
        raw.texts, raw.cells = texts[1:], body_cells[1:]
        return raw
    out_lines: list[int] = []
    out_texts: list[str] = []
    out_cells: list[list[str] | None] = []
    out_problems: dict[int, str] = {}
    for position in range(1, len(body_cells)):
        cells = body_cells[position]
        if blank[position]:
            raw.blank_lines += 1
            continue
        if cells is None:
            out_problems[len(out_lines)] = problems[position]
        out_lines.append(good_index[starts[position]] + 1)
        out_texts.append(texts[position])
        out_cells.append(cells)
    if undecodable:
        merged = [
            (line, text, cells, out_problems.get(i))
            for i, (line, text, cells) in enumerate(zip(out_lines, out_texts, out_cells, strict=True))
        ]
        merged += [
            (i + 1, lines[i].rstrip("\r\n"), None, problem)
            for i, problem in undecodable.items()
            if i > header_index
        ]
        merged.sort(key=lambda item: item[0])
        out_lines = [m[0] for m in merged]
        out_texts = [m[1] for m in merged]
        out_cells = [m[2] for m in merged]
        out_problems = {i: m[3] for i, m in enumerate(merged) if m[3] is not None}
    raw.lines, raw.texts, raw.cells, raw.problems = out_lines, out_texts, out_cells, out_problems
    if not raw.lines and not raw.header:
        raw.is_empty = True
    return raw


def _unescape(separator: str) -> str:
    return {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(separator, separator)
