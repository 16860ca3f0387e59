"""Write a simulation in the landing contract (CSV, UTF-8) and its ground truth apart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.contract import load_contract
from simulator.generate import Simulation
from simulator.regions import REGIONS

MONTHLY = {
    "card_transactions": "transacted_at",
    "expense_claims": "submitted_at",
    "case_outcomes": "opened_at",
    "legacy_alerts": "alerted_at",
}
OUR_FILE = re.compile(r"^(?P<source>[a-z_]+?)(_\d{4}-\d{2})?\.csv$")


def _iso(values: np.ndarray, unit: str, width: int) -> np.ndarray:
    text = np.datetime_as_string(values.astype(f"datetime64[{unit}]"), unit=unit)
    if unit == "s":  # 'YYYY-MM-DDTHH:MM:SS' -> 'YYYY-MM-DD HH:MM:SS'
        codes = text.view(np.uint32).reshape(-1, width)
        codes[:, 10] = ord(" ")
    return text


def timestamps(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` for local-time epoch seconds; negative means unknown (null)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    text = _iso(np.maximum(seconds, 0), "s", 19)
    return pa.array(text, type=pa.string(), mask=seconds < 0)


def dates(day_index: np.ndarray, start: np.datetime64) -> pa.Array:
    days = start + np.asarray(day_index).astype("timedelta64[D]")
    return pa.array(_iso(days, "D", 10), type=pa.string())


def integers(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64), mask=missing), pa.string())


def text(values: Any) -> pa.Array:
    """Strings; None or NaN become null."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        return pa.array(values, type=pa.string())
    values = np.asarray(values, dtype=object)
    return pa.array(np.where(pd.isna(values), None, values), type=pa.string())


def lookup(table: np.ndarray, index: np.ndarray) -> pa.Array:
    return text(table).take(pa.array(np.asarray(index, dtype=np.int64)))


def build_frames(sim: Simulation) -> dict[str, pa.Table]:
    """Every landing source as a table of strings (null = empty cell), in contract column order."""
    co, mf, tx = sim.company, sim.merchants.frame, sim.txns
    start = sim.cal.dates[0]
    ids = text(sim.transaction_ids)
    merchant = tx["merchant"].to_numpy()
    emp_ids = co.employees["employee_id"].to_numpy()
    n = len(tx)
    tables: dict[str, dict[str, pa.Array]] = {}
    tables["card_transactions"] = {
        "transaction_id": ids,
        "card_id": lookup(co.card_ids, tx["card"].to_numpy()),
        "employee_id": lookup(emp_ids, tx["emp"].to_numpy()),
        "transacted_at": timestamps(tx["ts"].to_numpy()),
        "amount": integers(tx["amount"].to_numpy()),
        "currency": pa.array(["KRW"] * n, type=pa.string()),
        "merchant_id": lookup(mf["merchant_id"].to_numpy(), merchant),
        "merchant_name": lookup(mf["merchant_name"].to_numpy(), merchant),
        "mcc": lookup(mf["mcc"].to_numpy(), merchant),
        "merchant_category": lookup(mf["merchant_category"].to_numpy(), merchant),
        "merchant_region": lookup(mf["region"].to_numpy(), merchant),
        "merchant_business_no": lookup(mf["business_no"].to_numpy(), merchant),
        "status": text(tx["status"].to_numpy()),
    }
    emp = co.employees
    tables["employees"] = {col: text(emp[col].to_numpy()) for col in emp.columns if col != "card_limit"}
    tables["employees"]["termination_date"] = text(emp["termination_date"].replace("", None).to_numpy())
    tables["employees"]["card_limit"] = integers(emp["card_limit"].to_numpy())
    leave = co.leave.sort_values(["start", "emp"], kind="stable")
    tables["leave"] = {
        "employee_id": lookup(emp_ids, leave["emp"].to_numpy()),
        "start_date": dates(leave["start"].to_numpy(), start),
        "end_date": dates(leave["end"].to_numpy(), start),
        "leave_type": text(leave["leave_type"].to_numpy()),
    }
    trips = co.trips.sort_values(["start", "emp"], kind="stable")
    tables["trips"] = {
        "employee_id": lookup(emp_ids, trips["emp"].to_numpy()),
        "start_date": dates(trips["start"].to_numpy(), start),
        "end_date": dates(trips["end"].to_numpy(), start),
        "destination_region": lookup(np.array(REGIONS, dtype=object), trips["dest"].to_numpy()),
    }
    master = mf.sort_values("merchant_id", kind="stable")
    tables["merchants"] = {col: text(master[col].to_numpy()) for col in master.columns}
    cl = sim.claims
    claim_tx = cl["tx"].to_numpy()
    attendees = cl["attendee_count"].to_numpy()
    tables["expense_claims"] = {
        "claim_id": text(np.char.add("EC", np.char.zfill(np.arange(1, len(cl) + 1).astype(str), 9))),
        "transaction_id": ids.take(pa.array(claim_tx)),
        "employee_id": lookup(emp_ids, tx["emp"].to_numpy()[claim_tx]),
        "submitted_at": timestamps(cl["submitted"].to_numpy()),
        "purpose_category": text(cl["purpose_category"].to_numpy()),
        "purpose_text": text(cl["purpose_text"].to_numpy()),
        "attendee_count": integers(attendees, attendees <= 0),
        "is_official_event": text(np.where(cl["is_official_event"].to_numpy(dtype=bool), "true", "false")),
    }
    links = sim.misuse.related_parties.drop_duplicates().sort_values(["emp", "business_no"], kind="stable")
    tables["related_parties"] = {
        "employee_id": lookup(emp_ids, links["emp"].to_numpy()),
        "business_no": text(links["business_no"].to_numpy()),
    }
    cases = sim.legacy.cases.sort_values(["opened_at", "tx"], kind="stable")
    recovered = cases["recovered_amount"].to_numpy()
    tables["case_outcomes"] = {
        "transaction_id": ids.take(pa.array(cases["tx"].to_numpy())),
        "alerted_by": text(cases["alerted_by"].to_numpy()),
        "opened_at": timestamps(cases["opened_at"].to_numpy()),
        "explanation_requested_at": timestamps(cases["explanation_requested_at"].to_numpy()),
        "explanation_received_at": timestamps(cases["explanation_received_at"].to_numpy()),
        "decided_at": timestamps(cases["decided_at"].to_numpy()),
        "decision": text(cases["decision"].replace("", None).to_numpy()),
        "recovered_amount": integers(recovered, recovered < 0),
    }
    alerts = sim.legacy.alerts.sort_values(["alerted_at", "tx", "alerted_by"], kind="stable")
    score = alerts["score"].to_numpy(dtype=float)
    score_text = np.array([None if np.isnan(v) else f"{v:.4f}" for v in score], dtype=object)
    tables["legacy_alerts"] = {
        "alert_id": text(np.char.add("LA", np.char.zfill(np.arange(1, len(alerts) + 1).astype(str), 9))),
        "transaction_id": ids.take(pa.array(alerts["tx"].to_numpy())),
        "alerted_by": text(alerts["alerted_by"].to_numpy()),
        "alerted_at": timestamps(alerts["alerted_at"].to_numpy()),
        "score": text(score_text),
    }
    contract = load_contract()
    return {
        name: pa.table({col: columns[col] for col in contract[name].column_names})
        for name, columns in tables.items()
    }


