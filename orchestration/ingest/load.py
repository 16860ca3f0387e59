"""Load a landing directory into the warehouse: validate, quarantine, reconcile, idempotently.

Each file is loaded in one transaction (raw rows, quarantine rows and its load-log row together),
so a crash leaves either the whole file or nothing. A file already loaded (same SHA-256) is
skipped. Rows read = accepted + quarantined + set aside, for every file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.contract import META_COLUMNS, Source, load_contract
from orchestration.ingest import validation
from orchestration.ingest.mapping import (
    MAPPING_FILE_NAME,
    MappingError,
    SourceMapping,
    default_mapping,
    load_mapping_file,
)
from orchestration.ingest.reader import FileError, RawFile, read_file
from orchestration.ingest.transform import (
    Rejected,
    Transformed,
    quarantine_failures,
    rows_to_validate,
    transform,
)
from orchestration.ingest.validation import Validation
from orchestration.warehouse import ensure_raw_tables, refresh_sources

log = logging.getLogger(__name__)

# Sources other checks depend on load first (employees before transactions: hire dates).
LOAD_ORDER = ("employees", "merchants", "related_parties", "leave", "trips", "card_transactions")
DATA_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".pq")


@dataclass
class FileResult:
    source: str
    file: str
    status: str  # loaded | empty | rejected | already_loaded
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_set_aside: int = 0
    message: str = ""

    @property
    def reconciles(self) -> bool:
        """Every row read is accepted, quarantined or set aside; a rejected file loads no row at all."""
        if self.status == "rejected":
            return self.rows_accepted == self.rows_quarantined == self.rows_set_aside == 0
        return self.rows_read == self.rows_accepted + self.rows_quarantined + self.rows_set_aside


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _is_data_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and not name.startswith((".", "_")) and name.endswith(DATA_SUFFIXES)


def discover(landing: Path, mappings: dict[str, SourceMapping]) -> dict[str, list[Path]]:
    """Files per source folder, sorted by name so loads are deterministic."""
    found: dict[str, list[Path]] = {}
    for name in load_contract():
        folder = landing / name
        if not folder.is_dir():
            continue
        pattern = mappings[name].files if name in mappings else "**/*"
        found[name] = sorted((p for p in folder.glob(pattern) if _is_data_file(p)), key=lambda p: str(p))
    return found


def _mappings_for(landing: Path, mapping_file: Path | None) -> dict[str, SourceMapping]:
    mappings: dict[str, SourceMapping] = {}
    for name in load_contract():
        local = landing / name / MAPPING_FILE_NAME
        if local.is_file():
            mappings.update(load_mapping_file(local))
    if mapping_file is not None:
        mappings.update(load_mapping_file(mapping_file))
    return mappings


def ingest(
    landing: Path,
    warehouse: Path,
    mapping_file: Path | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestReport:
    """Load every landing source found under ``landing`` into ``warehouse``."""
    if not landing.is_dir():
        raise FileError(f"{landing}: landing directory does not exist")
    mappings = _mappings_for(landing, mapping_file)
    files = discover(landing, mappings)
    contract = load_contract()
    now = now or datetime.now()
    report = IngestReport()
    for name, source in contract.items():
        if not files.get(name):
            if source.required:
                raise FileError(f"{landing / name}: no files for the required source {name}")
            report.missing_sources.append(name)
    order = [s for s in LOAD_ORDER if s in files] + [s for s in files if s not in LOAD_ORDER]
    validation.start()  # Great Expectations loads in the worker while the files are read
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_tables(con)
        # each source is validated as soon as it is read and typed (in the worker while the next ones
        # are read: orchestration/ingest/validation.py); sources are quarantined and written in load
        # order, each as soon as its validation and every earlier source's are done
        staged: list[tuple[Source, list[_Pending], Validation]] = []

        def write(source: Source, pending: list[_Pending], checked: Validation) -> None:
            quarantine_failures([p.shaped for p in pending], checked.result())
            for item in pending:
                _finish(con, source, item)

        for name in order:
            mapping = mappings.get(name) or default_mapping(contract[name])
            results, pending = _read_source(con, files[name], contract[name], mapping, progress)
            report.files.extend(results)
            batches = [p.shaped for p in pending]
            staged.append((contract[name], pending, Validation(name, rows_to_validate(batches), now)))
            while staged and staged[0][2].done():
                write(*staged.pop(0))
        for item in staged:
            write(*item)
        refresh_sources(con)
    finally:
        con.close()
    return report


def _already_loaded(con: duckdb.DuckDBPyConnection, sha: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM raw._load_log WHERE file_sha256 = ? AND status IN ('loaded', 'empty')", [sha]
    ).fetchall()[0]
    return bool(row and row[0])


@dataclass
class _Pending:
    """A file read and typed, waiting for the source's expectations and its write."""

    path: Path
    raw: RawFile
    shaped: Transformed
    result: FileResult
    load_id: str
    started: datetime


