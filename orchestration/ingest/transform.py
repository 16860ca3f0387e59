"""Turn a read file into contract-typed rows, and account for every row that cannot be accepted."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.contract import Column
from orchestration.ingest.mapping import SourceMapping, normalize_header
from orchestration.ingest.reader import FileError, RawFile

DEFAULT_TIMESTAMP_FORMATS = ("ISO8601", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d")
DEFAULT_DATE_FORMATS = ("ISO8601", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
TRUE_WORDS = {"true", "t", "1", "y", "yes", "예", "y."}
FALSE_WORDS = {"false", "f", "0", "n", "no", "아니오"}
CURRENCY_SYMBOLS = r"[\s$₩€£¥]|KRW|CAD|USD|원"


@dataclass
class Rejected:
    line: int
    kind: str  # "quarantined" or "set_aside"
    reason: str
    text: str


@dataclass
class Transformed:
    frame: pd.DataFrame  # contract columns, typed, plus _line, _extra and _raw_text
    rejected: list[Rejected] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def quarantine(self, positions: dict[int, list[str]]) -> None:
        """Move rows (by position in ``frame``) to the quarantine with their reasons."""
        order = sorted(positions)
        self.move_out(order, ["; ".join(positions[p]) for p in order], "quarantined")

    def move_out(self, order: list[int], reasons: list[str], kind: str) -> None:
        """Move rows (increasing positions in ``frame``) to ``rejected`` as ``kind``, with a reason each."""
        if not order:
            return
        lines = self.frame["_line"].iloc[order].tolist()
        texts = self.frame["_raw_text"].iloc[order].tolist()
        self.rejected.extend(
            Rejected(line, kind, reason, text)
            for line, reason, text in zip(lines, reasons, texts, strict=True)
        )
        keep = np.ones(len(self.frame), dtype=bool)
        keep[order] = False
        self.frame = self.frame[keep].reset_index(drop=True)


def _resolve_columns(raw: RawFile, mapping: SourceMapping) -> tuple[dict[str, int], dict[str, int | None]]:
    """Header positions by normalised name, and the position each contract column reads from."""
    positions: dict[str, int] = {}
    for index, name in enumerate(raw.header):
        normalised = normalize_header(name)
        if normalised and normalised not in positions:
            positions[normalised] = index
    sources: dict[str, int | None] = {}
    missing = []
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        found = next((positions[a] for a in rule.aliases if a in positions), None)
        sources[column.name] = found
        if column.required and found is None and rule.constant is None and rule.template is None:
            mapped = rule.aliases and rule.aliases != (normalize_header(column.name),)
            missing.append(
                f"{column.name} (mapped from: {', '.join(rule.aliases)})" if mapped else column.name
            )
    if missing:
        raise FileError(f"{raw.path}: missing required column {'; '.join(missing)}")
    return positions, sources


def _parse_timestamps(values: pd.Series, formats: tuple[str, ...], as_date: bool) -> pd.Series:
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = values.ne("")
    for fmt in formats:
        if not todo.any():
            break
        parsed = _to_datetime(values[todo], fmt)
        result.loc[parsed.index] = result.loc[parsed.index].fillna(parsed.astype("datetime64[us]"))
        todo = todo & result.isna()
    return result.dt.normalize() if as_date else result


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with one format; a UTC offset is dropped, keeping the local wall time."""
    try:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    except ValueError:
        # Different UTC offsets (or offsets beside naive times) in one column: value by value.
        return pd.Series([_one_datetime(v, fmt) for v in values], index=values.index, dtype="datetime64[us]")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _one_datetime(value: str, fmt: str) -> pd.Timestamp:
    parsed = pd.to_datetime(value, format=fmt, errors="coerce")
    return parsed.tz_localize(None) if parsed is not pd.NaT and parsed.tzinfo is not None else parsed


