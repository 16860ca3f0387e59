"""One simulation run: company, spending, misuse, claims, legacy history; frames ready to write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.claims import build_claims
from simulator.company import Calendar, Company, build_company
from simulator.config import SimOptions, load_params
from simulator.legacy import LegacyResult, run_legacy
from simulator.merchants import Categories, Merchants, build_merchants
from simulator.misuse import MisuseResult, weave_misuse
from simulator.regions import REGIONS
from simulator.spending import Draw, legitimate_spending, refunds_and_cancellations

DAY = 86400
TEXT_COLUMNS = ("purpose", "note", "typology", "status")


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Label columns as plain object arrays: row selection on big frames stays a cheap pointer take."""
    for column in TEXT_COLUMNS:
        frame[column] = pd.Series(frame[column].to_numpy(dtype=object), index=frame.index, dtype=object)
    return frame


@dataclass
class Simulation:
    """Everything a run produced, in internal form (indices into company and merchant tables)."""

    options: SimOptions
    params: dict[str, Any]
    rates: dict[str, float]
    cal: Calendar
    cats: Categories
    company: Company
    merchants: Merchants
    txns: pd.DataFrame  # one row per card transaction, sorted, with truth columns
    transaction_ids: np.ndarray
    claims: pd.DataFrame
    misuse: MisuseResult
    legacy: LegacyResult
    now_ts: int
    timings: dict[str, float] = field(default_factory=dict)


def _epoch(date: dt.date | np.datetime64) -> int:
    return int(np.datetime64(date, "s").astype(np.int64))


def simulate_company(options: SimOptions, progress: Callable[[str], None] | None = None) -> Simulation:
    """Run the whole simulation in memory."""
    say = progress or (lambda message: None)
    params = load_params(options.params_file)
    rates = options.typology_rates(params)
    # one independent stream per stage, so a change in one stage leaves the others' draws alone
    streams = [np.random.default_rng(child) for child in np.random.SeedSequence(options.seed).spawn(7)]
    rng_merchants, rng_company, rng_spending, rng_misuse, rng_ids, rng_claims, rng_legacy = streams
    cal = Calendar.build(options.start, options.months, options.today)
    now_ts = _epoch(options.today)
    start_ts = _epoch(cal.dates[0])
    end_ts = start_ts + cal.n_days * DAY

    say(f"company: {options.employees:,} employees over {cal.n_days} days")
    cats = Categories.load()
    merchants = build_merchants(rng_merchants, cats)
    company = build_company(rng_company, options.employees, cal, params)
    draw = Draw(rng_spending, cal, company, cats, params)
    draw.merchants = merchants

    say("ordinary spending")
    legit = _plain_text(legitimate_spending(draw))
    todo = legit["merchant"].to_numpy() < 0
    legit.loc[todo, "merchant"] = merchants.pick(
        rng_spending, legit.loc[todo, "region"].to_numpy(), legit.loc[todo, "category"].to_numpy()
    )
    negatives = refunds_and_cancellations(draw, legit)

    say(f"misuse: {len(rates)} typologies")
    business_no = merchants.frame["business_no"].to_numpy()
    draw.rng = rng_misuse
    mis = weave_misuse(draw, legit, rates, len(legit) + len(negatives), business_no)
    legit["double_claim"] = False
    if len(mis.double_claimed):
        legit.loc[mis.double_claimed, "typology"] = "duplicate_claim"
        legit.loc[mis.double_claimed, "at_stake"] = legit.loc[mis.double_claimed, "amount"]
        legit.loc[mis.double_claimed, "double_claim"] = True
    bad = mis.rows
    if len(bad):
        todo = bad["merchant"].to_numpy() < 0
        bad.loc[todo, "merchant"] = merchants.pick(
            rng_misuse, bad.loc[todo, "region"].to_numpy(), bad.loc[todo, "category"].to_numpy()
        )
        bad["double_claim"] = False
    negatives["double_claim"] = False

    txns = pd.concat([legit, negatives, bad], ignore_index=True)
    for column in TEXT_COLUMNS:  # categorical labels: cheap to compare, filter and reorder
        txns[column] = txns[column].astype("category")
    txns["ts"] = start_ts + txns["day"].to_numpy() * DAY + txns["sec"].to_numpy()
    txns = txns[(txns["ts"] >= start_ts) & (txns["ts"] < min(end_ts, now_ts)) & (txns["amount"] != 0)]
    # merchant region and category come from the merchant master
    txns["region"] = merchants.region[txns["merchant"].to_numpy()]
    txns["category"] = merchants.category[txns["merchant"].to_numpy()]
    order = np.lexsort(
        (
            txns["amount"].to_numpy(),
            txns["merchant"].to_numpy(),
            txns["card"].to_numpy(),
            txns["ts"].to_numpy(),
        )
    )
    txns = txns.iloc[order].reset_index(drop=True)
    txns["tx_index"] = np.arange(len(txns))
    ids = rng_ids.choice(9_000_000_000, size=len(txns), replace=False) + 1_000_000_000
    transaction_ids = np.char.add("T", ids.astype(str))

    say(f"claims for {len(txns):,} transactions")
    txns["dept"] = company.dept[txns["emp"].to_numpy()]
    local = txns["ts"].to_numpy().astype("datetime64[s]")
    txns["month_of_year"] = local.astype("datetime64[M]").astype(int) % 12 + 1
    txns["year"] = local.astype("datetime64[Y]").astype(int) + 1970
    claims = build_claims(
        txns,
        np.array(company.dept_names, dtype=object),
        np.array(REGIONS, dtype=object),
        params,
        rng_claims,
        now_ts,
    )

    say("legacy filters and reviewers")
    legacy = run_legacy(rng_legacy, txns, cats, cal, params, now_ts, company.n)
    return Simulation(
        options=options,
        params=params,
        rates=rates,
        cal=cal,
        cats=cats,
        company=company,
        merchants=merchants,
        txns=txns,
        transaction_ids=transaction_ids,
        claims=claims,
        misuse=mis,
        legacy=legacy,
        now_ts=now_ts,
    )