def _read_source(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    source: Source,
    mapping: SourceMapping,
    progress: Callable[[str], None] | None,
) -> tuple[list[FileResult], list[_Pending]]:
    """Read and type a source's files: a result for each, and the files waiting to be written."""
    results: list[FileResult] = []
    pending: list[_Pending] = []
    for path in paths:
        if progress:
            progress(f"{source.name}: {path.name}")
        item = _prepare(con, path, source, mapping)
        if isinstance(item, FileResult):
            results.append(item)
        else:
            pending.append(item)
            results.append(item.result)
    return results, pending


def _prepare(
    con: duckdb.DuckDBPyConnection, path: Path, source: Source, mapping: SourceMapping
) -> _Pending | FileResult:
    started = datetime.now()
    load_id = uuid.uuid4().hex
    result = FileResult(source=source.name, file=str(path), status="loaded")
    raw: RawFile | None = None
    try:
        raw = read_file(path, mapping.encoding, mapping.separator)
        if _already_loaded(con, raw.sha256):
            result.status = "already_loaded"
            result.message = "same content already loaded; nothing added"
            return result
        if raw.is_empty or not raw.row_count:
            result.status = "empty"
            result.message = "empty file" if raw.is_empty else "header only, no rows"
            _write(con, load_id, source, raw.sha256, path, None, [], result, started)
            return result
        result.rows_read = raw.row_count
        shaped = transform(raw, mapping)
        raw.release()  # the typed frame carries what is still needed; keep memory to one copy
    except (FileError, MappingError) as exc:
        result.status = "rejected"
        result.message = str(exc)
        _log_rejection(con, load_id, source, raw.sha256 if raw else None, path, result, started)
        return result
    return _Pending(path, raw, shaped, result, load_id, started)


def _finish(con: duckdb.DuckDBPyConnection, source: Source, item: _Pending) -> None:
    shaped, result = item.shaped, item.result
    shaped.quarantine(_duplicate_keys(con, source, shaped.frame))
    if source.name == "card_transactions":
        shaped.quarantine(_before_hire(con, shaped.frame))
    frame, rejected = shaped.frame, shaped.rejected
    result.rows_accepted = len(frame)
    result.rows_quarantined = sum(1 for r in rejected if r.kind == "quarantined")
    result.rows_set_aside = sum(1 for r in rejected if r.kind == "set_aside")
    notes = []
    if shaped.extra_columns:
        notes.append(f"unknown columns kept in _extra: {', '.join(shaped.extra_columns)}")
    if item.raw.blank_lines:
        notes.append(f"{item.raw.blank_lines} blank lines skipped")
    result.message = "; ".join(notes)
    if not result.reconciles:
        raise AssertionError(f"{item.path}: reconciliation failed: {result}")
    _write(con, item.load_id, source, item.raw.sha256, item.path, frame, rejected, result, item.started)