def _type_column(column: Column, values: pd.Series, formats: tuple[str, ...], thousands: str | None):
    """Return (typed series, mask of cells that failed to convert)."""
    filled = values.ne("")
    if column.type == "varchar":
        # Kept in pandas' Arrow-backed string dtype (missing = NaN): far smaller than Python objects.
        return values.where(filled), pd.Series(False, index=values.index)
    if column.type in ("timestamp", "date"):
        defaults = DEFAULT_DATE_FORMATS if column.type == "date" else DEFAULT_TIMESTAMP_FORMATS
        typed = _parse_timestamps(values, formats or defaults, as_date=column.type == "date")
        return typed, filled & typed.isna()
    if column.type in ("decimal", "integer"):
        cleaned = values.str.replace(thousands, "", regex=False) if thousands else values
        # Accounting negatives "(12.50)", currency symbols and spaces are formatting, not data.
        cleaned = cleaned.str.replace(r"^\((.*)\)$", r"-\1", regex=True).str.replace(
            CURRENCY_SYMBOLS, "", regex=True
        )
        typed = pd.to_numeric(cleaned.where(filled, None), errors="coerce")
        bad = filled & (typed.isna() | ~np.isfinite(typed.fillna(0)))
        if column.type == "integer":
            bad = bad | (filled & typed.notna() & (typed.fillna(0) % 1 != 0))
            return typed.where(~bad).astype("Int64"), bad
        return typed.where(~bad).round(2), bad
    if column.type == "boolean":
        lowered = values.str.lower()
        typed = pd.Series(pd.NA, index=values.index, dtype="boolean")
        typed[lowered.isin(TRUE_WORDS)] = True
        typed[lowered.isin(FALSE_WORDS)] = False
        return typed, filled & typed.isna()
    raise ValueError(column.type)


def _cells_by_column(
    raw: RawFile, rejected: list[Rejected]
) -> tuple[list[pa.Array], list[int], list[str] | pa.Array]:
    """The records' stripped cells by column, with their line numbers and raw texts.

    Unreadable records and records with the wrong number of fields go to ``rejected``.
    """
    if raw.columns is not None:
        return raw.columns, raw.lines, raw.texts
    width = len(raw.header)
    last_named = max((i for i, name in enumerate(raw.header) if name.strip()), default=-1)
    rows, lines, texts = raw.cells, raw.lines, raw.texts
    odd = [i for i, cells in enumerate(rows) if cells is None or len(cells) != width]
    if odd:
        rows = list(rows)
        dropped = set()
        for i in odd:
            cells = rows[i]
            if cells is None:
                reason = raw.problems.get(i) or "unreadable"
            # Trailing unnamed columns may be missing or empty; anything else is a broken row.
            elif len(cells) > width and not any(c.strip() for c in cells[width:]):
                rows[i] = cells[:width]
                continue
            elif last_named < len(cells) < width:
                rows[i] = cells + [""] * (width - len(cells))
                continue
            else:
                reason = f"has {len(cells)} fields, the header has {width}"
            rejected.append(Rejected(lines[i], "quarantined", reason, texts[i]))
            dropped.add(i)
        if dropped:
            kept = [i for i in range(len(rows)) if i not in dropped]
            rows, lines, texts = ([values[i] for i in kept] for values in (rows, lines, texts))
    if not rows:
        return [pa.array([], type=pa.string()) for _ in range(width)], lines, texts
    columns = [pa.array(list(map(str.strip, column)), type=pa.string()) for column in zip(*rows, strict=True)]
    return columns, lines, texts


def _strings(values: list[str] | pa.Array) -> pd.Series:
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string())
    return pd.Series(values, dtype="str")


