"""Read one landing file into a header and records, keeping every physical line accounted for.

CSV (optionally gzipped) in UTF-8 or CP949 (or any encoding a mapping names) and Parquet. A line
that cannot be decoded or parsed becomes a record with a ``problem`` instead of disappearing.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SEPARATORS = (",", "\t", ";", "|")
AUTO_ENCODINGS = ("utf-8-sig", "cp949")
csv.field_size_limit(10_000_000)


class FileError(Exception):
    """A file that cannot be read at all; the message is one line naming the file."""


@dataclass
class Record:
    line: int  # 1-based physical line where the record starts (row number for Parquet)
    cells: list[str] | None  # None when the line could not be decoded or parsed
    text: str  # the raw line(s), for the quarantine
    problem: str | None = None


@dataclass
class RawFile:
    path: Path
    sha256: str
    header: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    encoding: str = ""
    separator: str = ""
    blank_lines: int = 0
    is_empty: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


def read_file(path: Path, encoding: str = "auto", separator: str = "auto") -> RawFile:
    """Read a landing file; raise FileError (one line) if it cannot be read at all."""
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise FileError(f"{path}: cannot open: {exc.strerror}") from exc
    if is_parquet(path):
        return _read_parquet(path, sha)
    return _read_csv(path, sha, encoding, separator)


def _read_parquet(path: Path, sha: str) -> RawFile:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"{path}: not a readable Parquet file: {str(exc).splitlines()[0]}") from exc
    raw = RawFile(path=path, sha256=sha, header=list(table.column_names), encoding="parquet")
    if table.num_rows == 0:
        raw.is_empty = True
        return raw
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("s"))
        text = column.cast(pa.string(), safe=False).to_pylist()
        columns.append(["" if v is None else v for v in text])
    for index, cells in enumerate(zip(*columns, strict=True), start=1):
        cells_list = list(cells)
        raw.records.append(Record(line=index, cells=cells_list, text="\t".join(cells_list)))
    return raw


def _load_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz" or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileError(f"{path}: cannot decompress: {exc}") from exc
    return data


def _decode(data: bytes, encoding: str) -> tuple[str, list[tuple[int, str, str | None]]]:
    """Decode to lines ``(line number, text, problem)``; undecodable lines carry a problem."""
    candidates = AUTO_ENCODINGS if encoding == "auto" else (encoding,)
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise FileError(f"unknown encoding {encoding!r}") from exc
        return candidate.removesuffix("-sig"), [
            (number, line, None) for number, line in enumerate(text.splitlines(keepends=True), start=1)
        ]
    # No encoding decodes the whole file: keep the lines that decode, set aside the others.
    chosen = candidates[0]
    lines: list[tuple[int, str, str | None]] = []
    for number, chunk in enumerate(data.splitlines(keepends=True), start=1):
        try:
            lines.append((number, chunk.decode(chosen), None))
        except UnicodeDecodeError as exc:
            bad = chunk[exc.start : exc.start + 1].hex()
            problem = (
                f"line is not valid {chosen.removesuffix('-sig')} (byte 0x{bad} at position {exc.start})"
            )
            lines.append((number, chunk.decode(chosen, errors="backslashreplace"), problem))
    return chosen.removesuffix("-sig"), lines


def _sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _parse(lines: list[tuple[int, str]], separator: str) -> Iterator[Record]:
    """Parse decoded lines with csv, keeping the start line of every record."""
    start = 0
    while start < len(lines):
        consumed = start

        def feed(begin: int = start) -> Iterator[str]:
            nonlocal consumed
            for index in range(begin, len(lines)):
                consumed = index + 1
                yield lines[index][1]

        reader = csv.reader(feed(), delimiter=separator, strict=True)
        record_start = start
        try:
            for cells in reader:
                first_line = lines[record_start][0]
                text = "".join(line for _, line in lines[record_start:consumed])
                yield Record(line=first_line, cells=cells, text=text.rstrip("\r\n"))
                record_start = consumed
            start = len(lines)
        except csv.Error as exc:
            # A broken record: set aside the line it started on and go on from the next line.
            first_line, text = lines[record_start]
            yield Record(line=first_line, cells=None, text=text.rstrip("\r\n"), problem=f"unparseable: {exc}")
            start = record_start + 1


def _read_csv(path: Path, sha: str, encoding: str, separator: str) -> RawFile:
    data = _load_bytes(path)
    raw = RawFile(path=path, sha256=sha)
    if not data.strip():
        raw.is_empty = True
        return raw
    try:
        raw.encoding, decoded = _decode(data, encoding)
    except FileError as exc:
        raise FileError(f"{path}: {exc}") from exc
    header_index = next((i for i, (_, text, _) in enumerate(decoded) if text.strip()), None)
    if header_index is None:
        raw.is_empty = True
        return raw
    number, header_text, problem = decoded[header_index]
    if problem:
        raise FileError(f"{path}: header line {number} {problem.removeprefix('line ')}")
    raw.separator = _sniff_separator(header_text) if separator == "auto" else _unescape(separator)
    good: list[tuple[int, str]] = []
    pending_bad: list[Record] = []
    for line_number, text, line_problem in decoded[header_index:]:
        if line_problem:
            pending_bad.append(
                Record(line=line_number, cells=None, text=text.rstrip("\r\n"), problem=line_problem)
            )
        else:
            good.append((line_number, text))
    records = list(_parse(good, raw.separator))
    if not records or records[0].cells is None:
        raise FileError(f"{path}: cannot parse the header line")
    raw.header = [cell.strip().lstrip("\ufeff") for cell in records[0].cells]
    body = []
    for record in records[1:]:
        if record.cells is not None and not any(cell.strip() for cell in record.cells):
            raw.blank_lines += 1
            continue
        body.append(record)
    raw.records = sorted(body + pending_bad, key=lambda record: record.line)
    if not raw.records and not raw.header:
        raw.is_empty = True
    return raw


def _unescape(separator: str) -> str:
    return {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(separator, separator)