def _duplicate_keys(
    con: duckdb.DuckDBPyConnection, source: Source, frame: pd.DataFrame
) -> dict[int, list[str]]:
    """Rows whose primary key was seen earlier in this file or in an earlier load."""
    if not source.primary_key or frame.empty:
        return {}
    key = source.primary_key[0]
    values = frame[key]
    repeated = values.duplicated(keep="first").to_numpy()
    firsts = frame.loc[~repeated, [key, "_line"]]
    problems: dict[int, list[str]] = {}
    if repeated.any():
        first_line = dict(zip(firsts[key].tolist(), firsts["_line"].tolist(), strict=True))
        for position in np.flatnonzero(repeated).tolist():
            value = values.iat[position]
            problems[position] = [
                f"duplicate {key} {value!r} (first at line {first_line[value]} of this file)"
            ]
    keys = pa.table({"key": pa.array(firsts[key], type=pa.string(), from_pandas=True)})
    con.register("_incoming_keys", keys)
    try:
        earlier = con.execute(
            f'SELECT r."{key}", r._file, r._line FROM raw.{source.name} r JOIN _incoming_keys k ON r."{key}" = k.key'
        ).fetchall()
    finally:
        con.unregister("_incoming_keys")
    if earlier:
        seen = {value: (Path(file).name, line) for value, file, line in earlier}
        hit = values.isin(list(seen)).to_numpy() & ~repeated
        for position in np.flatnonzero(hit).tolist():
            value = values.iat[position]
            file, line = seen[value]
            problems[position] = [f"duplicate {key} {value!r} (already loaded from {file} line {line})"]
    return problems


def _before_hire(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> dict[int, list[str]]:
    if frame.empty or frame["employee_id"].isna().all():
        return {}
    hires = con.execute(
        "SELECT employee_id, hire_date FROM raw.employees WHERE hire_date IS NOT NULL"
    ).fetchdf()
    if hires.empty:
        return {}
    hire_by_employee = dict(zip(hires["employee_id"], pd.to_datetime(hires["hire_date"]), strict=True))
    hire = frame["employee_id"].map(hire_by_employee)
    before = (hire.notna() & (frame["transacted_at"].dt.normalize() < hire)).to_numpy()
    return {
        int(p): [f"dated before employee {frame.at[p, 'employee_id']} was hired ({hire.iat[p].date()})"]
        for p in np.flatnonzero(before)
    }


def _write(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: Source,
    sha: str,
    path: Path,
    frame: pd.DataFrame | None,
    rejected: list[Rejected],
    result: FileResult,
    started: datetime,
) -> None:
    loaded_at = datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        if frame is not None and not frame.empty:
            out = frame[source.column_names].copy()
            out["_file"] = str(path)
            out["_line"] = frame["_line"].astype("int64")
            out["_file_sha256"] = sha
            out["_loaded_at"] = loaded_at
            out["_extra"] = frame["_extra"]
            con.register("_incoming", out)
            columns = ", ".join(f'"{c}"' for c in [*source.column_names, *META_COLUMNS])
            con.execute(f"INSERT INTO raw.{source.name} ({columns}) SELECT {columns} FROM _incoming")
            con.unregister("_incoming")
        if rejected:
            quarantine = pd.DataFrame(
                {
                    "load_id": load_id,
                    "source": source.name,
                    "file": str(path),
                    "file_sha256": sha,
                    "line": [r.line for r in rejected],
                    "kind": [r.kind for r in rejected],
                    "reason": [r.reason for r in rejected],
                    "raw_row": [r.text for r in rejected],
                    "quarantined_at": loaded_at,
                }
            )
            con.register("_rejected", quarantine)
            con.execute("INSERT INTO raw._quarantine SELECT * FROM _rejected")
            con.unregister("_rejected")
        _insert_log(con, load_id, source.name, str(path), sha, result, started)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _log_rejection(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: Source,
    sha: str | None,
    path: Path,
    result: FileResult,
    started: datetime,
) -> None:
    seen = con.execute(
        "SELECT count(*) FROM raw._load_log WHERE file_sha256 IS NOT DISTINCT FROM ? AND message = ?",
        [sha, result.message],
    ).fetchall()[0][0]
    if not seen:
        _insert_log(con, load_id, source.name, str(path), sha, result, started)


def _insert_log(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    source: str,
    path: str,
    sha: str | None,
    result: FileResult,
    started: datetime,
) -> None:
    con.execute(
        "INSERT INTO raw._load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            source,
            path,
            sha,
            result.status,
            result.rows_read,
            result.rows_accepted,
            result.rows_quarantined,
            result.rows_set_aside,
            result.message,
            started,
            datetime.now(),
        ],
    )