def _needs_quoting(table: pa.Table) -> bool:
    """Whether any text cell holds a comma, a quote or a line break (ids, dates and numbers never do)."""
    free_text = [name for name in table.column_names if not name.endswith(("_id", "_at", "_date", "amount"))]
    return any(pc.any(pc.match_substring_regex(table[name], r'[,"\r\n]')).as_py() for name in free_text)


def _write_csv(table: pa.Table, path: Path, quote: bool) -> None:
    """Plain CSV with a header; quotes only when some value needs them; empty cell for unknown."""
    if quote:
        table.to_pandas().to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return
    options = pacsv.WriteOptions(include_header=True, quoting_style="none", quoting_header="none")
    pacsv.write_csv(table, path, write_options=options)


def clear_previous(landing: Path) -> list[Path]:
    """Remove files an earlier simulation wrote (``<source>.csv`` or ``<source>_YYYY-MM.csv``)."""
    removed = []
    for source in load_contract():
        folder = landing / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            match = OUR_FILE.match(path.name)
            if match and match.group("source") == source:
                path.unlink()
                removed.append(path)
    return removed


def write_landing(tables: dict[str, pa.Table], landing: Path) -> dict[str, list[Path]]:
    """One file per source, or one per month for the monthly sources (tables are sorted by that month)."""
    clear_previous(landing)
    written: dict[str, list[Path]] = {}
    for source, table in tables.items():
        folder = landing / source
        folder.mkdir(parents=True, exist_ok=True)
        written[source] = []
        quote = _needs_quoting(table)
        column = MONTHLY.get(source)
        if column is None:
            path = folder / f"{source}.csv"
            _write_csv(table, path, quote)
            written[source].append(path)
            continue
        month = pc.utf8_slice_codeunits(table[column], 0, 7).to_numpy(zero_copy_only=False).astype(str)
        if len(month) and (month[1:] < month[:-1]).any():
            raise ValueError(f"{source} is not sorted by {column}")
        values, first = np.unique(month, return_index=True)
        bounds = [*first.tolist(), len(month)]
        for i, value in enumerate(values):
            path = folder / f"{source}_{value}.csv"
            _write_csv(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path, quote)
            written[source].append(path)
    return written


def write_truth(sim: Simulation, calibration: dict[str, Any], truth: Path) -> list[Path]:
    """Ground truth the product never reads: per-transaction labels, misusers, calibration."""
    truth.mkdir(parents=True, exist_ok=True)
    tx = sim.txns
    typology = tx["typology"].to_numpy().astype(object)
    labels = pa.table(
        {
            "transaction_id": pa.array(sim.transaction_ids, type=pa.string()),
            "is_misuse": pa.array(typology != "", type=pa.bool_()),
            "typology": pa.array(np.where(typology == "", None, typology), type=pa.string()),
            "amount_at_stake": pa.array(tx["at_stake"].to_numpy().astype(np.int64), type=pa.int64()),
        }
    )
    path = truth / "transactions.parquet"
    pq.write_table(labels, path)
    emp_ids = sim.company.employees["employee_id"].to_numpy()
    mis = (
        tx[typology != ""]
        .groupby(["emp", "typology"], sort=True)
        .agg(transactions=("amount", "size"), amount_at_stake=("at_stake", "sum"))
    )
    mis = mis.reset_index()
    misusers = pa.table(
        {
            "employee_id": pa.array(emp_ids[mis["emp"].to_numpy()], type=pa.string()),
            "typology": pa.array(mis["typology"].to_numpy(dtype=object), type=pa.string()),
            "transactions": pa.array(mis["transactions"].to_numpy(), type=pa.int64()),
            "amount_at_stake": pa.array(mis["amount_at_stake"].to_numpy(), type=pa.int64()),
        }
    )
    path_m = truth / "misusers.parquet"
    pq.write_table(misusers, path_m)
    path_c = truth / "calibration.json"
    path_c.write_text(json.dumps(calibration, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [path, path_m, path_c]