def transform(raw: RawFile, mapping: SourceMapping) -> Transformed:
    """Map and type a file's records to its source's contract (expectations come after)."""
    header_positions, column_sources = _resolve_columns(raw, mapping)
    rejected: list[Rejected] = []
    columns, lines, texts = _cells_by_column(raw, rejected)
    size = len(lines)
    cells: dict[int, pd.Series] = {}

    def cell_column(position: int) -> pd.Series:
        if position not in cells:
            cells[position] = _strings(columns[position])
        return cells[position]

    mapped: dict[str, pd.Series] = {}
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        position = column_sources[column.name]
        if position is not None:
            series = cell_column(position)
        elif rule.template is not None:
            series = _render_template(rule.template, raw, lines, header_positions, cell_column)
        elif rule.constant is not None:
            series = pd.Series([rule.constant] * size, dtype="str")
        else:
            series = pd.Series([""] * size, dtype="str")
        if rule.values:
            series = series.map(lambda v, m=rule.values: m.get(v, v)).astype(str)
        mapped[column.name] = series
    misaligned = _repair_misaligned(mapped, mapping)
    frame = pd.DataFrame(mapped)
    frame["_line"] = np.asarray(lines, dtype="int64")

    used = {p for p in column_sources.values() if p is not None}
    extra = [(i, name) for i, name in enumerate(raw.header) if i not in used and name.strip()]
    if (extra or misaligned) and size:
        frame["_extra"] = _extra_json(extra, columns, misaligned, size)
    else:
        frame["_extra"] = None
    frame["_raw_text"] = _strings(texts)
    result = Transformed(frame=frame, rejected=rejected, extra_columns=[name for _, name in extra])

    # Rows the mapping sets aside on purpose (e.g. subtotals), each with the mapping's reason.
    set_aside = np.zeros(size, dtype=bool)
    reasons = np.empty(size, dtype=object)
    for rule in mapping.set_aside:
        values = frame[rule.column].astype(str)
        hit = values.eq("") if rule.is_empty else values.str.contains(rule.matches or "", regex=True)
        hit = hit.fillna(False).to_numpy(dtype=bool) & ~set_aside
        reasons[hit] = rule.reason
        set_aside |= hit
    positions = np.flatnonzero(set_aside)
    result.move_out(positions.tolist(), reasons[positions].tolist(), "set_aside")

    # Types, defaults and conversions.
    problems: dict[int, list[str]] = {}
    typed: dict[str, pd.Series] = {}
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        values = result.frame[column.name].astype(str).str.strip()
        if rule.zfill:
            values = values.where(~values.str.fullmatch(r"[0-9]+"), values.str.zfill(rule.zfill))
        default = rule.default if rule.default is not None else column.default
        if default is not None:
            values = values.where(values.ne(""), str(default))
        series, bad = _type_column(column, values, rule.formats, rule.thousands)
        for position in np.flatnonzero(bad.to_numpy()).tolist():
            problems.setdefault(position, []).append(
                f"{column.name}: {values.iat[position]!r} is not a valid {column.type}"
            )
        typed[column.name] = series
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        if rule.negative_amount and "amount" in typed:
            typed[column.name] = typed[column.name].where(~(typed["amount"] < 0), rule.negative_amount)
    for name, series in typed.items():
        result.frame[name] = series.reset_index(drop=True)
    result.quarantine(problems)
    return result


