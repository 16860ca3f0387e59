"""Turn a read file into contract-typed rows, and account for every row that cannot be accepted."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from orchestration.contract import Column
from orchestration.ingest.expectations import failing_rows
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
    frame: pd.DataFrame  # contract columns, typed, plus _line and _extra
    rejected: list[Rejected] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def quarantine(self, positions: dict[int, list[str]], texts: list[str]) -> None:
        """Move rows (by position in ``frame``) to the quarantine with their reasons."""
        if not positions:
            return
        lines = self.frame["_line"].to_numpy()
        for position, reasons in sorted(positions.items()):
            self.rejected.append(
                Rejected(int(lines[position]), "quarantined", "; ".join(reasons), texts[position])
            )
        keep = np.ones(len(self.frame), dtype=bool)
        keep[list(positions)] = False
        self.frame = self.frame[keep].reset_index(drop=True)
        texts[:] = [text for text, kept in zip(texts, keep, strict=True) if kept]


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
        parsed = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        result.loc[parsed.index] = result.loc[parsed.index].fillna(parsed.astype("datetime64[us]"))
        todo = todo & result.isna()
    return result.dt.normalize() if as_date else result


def _type_column(column: Column, values: pd.Series, formats: tuple[str, ...], thousands: str | None):
    """Return (typed series, mask of cells that failed to convert)."""
    filled = values.ne("")
    if column.type == "varchar":
        return values.where(filled, None).astype(object), pd.Series(False, index=values.index)
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


def transform(raw: RawFile, mapping: SourceMapping) -> Transformed:
    """Map and type a file's records to its source's contract (expectations come after)."""
    header_positions, column_sources = _resolve_columns(raw, mapping)
    rejected: list[Rejected] = []
    named = [i for i, name in enumerate(raw.header) if name.strip()]
    width = len(raw.header)
    last_named = max(named, default=-1)
    rows: list[list[str]] = []
    lines: list[int] = []
    texts: list[str] = []
    for record in raw.records:
        if record.cells is None:
            rejected.append(Rejected(record.line, "quarantined", record.problem or "unreadable", record.text))
            continue
        cells = record.cells
        if len(cells) != width:
            # Trailing unnamed columns may be missing or empty; anything else is a broken row.
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            elif last_named < len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            else:
                rejected.append(
                    Rejected(
                        record.line,
                        "quarantined",
                        f"has {len(cells)} fields, the header has {width}",
                        record.text,
                    )
                )
                continue
        rows.append([c.strip() for c in cells])
        lines.append(record.line)
        texts.append(record.text)

    cells_frame = (
        pd.DataFrame(rows, columns=range(width), dtype=object)
        if rows
        else pd.DataFrame(columns=range(width), dtype=object)
    )
    mapped: dict[str, pd.Series] = {}
    stem = raw.path.name.split(".")[0]
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        position = column_sources[column.name]
        if position is not None:
            series = cells_frame[position].astype(str)
        elif rule.template is not None:
            series = _render_template(rule.template, cells_frame, header_positions, lines, stem, raw)
        elif rule.constant is not None:
            series = pd.Series([rule.constant] * len(cells_frame), dtype=object)
        else:
            series = pd.Series([""] * len(cells_frame), dtype=object)
        if rule.values:
            series = series.map(lambda v, m=rule.values: m.get(v, v))
        mapped[column.name] = series.astype(object)
    misaligned = _repair_misaligned(mapped, mapping)
    frame = pd.DataFrame(mapped)
    frame["_line"] = pd.Series(lines, dtype="int64")

    used = {p for p in column_sources.values() if p is not None}
    extra = [(i, raw.header[i]) for i in range(width) if i not in used and raw.header[i].strip()]
    if (extra or misaligned) and rows:
        kept = (
            {name: row[i] for i, name in extra if row[i]} | misaligned.get(n, {})
            for n, row in enumerate(rows)
        )
        frame["_extra"] = [json.dumps(values, ensure_ascii=False) if values else None for values in kept]
    else:
        frame["_extra"] = None
    result = Transformed(frame=frame, rejected=rejected, extra_columns=[name for _, name in extra])

    # Rows the mapping sets aside on purpose (e.g. subtotals), each with the mapping's reason.
    set_aside: dict[int, str] = {}
    for rule in mapping.set_aside:
        values = frame[rule.column].astype(str)
        hit = values.eq("") if rule.is_empty else values.str.contains(rule.matches or "", regex=True)
        for position in np.flatnonzero(hit.to_numpy()):
            set_aside.setdefault(int(position), rule.reason)
    if set_aside:
        for position, reason in sorted(set_aside.items()):
            result.rejected.append(Rejected(lines[position], "set_aside", reason, texts[position]))
        keep = np.ones(len(frame), dtype=bool)
        keep[list(set_aside)] = False
        result.frame = frame[keep].reset_index(drop=True)
        texts = [t for t, k in zip(texts, keep, strict=True) if k]

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
        for position in np.flatnonzero(bad.to_numpy()):
            problems.setdefault(int(position), []).append(
                f"{column.name}: {values.iat[position]!r} is not a valid {column.type}"
            )
        typed[column.name] = series
    for column in mapping.source.columns:
        rule = mapping.rule_for(column.name)
        if rule.negative_amount and "amount" in typed:
            typed[column.name] = typed[column.name].where(~(typed["amount"] < 0), rule.negative_amount)
    for name, series in typed.items():
        result.frame[name] = series.reset_index(drop=True)
    result.quarantine(problems, texts)
    result.frame["_raw_text"] = texts
    return result


def apply_expectations(source_name: str, batches: list[Transformed], now: datetime) -> None:
    """Validate several files' rows with the source's suite in one pass and quarantine the failures.

    One Great Expectations validation per source instead of per file: its fixed cost is large.
    """
    batches = [b for b in batches if not b.frame.empty]
    if not batches:
        return
    combined = pd.concat([b.frame for b in batches], ignore_index=True)
    failures = failing_rows(source_name, combined, now)
    offset = 0
    for batch in batches:
        size = len(batch.frame)
        mine = {p - offset: reasons for p, reasons in failures.items() if offset <= p < offset + size}
        texts = batch.frame["_raw_text"].tolist()
        batch.quarantine(mine, texts)
        batch.frame["_raw_text"] = texts
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
    cells: pd.DataFrame,
    header_positions: dict[str, int],
    lines: list[int],
    stem: str,
    raw: RawFile,
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
            parts.append(stem)
        elif normalize_header(name) in header_positions:
            parts.append(cells[header_positions[normalize_header(name)]].astype(str))
        else:
            raise FileError(
                f"{raw.path}: template field {{{name}}} is neither a column nor _file/_file_stem/_line"
            )
        cursor = match.end()
    parts.append(template[cursor:])
    result = pd.Series([""] * len(cells), dtype=object)
    for part in parts:
        result = result + part
    return result
