"""The Fraud Detection Handbook's simulated transactions in Cardwatch's landing contract.

A customer's card becomes one card and one cardholder (``card_id`` = ``employee_id``), a terminal
a merchant. The labels become case outcomes: the handbook assumes every transaction's true label
is known a fixed delay after it happened, so each transaction gets a case decided at
``transacted_at + delay`` (confirmed for a fraud, cleared otherwise). A prequential split that
uses only outcomes decided before its cut-off then sees exactly the handbook's label delay.
The fraud scenario goes to a separate truth file, as the simulator's ground truth does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

SCENARIOS = {1: "amount_over_220", 2: "compromised_terminal", 3: "compromised_card"}
ALERTED_BY = "external_label"
FDH_FILE = "transactions_2018-04-01_2018-07-31.parquet"


def default_fdh_path() -> Path:
    """``../shared/data/fdh-simulated/<file>`` beside the repository."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fdh-simulated" / FDH_FILE


def read_fdh(path: Path) -> pd.DataFrame:
    """The handbook's parquet, sorted by time, with the columns checked."""
    frame = pd.read_parquet(path)
    expected = {"TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"}
    missing = expected - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if "TX_FRAUD_SCENARIO" not in frame.columns:
        frame["TX_FRAUD_SCENARIO"] = frame["TX_FRAUD"]
    return frame.sort_values(["TX_DATETIME", "TRANSACTION_ID"], kind="stable").reset_index(drop=True)


def card_transactions(frame: pd.DataFrame, currency: str = "EUR") -> pd.DataFrame:
    """The ``card_transactions`` source. Zero amounts pass through; ingest quarantines them."""
    card = "C" + frame["CUSTOMER_ID"].astype(str).str.zfill(5)
    return pd.DataFrame(
        {
            "transaction_id": frame["TRANSACTION_ID"].astype(str),
            "card_id": card,
            "employee_id": card,
            "transacted_at": frame["TX_DATETIME"].astype("datetime64[us]"),
            "amount": frame["TX_AMOUNT"].round(2),
            "currency": currency,
            "merchant_id": "T" + frame["TERMINAL_ID"].astype(str).str.zfill(5),
            "status": "approved",
        }
    )


def case_outcomes(frame: pd.DataFrame, delay_days: int = 7, frauds_only: bool = False) -> pd.DataFrame:
    """The ``case_outcomes`` source: one decided case per labelled transaction.

    Parameters
    ----------
    frame : DataFrame
        The handbook's transactions.
    delay_days : int
        Days between a transaction and the decision on it (the handbook's label delay).
    frauds_only : bool
        Write only the confirmed frauds; a reader must then treat transactions without a case as
        unlabelled, not as genuine.
    """
    rows = frame[frame["TX_FRAUD"] == 1] if frauds_only else frame
    at = rows["TX_DATETIME"].astype("datetime64[us]")
    fraud = rows["TX_FRAUD"].to_numpy() == 1
    return pd.DataFrame(
        {
            "transaction_id": rows["TRANSACTION_ID"].astype(str).to_numpy(),
            "alerted_by": ALERTED_BY,
            "opened_at": at.to_numpy(),
            "decided_at": (at + pd.Timedelta(days=delay_days)).to_numpy(),
            "decision": np.where(fraud, "confirmed", "cleared"),
        }
    )


def truth(frame: pd.DataFrame) -> pd.DataFrame:
    """Ground truth in the simulator's shape: transaction_id, is_misuse, typology, amount_at_stake."""
    fraud = frame["TX_FRAUD"].to_numpy() == 1
    typology = frame["TX_FRAUD_SCENARIO"].map(SCENARIOS)
    return pd.DataFrame(
        {
            "transaction_id": frame["TRANSACTION_ID"].astype(str).to_numpy(),
            "is_misuse": fraud,
            "typology": typology.where(fraud, None).to_numpy(),
            "amount_at_stake": np.where(fraud, frame["TX_AMOUNT"].to_numpy(), 0.0),
        }
    )


@dataclass(frozen=True)
class AdapterReport:
    """What was written."""

    transactions: int
    zero_amounts: int
    outcomes: int
    confirmed: int
    files: list[Path]


def write_landing(
    source: Path,
    landing: Path,
    truth_dir: Path,
    delay_days: int = 7,
    frauds_only: bool = False,
    currency: str = "EUR",
) -> AdapterReport:
    """Write ``landing/card_transactions``, ``landing/case_outcomes`` and ``truth_dir``'s labels."""
    frame = read_fdh(source)
    tx = card_transactions(frame, currency)
    outcomes = case_outcomes(frame, delay_days, frauds_only)
    labels = truth(frame)
    targets = {
        landing / "card_transactions" / "fdh_transactions.parquet": tx,
        landing / "case_outcomes" / "fdh_case_outcomes.parquet": outcomes,
        truth_dir / "fdh_transactions.parquet": labels,
    }
    for path, data in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        data.to_parquet(path, index=False)
        logger.info("wrote %s (%d rows)", path, len(data))
    return AdapterReport(
        transactions=len(tx),
        zero_amounts=int((tx["amount"] == 0).sum()),
        outcomes=len(outcomes),
        confirmed=int((outcomes["decision"] == "confirmed").sum()),
        files=list(targets),
    )