def _extra_json(
    extra: list[tuple[int, str]],
    columns: list[pa.Array],
    misaligned: dict[int, dict[str, str]],
    size: int,
) -> pd.Series:
    """``_extra`` per row: the non-empty cells of unknown columns (and a misaligned row's original
    cells) as a JSON object, as ``json.dumps(..., ensure_ascii=False)`` writes it; None if empty."""
    names = [name for _, name in extra]
    if len(set(names)) != len(names):
        # Repeated header names: a dict keeps the first position and the last value; do it per row.
        cells = [(name, columns[i].to_pylist()) for i, name in extra]
        out = []
        for n in range(size):
            values = {name: column[n] for name, column in cells if column[n]} | misaligned.get(n, {})
            out.append(json.dumps(values, ensure_ascii=False) if values else None)
        return pd.Series(out, dtype=object)
    body = None
    for i, name in extra:
        values = columns[i]
        quoted = pc.binary_join_element_wise('"', values, '"', "")
        special = pc.match_substring_regex(values, r'["\\\x00-\x1f]')
        if pc.any(special).as_py():
            fixed = quoted.to_pylist()
            for n in np.flatnonzero(special.to_numpy(zero_copy_only=False)).tolist():
                fixed[n] = json.dumps(values[n].as_py(), ensure_ascii=False)
            quoted = pa.array(fixed, type=pa.string())
        key = json.dumps(name, ensure_ascii=False) + ": "
        piece = pc.if_else(pc.equal(values, ""), None, pc.binary_join_element_wise(key, quoted, ""))
        # (no null_handling="skip" here: it drops rows whose values are all null)
        body = (
            piece
            if body is None
            else pc.coalesce(pc.binary_join_element_wise(body, piece, ", "), body, piece)
        )
    if body is None:
        out = pd.Series([None] * size, dtype=object)
    else:
        out = pd.Series(pc.binary_join_element_wise("{", body, "}", ""), dtype="str")
    for n, kept in misaligned.items():
        current = out.iat[n]
        values = (json.loads(current) if isinstance(current, str) else {}) | kept
        out.iat[n] = json.dumps(values, ensure_ascii=False) if values else None
    return out


def rows_to_validate(batches: list[Transformed]) -> pd.DataFrame | None:
    """The contract columns of every file's rows, one frame in file order (None when no rows)."""
    frames = [b.frame for b in batches if not b.frame.empty]
    if not frames:
        return None
    columns = [c for c in frames[0].columns if not c.startswith("_")]
    return pd.concat([f[columns] for f in frames], ignore_index=True)


def quarantine_failures(batches: list[Transformed], failures: dict[int, list[str]]) -> None:
    """Quarantine ``failures`` (positions in `rows_to_validate`'s frame) in the files they came from."""
    offset = 0
    for batch in batches:
        if batch.frame.empty:
            continue
        size = len(batch.frame)
        mine = {p - offset: reasons for p, reasons in failures.items() if offset <= p < offset + size}
        batch.quarantine(mine)
        offset += size


def _repair_misaligned(mapped: dict[str, pd.Series], mapping: SourceMapping) -> dict[int, dict[str, str]]:
    """Blank the columns of misaligned rows (see MisalignedRepair); return their original cells by row."""
    originals: dict[int, dict[str, str]] = {}
    for repair in mapping.misaligned_rows:
        cells = mapped[repair.column].astype(str)
        bad = cells.ne("") & ~cells.str.fullmatch(repair.expect)
        for number in np.flatnonzero(bad.to_numpy()):
            kept = {f"_misaligned_{name}": mapped[name].iat[number] for name in repair.blank}
            originals.setdefault(int(number), {}).update(kept)
        for name in repair.blank:
            mapped[name] = mapped[name].where(~bad, "")
    return originals


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def _render_template(
    template: str,
    raw: RawFile,
    lines: list[int],
    header_positions: dict[str, int],
    cell_column: Callable[[int], pd.Series],
) -> pd.Series:
    """Fill ``{name}`` fields from header columns (normalised names) or _file, _file_stem, _line."""
    parts: list[pd.Series | str] = []
    cursor = 0
    for match in _TEMPLATE_FIELD.finditer(template):
        parts.append(template[cursor : match.start()])
        name = match.group(1)
        if name == "_line":
            parts.append(pd.Series(lines, dtype=str).astype(str))
        elif name == "_file":
            parts.append(raw.path.name)
        elif name == "_file_stem":
            parts.append(raw.path.name.split(".")[0])
        elif normalize_header(name) in header_positions:
            parts.append(cell_column(header_positions[normalize_header(name)]))
        else:
            raise FileError(
                f"{raw.path}: template field {{{name}}} is neither a column nor _file/_file_stem/_line"
            )
        cursor = match.end()
    parts.append(template[cursor:])
    result = pd.Series([""] * len(lines), dtype="str")
    for part in parts:
        result = result + part
    return result
