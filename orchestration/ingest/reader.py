"""Read one landing file into a header and records, keeping every physical line accounted for.

CSV (optionally gzipped) in UTF-8 or CP949 (or any encoding a mapping names) and Parquet. A line
that cannot be decoded or parsed becomes a record with a ``problem`` instead of disappearing.

Records are kept column-wise (line numbers, raw texts, cells) rather than as one object per row.
Three ways to parse a CSV, tried in order, all giving the same records:

- ``arrow``: Arrow's CSV reader, for the common file: it decodes whole, has no quote character, no
  NUL, lines ending in LF or CR LF only, at least two columns, at most ``ARROW_MAX_BYTES``, no field
  over ``CSV_FIELD_LIMIT``; every line after the header one record with the header's number of
  fields and not blank. Anything else falls through.
- ``fast``: the standard ``csv`` module in one pass over all lines, kept when each record is one
  line and none is broken.
- ``exact``: record by record with the exact line tracking of ``_parse``.

The two ``csv`` routes share what follows the parse (header, blank lines, line numbers, the
undecodable lines put back in order).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SEPARATORS = (",", "\t", ";", "|")
AUTO_ENCODINGS = ("utf-8-sig", "cp949")
# The longest field (in characters) the csv module accepts; a longer one makes its record
# unparseable. The Arrow route leaves a file with a longer field to the csv routes.
CSV_FIELD_LIMIT = 10_000_000
csv.field_size_limit(CSV_FIELD_LIMIT)
# The Arrow route takes a body of at most this many bytes of UTF-8: its raw lines go into one Arrow
# string array, whose 32-bit offsets hold 2 GiB. A larger file goes to the csv routes.
ARROW_MAX_BYTES = 1 << 30
# Bytes Arrow's CSV reader parses at a time; a line longer than that makes it fail, and the file
# goes to the csv routes.
ARROW_BLOCK_SIZE = 1 << 24
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
            # whole seconds print as CSV exports write them; sub-second values keep their fraction
            with contextlib.suppress(pa.ArrowInvalid):
                column = column.cast(pa.timestamp("s"))
        columns.append(pc.fill_null(column.cast(pa.string(), safe=False), "").combine_chunks())
    raw.lines = list(range(1, table.num_rows + 1))
    raw.texts = pc.binary_join_element_wise(*columns, "\t")
    raw.columns = [strip(column) for column in columns]
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


def _separator(header_line: str, separator: str) -> str:
    """The separator a mapping names (``tab``, ``\\t``, ``pipe``...), or the one the header uses most."""
    if separator != "auto":
        return separator_char(separator)
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def separator_char(separator: str) -> str:
    """The character a mapping's separator names (``tab``, ``\\t``, ``comma``, ``semicolon``, ``pipe``, or itself)."""
    return {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(separator, separator)


def _header(cells: list[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff") for cell in cells]


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
    if text is not None and parse == "auto" and _read_arrow(raw, text, separator):
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
    raw.separator = _separator(lines[header_index], separator)
    # The decodable lines from the header on, and their 1-based line numbers.
    if undecodable:
        good_index = [i for i in range(header_index, len(lines)) if i not in undecodable]
        good, good_lines = [lines[i] for i in good_index], [i + 1 for i in good_index]
    else:
        good = lines[header_index:] if header_index else lines
        good_lines = range(header_index + 1, len(lines) + 1)

    # Records, the header first: the line each starts on, its raw text, its cells (None if
    # unparseable) and {record: problem}.
    rows = None if parse == "exact" else _parse_fast(good, raw.separator)
    if rows is not None:
        raw.parsed_by = "fast"
        numbers, texts, cells, problems = good_lines, [line.rstrip("\r\n") for line in good], rows, {}
    else:
        raw.parsed_by = "exact"
        starts, texts, cells, problems = _parse(good, raw.separator)
        numbers = [good_lines[start] for start in starts]
    if not cells or cells[0] is None:
        raise FileError(f"{path}: cannot parse the header line")
    raw.header = _header(cells[0])

    # The records after the header; blank ones are counted and skipped.
    blank = [
        record is not None and not "".join(record).strip() for record in itertools.islice(cells, 1, None)
    ]
    raw.blank_lines = sum(blank)
    if raw.blank_lines:
        kept: list[int] | range = [i for i, is_blank in enumerate(blank, start=1) if not is_blank]
        raw.lines, raw.texts, raw.cells = ([values[i] for i in kept] for values in (numbers, texts, cells))
    else:
        kept = range(1, len(cells))
        raw.lines, raw.texts, raw.cells = list(numbers[1:]), texts[1:], cells[1:]
    if problems:
        raw.problems = {n: problems[i] for n, i in enumerate(kept) if i in problems}
    if undecodable:
        _put_back(raw, lines, {i: p for i, p in undecodable.items() if i > header_index})
    return raw


def _put_back(raw: RawFile, lines: list[str], undecodable: dict[int, str]) -> None:
    """Insert the undecodable lines (by line index) among the records, in line order."""
    records = [
        (line, text, cells, raw.problems.get(n))
        for n, (line, text, cells) in enumerate(zip(raw.lines, raw.texts, raw.cells, strict=True))
    ]
    records += [(i + 1, lines[i].rstrip("\r\n"), None, problem) for i, problem in undecodable.items()]
    records.sort(key=lambda record: record[0])
    raw.lines = [record[0] for record in records]
    raw.texts = [record[1] for record in records]
    raw.cells = [record[2] for record in records]
    raw.problems = {n: record[3] for n, record in enumerate(records) if record[3] is not None}


def _read_arrow(raw: RawFile, text: str, separator: str) -> bool:
    """Read a whole decoded file with Arrow's CSV reader into ``raw``; False, leaving ``raw`` as it
    is, when the file is not the common case this route is exact for (see the module docstring)."""
    if any(c in text for c in NOT_FOR_ARROW) or text.count("\r") != text.count("\r\n"):
        return False
    # Lines end with \n (or \r\n) only: the header is the first line that is not blank.
    start = header_index = 0
    while (end := text.find("\n", start)) >= 0 and not text[start:end].strip():
        start, header_index = end + 1, header_index + 1
    if end < 0:
        return False  # no line after the header
    header_line, body = text[start : end + 1], text[end + 1 :]
    rows = body.count("\n") + (1 if body and not body.endswith("\n") else 0)
    separator = _separator(header_line, separator)
    if not rows or len(separator) != 1 or not separator.isascii() or separator in "\r\n":
        return False
    try:
        header = next(csv.reader([header_line], delimiter=separator, strict=True))
    except csv.Error:
        return False  # a header field over CSV_FIELD_LIMIT: the csv routes reject the file
    width = len(header)
    if width < 2:
        return False
    try:
        encoded = body.encode("utf-8")
    except UnicodeEncodeError:
        return False  # lone surrogates from an exotic codec
    if len(encoded) > ARROW_MAX_BYTES:
        return False
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(encoded),
            # one thread: cheaper in CPU, and as fast on a shared two-core machine
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=ARROW_BLOCK_SIZE
            ),
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
        return False  # a row with another number of fields, among others
    del encoded
    if table.num_rows != rows:
        return False
    unstripped = [column.combine_chunks() for column in table.columns]
    if any((pc.max(pc.utf8_length(c)).as_py() or 0) > CSV_FIELD_LIMIT for c in unstripped):
        return False  # the csv routes make its record unparseable
    columns = [strip(column) for column in unstripped]
    blank = pc.equal(pc.utf8_length(columns[0]), 0)
    for column in columns[1:]:
        blank = pc.and_(blank, pc.equal(pc.utf8_length(column), 0))
    if pc.any(blank).as_py():
        return False  # blank rows are counted and skipped by the csv routes
    raw.parsed_by, raw.separator, raw.header, raw.columns = "arrow", separator, _header(header), columns
    raw.lines = list(range(header_index + 2, header_index + 2 + rows))
    # The raw text of each line: split the body at \n, drop the \r of \r\n (as rstrip("\r\n")).
    raw.texts = pc.utf8_rtrim(pa.array(body.split("\n")[:rows], type=pa.string()), characters="\r")
    return True


def _parse_fast(lines: list[str], separator: str) -> list[list[str]] | None:
    """Parse every line in one pass; None unless each record is exactly one line and none is broken."""
    reader = csv.reader(lines, delimiter=separator, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    return rows if len(rows) == reader.line_num == len(lines) else None


def _parse(
    lines: list[str], separator: str
) -> tuple[list[int], list[str], list[list[str] | None], dict[int, str]]:
    """Parse record by record: the line index each record starts on, its raw text, its cells (None
    for a broken record, which sets aside the line it starts on) and {record: problem}."""
    starts: list[int] = []
    texts: list[str] = []
    cells: list[list[str] | None] = []
    problems: dict[int, str] = {}
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
            for record in reader:
                starts.append(record_start)
                texts.append("".join(lines[record_start:consumed]).rstrip("\r\n"))
                cells.append(record)
                record_start = consumed
            start = len(lines)
        except csv.Error as exc:
            # A broken record: set aside the line it started on and go on from the next line.
            problems[len(starts)] = f"unparseable: {exc}"
            starts.append(record_start)
            texts.append(lines[record_start].rstrip("\r\n"))
            cells.append(None)
            start = record_start + 1
    return starts, texts, cells, problems
