"""Misuse typologies woven into the card use, each with its ground truth.

Each typology draws a Poisson number of *events* from its configured rate (a share of all card
transactions) and gives them to a minority of employees: some habitual (repeating over months), most
one-off. An event is one or more transactions; ``at_stake`` is the amount an auditor would recover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulator.company import GRADES
from simulator.merchants import business_numbers
from simulator.regions import REGION_INDEX
from simulator.spending import Draw, frame

TIMES: dict[str, tuple[float, float, float]] = {
    "evening": (18.3, 19.2, 21.0),
    "day": (10.0, 14.0, 19.5),
    "late": (19.5, 22.5, 26.5),
    "golf": (7.0, 11.0, 19.0),
}
DAYTIME_CATEGORIES = {
    "사무용품",
    "인쇄",
    "꽃집",
    "전자제품",
    "대형마트",
    "백화점",
    "약국",
    "상품권",
    "기프트카드",
}
RESTAURANTS = {"한식", "중식", "일식", "양식", "고깃집", "분식", "패스트푸드"}


@dataclass
class MisuseResult:
    """Misuse rows, legitimate rows turned into duplicate claims, related parties, event counts."""

    rows: pd.DataFrame
    double_claimed: np.ndarray  # indices into the legitimate frame
    related_parties: pd.DataFrame
    events: dict[str, int] = field(default_factory=dict)
    misusers: dict[str, int] = field(default_factory=dict)


class Weaver:
    """Places misuse events on employees and days."""

    def __init__(
        self, draw: Draw, legit: pd.DataFrame, merchants_business_no: np.ndarray, rates: dict[str, float]
    ) -> None:
        self.draw = draw
        self.rng = draw.rng
        self.co = draw.co
        self.cal = draw.cal
        self.p = draw.params["misuse"]
        self.legit = legit
        self.business_no = merchants_business_no
        self.free = self.co.employed & ~self.co.on_leave & ~self.co.on_trip
        self.workday = self.cal.is_workday
        self.misuser_ids: dict[str, np.ndarray] = {}
        # habitual misusers and the typologies each practises
        names = list(rates)
        weight = np.array([rates[k] for k in names], dtype=float)
        habitual = np.flatnonzero(self.rng.random(self.co.n) < self.p["prone_share"])
        lo, hi = self.p["typologies_per_habitual"]
        self.practice: dict[str, np.ndarray] = {k: np.array([], dtype=np.int64) for k in names}
        if len(names) and weight.sum() > 0:
            chosen: dict[str, list[int]] = {k: [] for k in names}
            for emp in habitual:
                k = min(len(names), int(self.rng.integers(lo, hi + 1)))
                for t in self.rng.choice(len(names), size=k, replace=False, p=weight / weight.sum()):
                    chosen[names[t]].append(int(emp))
            self.practice = {k: np.array(sorted(v), dtype=np.int64) for k, v in chosen.items()}

    # -- who and when -------------------------------------------------------------------------
    def assign(
        self,
        eligible: np.ndarray,
        n_events: int,
        name: str,
        habitual_share: float | None = None,
        window: tuple[int, int] | None = None,
        events_scale: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Employee and active window [lo, hi) per event: mostly habitual misusers, some one-off."""
        empty = np.array([], dtype=np.int64)
        if n_events == 0 or len(eligible) == 0:
            self.misuser_ids[name] = empty
            return empty, empty, empty
        share = self.p["habitual_event_share"] if habitual_share is None else habitual_share
        n_hab = int(self.rng.binomial(n_events, share))
        n_one = n_events - n_hab
        key = name.split(":")[0]
        pool = np.intersect1d(self.practice.get(key, empty), eligible)
        if not len(pool):
            pool = self.rng.choice(eligible, size=min(len(eligible), 3), replace=False)
        # habitual: active periods of 1 + Poisson events, cycling through the pool
        periods = []
        left = n_hab
        while left > 0:
            order = self.rng.permutation(pool)
            count = 1 + self.rng.poisson((self.p["habitual_events"] - 1) * events_scale, len(order))
            cum = np.cumsum(count)
            stop = int(np.searchsorted(cum, left))
            if stop < len(order):
                count = count[: stop + 1].copy()
                count[-1] -= cum[stop] - left
                order = order[: stop + 1]
            periods.append((order, count))
            left -= int(count.sum())
        who = np.concatenate([o for o, _ in periods]) if periods else empty
        count = np.concatenate([c for _, c in periods]) if periods else empty
        lo_w, hi_w = window or tuple(self.p["habitual_window_days"])
        n_days = self.cal.n_days
        length = np.minimum(self.rng.integers(lo_w, hi_w + 1, len(who)), n_days)
        lo = (self.rng.random(len(who)) * (n_days - length + 1)).astype(np.int64)
        one = self.rng.choice(eligible, size=n_one, replace=n_one > len(eligible))
        emp = np.concatenate([np.repeat(who, count), one])
        lo_all = np.concatenate([np.repeat(lo, count), np.zeros(n_one, dtype=np.int64)])
        hi_all = np.concatenate([np.repeat(lo + length, count), np.full(n_one, n_days, dtype=np.int64)])
        self.misuser_ids[name] = np.unique(emp)
        return emp, lo_all, hi_all

    def days(
        self,
        emp: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        mask: np.ndarray,
        weight: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """One day per event inside its window where ``mask`` holds (-1 when none)."""
        if len(emp) == 0:
            return np.array([], dtype=np.int64)
        out = np.empty(len(emp), dtype=np.int64)
        n_days = self.cal.n_days
        d = np.arange(n_days)
        for start in range(0, len(emp), 8192):
            sl = slice(start, start + 8192)
            rows = mask[emp[sl]]
            inside = (d[None, :] >= lo[sl, None]) & (d[None, :] < hi[sl, None])
            ok = rows & inside
            ok = np.where(ok.any(axis=1)[:, None], ok, rows)  # window full: anywhere allowed
            keys = np.log(self.rng.random(ok.shape) + 1e-12)
            if weight is not None:
                keys = keys / np.maximum(weight(d, lo[sl], hi[sl]), 1e-6)
            keys[~ok] = -np.inf
            pick = keys.argmax(axis=1)
            out[sl] = np.where(ok.any(axis=1), pick, -1)
        return out

    def weekday_mask(self, base: np.ndarray) -> np.ndarray:
        """Mostly workdays, a small share of events on off days."""
        off = self.rng.random(base.shape[0]) < self.p["weekend_share"]
        return base & np.where(off[:, None], self.cal.is_offday[None, :], self.workday[None, :])

    # -- rows --------------------------------------------------------------------------------
    def rows(
        self,
        name: str,
        emp: np.ndarray,
        day: np.ndarray,
        sec: np.ndarray,
        cat: np.ndarray,
        region: np.ndarray,
        amount: np.ndarray,
        purpose: str,
        note: str,
        attendees: np.ndarray | int = 0,
        card: np.ndarray | None = None,
        claim_share: float | None = None,
        at_stake: np.ndarray | None = None,
    ) -> pd.DataFrame:
        keep = day >= 0
        out = frame(
            self.draw,
            emp[keep],
            day[keep],
            np.asarray(sec)[keep],
            np.asarray(cat)[keep],
            np.asarray(region)[keep],
            np.asarray(amount)[keep],
            purpose,
            note,
            np.broadcast_to(np.asarray(attendees), emp.shape)[keep],
            card=None if card is None else card[keep],
        )
        out["typology"] = name
        out["at_stake"] = out["amount"] if at_stake is None else np.asarray(at_stake)[keep]
        share = self.p["claim_share"] if claim_share is None else claim_share
        out["claim"] = self.rng.random(len(out)) < share
        return out

    def times(self, cat: np.ndarray, default: str = "evening") -> np.ndarray:
        names = np.array(self.draw.cats.names, dtype=object)[cat]
        daytime = np.isin(names, list(DAYTIME_CATEGORIES))
        lo, mode, hi = TIMES[default]
        day_lo, day_mode, day_hi = TIMES["day"]
        return np.where(
            daytime,
            self.draw.seconds(len(cat), day_lo, day_mode, day_hi),
            self.draw.seconds(len(cat), lo, mode, hi),
        )

    def people(self, cat: np.ndarray, lo: int = 2, hi: int = 6) -> np.ndarray:
        names = np.array(self.draw.cats.names, dtype=object)[cat]
        return np.where(np.isin(names, list(RESTAURANTS)), self.rng.integers(lo, hi + 1, len(cat)), 0)

    def disguise(self, cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Purpose and note a misuser writes on the claim for a purchase of this category."""
        names = np.array(self.draw.cats.names, dtype=object)[cat]
        eating = np.isin(names, list(RESTAURANTS | {"카페", "제과점", "일반주점", "호프", "와인바"}))
        client = self.rng.random(len(cat)) < 0.5
        purpose = np.where(eating, np.where(client, "client_entertainment", "team_dinner"), "supplies")
        note = np.where(eating, np.where(client, "client", "team_dinner"), "supplies")
        fuel = np.isin(names, ["주유소", "택시", "주차"])
        purpose = np.where(fuel, "transport", purpose)
        note = np.where(fuel, "fuel", note)
        return purpose, note

    def with_disguise(self, out: pd.DataFrame) -> pd.DataFrame:
        purpose, note = self.disguise(out["category"].to_numpy())
        out["purpose"] = purpose
        out["note"] = note
        return out


def _restricted(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.arange(w.co.n), n, name)
    factor = np.array(w.draw.params["spending"]["weekday_factor"])[w.cal.weekday]
    day = w.days(emp, lo, hi, w.free, lambda d, a, b: np.broadcast_to(factor[d], (len(a), len(d))))
    cat = w.draw.mix(w.p["restricted_categories"], len(emp))
    names = np.array(w.draw.cats.names, dtype=object)[cat]
    golf = np.isin(names, ["골프장", "스크린골프", "골프연습장"])
    sec = np.where(golf, w.draw.seconds(len(emp), *TIMES["golf"]), w.draw.seconds(len(emp), *TIMES["late"]))
    region = np.where(w.rng.random(len(emp)) < 0.6, w.co.work_region[emp], w.co.home_region[emp])
    people = w.rng.integers(2, 5, len(emp))
    amount = w.draw.amount(cat, np.where(golf & (names == "골프장"), people, 1))
    out = w.rows(name, emp, day, sec, cat, region, amount, "client_entertainment", "client", people)
    out.loc[np.isin(out["category"], w.draw.cats.indices(["골프장", "스크린골프"])), "note"] = "golf"
    return out


def _near_home(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.arange(w.co.n), n, name)
    kinds = list(w.p["near_home_when"])
    share = np.array([w.p["near_home_when"][k] for k in kinds])
    kind = np.array(kinds)[w.rng.choice(len(kinds), len(emp), p=share / share.sum())]
    base = w.co.employed & ~w.co.on_trip & ~w.co.on_leave
    off = kind == "weekend"
    mask_rows = np.where(off[:, None], w.cal.is_offday[None, :], w.workday[None, :])
    day = w.days(np.arange(len(emp)), lo, hi, base[emp] & mask_rows)
    cat = w.draw.mix(w.p["near_home_categories"], len(emp))
    sec = np.select(
        [kind == "weekend", kind == "evening"],
        [w.draw.seconds(len(emp), 10.0, 15.0, 21.5), w.draw.seconds(len(emp), 19.0, 20.3, 22.98)],
        w.draw.seconds(len(emp), 23.02, 23.6, 25.8),
    )
    people = w.people(cat, 1, 3)
    amount = w.draw.amount(cat, np.maximum(people, 1), w.rng.uniform(1.0, 1.5, len(emp)))
    out = w.rows(name, emp, day, sec, cat, w.co.home_region[emp], amount, "", "", people)
    return w.with_disguise(out)


def _split_parts(w: Weaver, total: np.ndarray, max_parts: int | None = None) -> list[np.ndarray]:
    """Split each total into parts all under the approval line."""
    line = w.draw.params["amounts"]["approval_line"]
    k = np.maximum(2, np.ceil(total / (line * w.rng.uniform(0.8, 0.98, len(total))))).astype(np.int64)
    if max_parts is not None:
        k = np.minimum(k, max_parts)
        total = np.minimum(total, (k * line * 0.97).astype(np.int64))
    k_max = int(k.max()) if len(k) else 2
    weights = w.rng.uniform(0.75, 1.25, (len(total), k_max)) * (np.arange(k_max)[None, :] < k[:, None])
    parts = weights / weights.sum(axis=1, keepdims=True) * total[:, None]
    parts = np.minimum(np.round(parts / 100) * 100, line - 100).astype(np.int64)
    return [parts[:, j] for j in range(k_max)]


def _split(w: Weaver, n: int, name: str, mode: str) -> pd.DataFrame:
    senior = np.flatnonzero(w.co.grade >= GRADES.index("대리"))
    eligible = np.flatnonzero(w.co.second_card >= 0) if mode == "two_cards" else senior
    emp, lo, hi = w.assign(eligible, n, name)
    if len(emp) == 0:
        return pd.DataFrame()
    day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(w.free[emp]))
    cat = w.draw.mix(w.p["split_categories"], len(emp))
    median, sigma = w.p["split_total"]
    line = w.draw.params["amounts"]["approval_line"]
    total = np.maximum(line * 1.1, median * np.exp(sigma * w.rng.standard_normal(len(emp)))).astype(np.int64)
    parts = _split_parts(w, total, 2 if mode == "two_cards" else None)
    region = w.co.work_region[emp]
    sec0 = w.times(cat)
    people = w.people(cat, 4, 10)
    merchant = w.draw.merchants.pick(w.rng, region, cat)
    # the next workday after a day, for parts split across days
    next_work = np.full(w.cal.n_days + 40, -1, dtype=np.int64)
    nxt = -1
    for d in range(w.cal.n_days - 1, -1, -1):
        if w.workday[d]:
            nxt = d
        next_work[d] = nxt
    out = []
    part_day = day.copy()
    for j, amount in enumerate(parts):
        has = amount > 0
        card = w.co.primary_card[emp]
        sec = sec0 + j * w.rng.integers(40, 600, len(emp))
        if mode == "two_cards" and j == 1:
            card = w.co.second_card[emp]
        if mode == "across_days" and j > 0:
            step = w.rng.integers(1, w.p["split_max_gap_days"] + 1, len(emp))
            cand = np.minimum(part_day + step, w.cal.n_days - 1)
            part_day = np.where(part_day >= 0, next_work[cand], -1)
            sec = w.times(cat)
        d = np.where(has, part_day if mode == "across_days" else day, -1)
        rows = w.rows(name, emp, d, sec, cat, region, amount, "", "", people, card=card)
        rows["merchant"] = merchant[d >= 0]
        out.append(w.with_disguise(rows))
    return pd.concat(out, ignore_index=True)


def _leave(w: Weaver, n: int, name: str) -> pd.DataFrame:
    on_leave = w.co.on_leave & w.co.employed
    emp, lo, hi = w.assign(np.flatnonzero(on_leave.any(axis=1)), n, name)
    day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(on_leave[emp]))
    cat = w.draw.mix(w.p["leave_categories"], len(emp))
    away = w.rng.random(len(emp)) < w.p["leave_away_share"]
    leisure = np.array([REGION_INDEX[r] for r in w.draw.params["misuse"]["fake_trip_regions"]])
    region = np.where(away, leisure[w.rng.integers(0, len(leisure), len(emp))], w.co.home_region[emp])
    people = w.people(cat, 1, 4)
    amount = w.draw.amount(cat, np.maximum(people, 1))
    out = w.rows(name, emp, day, w.times(cat, "day"), cat, region, amount, "", "", people, claim_share=0.6)
    return w.with_disguise(out)


def _after_termination(w: Weaver, n: int, name: str) -> pd.DataFrame:
    n_days = w.cal.n_days
    d = np.arange(n_days)
    lo_d, hi_d = w.p["after_termination_days"]
    gone = np.flatnonzero(w.co.term_day < n_days - 1)
    after = (d[None, :] > w.co.term_day[gone, None] + lo_d - 1) & (
        d[None, :] <= w.co.term_day[gone, None] + hi_d
    )
    spare = np.flatnonzero((w.co.second_card >= 0) & ~w.co.second_in_use)
    idle = w.free[spare] & (d[None, :] >= w.p["dormant_days"])
    spare = spare[idle.any(axis=1)]
    n_dormant = int(w.rng.binomial(n, w.p["dormant_share"])) if len(spare) and len(gone) else 0
    if not len(gone):
        n_dormant = n if len(spare) else 0
    out = []
    if len(gone) and n - n_dormant > 0:
        mask = np.zeros((w.co.n, n_days), dtype=bool)
        mask[gone] = after
        emp, lo, hi = w.assign(gone, n - n_dormant, name + ":terminated")
        day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(mask[emp]))
        cat = w.draw.mix(w.p["ordinary_categories"], len(emp))
        region = np.where(w.rng.random(len(emp)) < 0.6, w.co.home_region[emp], w.co.work_region[emp])
        amount = w.draw.amount(cat, np.maximum(w.people(cat, 1, 3), 1))
        out.append(w.rows(name, emp, day, w.times(cat, "day"), cat, region, amount, "", "", claim_share=0.1))
    if n_dormant:
        mask = np.zeros((w.co.n, n_days), dtype=bool)
        mask[spare] = w.free[spare] & (d[None, :] >= w.p["dormant_days"])
        emp, lo, hi = w.assign(spare, n_dormant, name + ":dormant")
        day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(mask[emp]))
        cat = w.draw.mix(w.p["ordinary_categories"], len(emp))
        region = np.where(w.rng.random(len(emp)) < 0.5, w.co.home_region[emp], w.co.work_region[emp])
        amount = w.draw.amount(cat, np.maximum(w.people(cat, 1, 3), 1))
        out.append(
            w.rows(
                name,
                emp,
                day,
                w.times(cat, "day"),
                cat,
                region,
                amount,
                "",
                "",
                card=w.co.second_card[emp],
                claim_share=0.5,
            )
        )
    w.misuser_ids[name] = np.unique(
        np.concatenate(
            [
                w.misuser_ids.pop(k, np.array([], dtype=np.int64))
                for k in (name + ":terminated", name + ":dormant")
            ]
        )
    )
    return w.with_disguise(pd.concat(out, ignore_index=True)) if out else pd.DataFrame()


def _duplicate(w: Weaver, n: int, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    legit = w.legit
    routine = ["lunch", "meeting", "taxi", "fuel", "supplies", "overtime", "trip_meal", "trip_taxi", "client"]
    ok = (
        legit["note"].isin(routine).to_numpy()
        & (legit["typology"] == "").to_numpy()
        & legit["claim"].to_numpy()
        & (legit["status"] == "approved").to_numpy()
        & (legit["amount"] > 0).to_numpy()
    )
    pool = np.flatnonzero(ok)
    pool = pool[np.argsort(legit["emp"].to_numpy()[pool], kind="stable")]
    pool_emp = legit["emp"].to_numpy()[pool]
    emp, _, _ = w.assign(np.unique(pool_emp), n, name)
    if len(emp) == 0:
        return pd.DataFrame(), np.array([], dtype=np.int64)
    start = np.searchsorted(pool_emp, emp, side="left")
    stop = np.searchsorted(pool_emp, emp, side="right")
    chosen = pool[start + (w.rng.random(len(emp)) * (stop - start)).astype(np.int64)]
    second_txn = w.rng.random(len(emp)) < w.p["duplicate_second_txn_share"]
    double = np.unique(chosen[~second_txn])
    src = legit.loc[chosen[second_txn]].copy()
    src["sec"] = src["sec"] + w.rng.integers(3600, 30 * 3600, len(src))
    src["typology"] = name
    src["at_stake"] = src["amount"]
    src["claim"] = True
    return src.reset_index(drop=True), double


def _inflated(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.flatnonzero(w.co.grade >= GRADES.index("대리")), n, name)
    day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(w.free[emp]))
    # the bill looks like any team dinner; only the claimed head count is false
    cat = w.draw.mix(w.draw.params["spending"]["team_dinner_categories"], len(emp))
    shown = w.rng.integers(4, 13, len(emp))
    amount = w.draw.amount(cat, shown)
    line = w.draw.params["amounts"]["approval_line"]
    amount = np.where(amount >= line, (line * w.rng.uniform(0.84, 0.998, len(emp)) // 1000 * 1000), amount)
    amount = amount.astype(np.int64)
    p_lo, p_hi = w.p["inflated_true_per_person"]
    real = np.maximum(1, np.round(amount / w.rng.uniform(p_lo, p_hi, len(emp)))).astype(np.int64)
    cap = w.draw.params["amounts"]["per_person_cap"]
    claimed = np.ceil(amount / (cap * w.rng.uniform(0.78, 0.998, len(emp)))).astype(np.int64)
    claimed = np.maximum(claimed, real + 1)
    at_stake = np.maximum(amount - cap * real, 1000)
    client = w.rng.random(len(emp)) < 0.5
    out = w.rows(
        name,
        emp,
        day,
        w.times(cat),
        cat,
        w.co.work_region[emp],
        amount,
        "team_dinner",
        "team_dinner",
        claimed,
        claim_share=1.0,
        at_stake=at_stake,
    )
    keep = day >= 0
    out.loc[client[keep], "purpose"] = "client_entertainment"
    out.loc[client[keep], "note"] = "client"
    return out


def _related_party(w: Weaver, n: int, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    emp, lo, hi = w.assign(np.arange(w.co.n), n, name, habitual_share=0.97)
    misusers = w.misuser_ids[name]
    m_cat = w.draw.mix(w.p["related_party_categories"], len(misusers))
    m_merchant = w.draw.merchants.pick(w.rng, w.co.work_region[misusers], m_cat, skew=1.0)
    pos = np.searchsorted(misusers, emp)
    merchant = m_merchant[pos]
    cat = m_cat[pos]
    day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(w.free[emp]))
    f_lo, f_hi = w.p["related_party_factor"]
    people = w.people(cat, 2, 4)
    line = w.draw.params["amounts"]["approval_line"]
    amount = w.draw.amount(cat, np.maximum(people, 1), w.rng.uniform(f_lo, f_hi, len(emp)))
    amount = np.minimum(amount, int(line * 0.98))
    out = w.rows(
        name, emp, day, w.times(cat), cat, w.co.work_region[emp], amount, "", "", people, claim_share=0.95
    )
    out["merchant"] = merchant[day >= 0]
    out = w.with_disguise(out)
    # links on file: the misusers' businesses, and honest employees' businesses they never misuse
    honest = np.flatnonzero(w.rng.random(w.co.n) < w.draw.params["company"]["related_party_share"])
    honest = honest[~np.isin(honest, misusers)]
    in_master = w.rng.random(len(honest)) < 0.5
    known = w.business_no[w.rng.integers(0, len(w.business_no), len(honest))]
    fresh = business_numbers(w.rng, len(honest))
    links = pd.DataFrame(
        {
            "emp": np.concatenate([misusers, honest]),
            "business_no": np.concatenate([w.business_no[m_merchant], np.where(in_master, known, fresh)]),
        }
    )
    return out, links


def _limit_hugging(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.flatnonzero(w.co.grade >= GRADES.index("대리")), n, name, window=(30, 75))
    day = w.days(np.arange(len(emp)), lo, hi, w.weekday_mask(w.free[emp]))
    cat = w.draw.mix(w.p["limit_categories"], len(emp))
    b_lo, b_hi = w.p["limit_band"]
    line = w.draw.params["amounts"]["approval_line"]
    amount = (np.floor(line * w.rng.uniform(b_lo, b_hi, len(emp)) / 1000) * 1000).astype(np.int64)
    people = w.people(cat, 4, 9)
    out = w.rows(
        name, emp, day, w.times(cat), cat, w.co.work_region[emp], amount, "", "", people, claim_share=0.95
    )
    return w.with_disguise(out)


def _gift_cards(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.arange(w.co.n), n, name)
    factor = np.where(w.workday, 1.0, 0.35)
    day = w.days(emp, lo, hi, w.free, lambda d, a, b: np.broadcast_to(factor[d], (len(a), len(d))))
    cat = w.draw.mix({"상품권": 0.7, "기프트카드": 0.3}, len(emp))
    amounts = np.array(w.p["gift_card_amounts"])
    amount = amounts[w.rng.integers(0, len(amounts), len(emp))]
    region = np.where(w.rng.random(len(emp)) < 0.6, w.co.work_region[emp], w.co.home_region[emp])
    return w.rows(
        name,
        emp,
        day,
        w.draw.seconds(len(emp), 10.0, 14.0, 20.5),
        cat,
        region,
        amount,
        "client_entertainment",
        "client_gift",
    )


def _creep(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(
        np.arange(w.co.n), n, name, habitual_share=1.0, window=(120, 300), events_scale=1.6
    )
    day = w.days(
        np.arange(len(emp)),
        lo,
        hi,
        w.weekday_mask(w.free[emp]),
        lambda d, a, b: np.clip((d[None, :] - a[:, None] + 1) / np.maximum(b - a, 1)[:, None], 0.05, 1.0),
    )
    position = np.clip((day - lo) / np.maximum(hi - lo, 1), 0, 1)
    cat = w.draw.mix(w.p["creep_categories"], len(emp))
    growth = 1 + (w.p["creep_growth"] - 1) * position
    amount = w.draw.amount(cat, 1, growth)
    region = np.where(w.rng.random(len(emp)) < 0.5, w.co.work_region[emp], w.co.home_region[emp])
    sec = w.draw.seconds(len(emp), 11.5, 15.0, 20.5)
    out = w.rows(name, emp, day, sec, cat, region, amount, "supplies", "supplies", claim_share=0.9)
    eating = np.isin(out["category"], w.draw.cats.indices(["편의점", "제과점"]))
    out.loc[eating, "purpose"] = "meal"
    out.loc[eating, "note"] = "meeting"
    return out


def _fake_trip(w: Weaver, n: int, name: str) -> pd.DataFrame:
    emp, lo, hi = w.assign(np.arange(w.co.n), n, name)
    if len(emp) == 0:
        return pd.DataFrame()
    d_lo, d_hi = w.p["fake_trip_days"]
    length = w.rng.integers(d_lo, d_hi + 1, len(emp))
    free = w.free[emp].astype(np.int64)
    cs = np.concatenate([np.zeros((len(emp), 1), dtype=np.int64), np.cumsum(free, axis=1)], axis=1)
    n_days = w.cal.n_days
    d = np.arange(n_days)
    end = np.minimum(d[None, :] + length[:, None], n_days)
    run = cs[np.arange(len(emp))[:, None], end] - cs[:, :n_days]
    ok = (run == length[:, None]) & (d[None, :] + length[:, None] <= n_days)
    thu_fri = np.isin(w.cal.weekday, [3, 4])
    start = w.days(
        np.arange(len(emp)),
        lo,
        hi,
        ok,
        lambda dd, a, b: np.broadcast_to(np.where(thu_fri[dd], 3.0, 1.0), (len(a), len(dd))),
    )
    places = np.array([REGION_INDEX[r] for r in w.p["fake_trip_regions"]])
    dest = places[w.rng.integers(0, len(places), len(emp))]
    same = dest == w.co.work_region[emp]
    dest[same] = places[(np.searchsorted(places, dest[same]) + 1) % len(places)] if same.any() else dest[same]
    cats = w.draw.cats
    parts = []
    mode = w.draw.mix({"철도": 0.3, "항공": 0.4, "렌터카": 0.15, "주유소": 0.15}, len(emp))
    parts.append(
        w.rows(
            name,
            emp,
            start,
            w.draw.seconds(len(emp), 7.0, 9.0, 12.0),
            mode,
            w.co.work_region[emp],
            w.draw.amount(mode),
            "travel",
            "trip_transport",
            claim_share=0.9,
        )
    )
    hotel = np.full(len(emp), cats.index("호텔"))
    parts.append(
        w.rows(
            name,
            emp,
            start,
            w.draw.seconds(len(emp), 16.0, 19.0, 23.5),
            hotel,
            dest,
            w.draw.amount(hotel, 1, length - 1),
            "travel",
            "trip_hotel",
            claim_share=0.9,
        )
    )
    for k in range(int(length.max())):
        has = (length > k) & (start >= 0)
        e = emp[has]
        cat = w.draw.mix({"한식": 0.35, "고깃집": 0.25, "일식": 0.2, "카페": 0.1, "양식": 0.1}, len(e))
        people = w.people(cat, 1, 4)
        parts.append(
            w.rows(
                name,
                e,
                start[has] + k,
                w.draw.seconds(len(e), 11.5, 15.0, 21.0),
                cat,
                dest[has],
                w.draw.amount(cat, np.maximum(people, 1), 1.3),
                "travel",
                "trip_meal",
                people,
                claim_share=0.9,
            )
        )
    return pd.concat(parts, ignore_index=True)


def weave_misuse(
    draw: Draw, legit: pd.DataFrame, rates: dict[str, float], n_base: int, business_no: np.ndarray
) -> MisuseResult:
    """Draw every enabled typology at its rate; ``n_base`` is the count of legitimate transactions."""
    w = Weaver(draw, legit, business_no, rates)
    table = draw.params["misuse"]["typologies"]
    total_rate = sum(rates.values())
    n_total = n_base / max(1e-9, 1 - total_rate)
    parts: list[pd.DataFrame] = []
    double = np.array([], dtype=np.int64)
    links = pd.DataFrame({"emp": np.array([], dtype=np.int64), "business_no": np.array([], dtype=object)})
    events: dict[str, int] = {}
    for name, rate in rates.items():
        per_event = float(table[name]["txns_per_event"])
        n_events = int(w.rng.poisson(rate * n_total / per_event))
        events[name] = n_events
        if name == "restricted_merchant":
            parts.append(_restricted(w, n_events, name))
        elif name == "personal_near_home":
            parts.append(_near_home(w, n_events, name))
        elif name == "split_same_day":
            parts.append(_split(w, n_events, name, "same_day"))
        elif name == "split_across_days":
            parts.append(_split(w, n_events, name, "across_days"))
        elif name == "split_two_cards":
            parts.append(_split(w, n_events, name, "two_cards"))
        elif name == "leave_use":
            parts.append(_leave(w, n_events, name))
        elif name == "after_termination_or_dormant":
            parts.append(_after_termination(w, n_events, name))
        elif name == "duplicate_claim":
            rows, double = _duplicate(w, n_events, name)
            parts.append(rows)
        elif name == "inflated_attendees":
            parts.append(_inflated(w, n_events, name))
        elif name == "related_party":
            rows, links = _related_party(w, n_events, name)
            parts.append(rows)
        elif name == "limit_hugging":
            parts.append(_limit_hugging(w, n_events, name))
        elif name == "gift_cards":
            parts.append(_gift_cards(w, n_events, name))
        elif name == "personal_creep":
            parts.append(_creep(w, n_events, name))
        elif name == "fake_trip":
            parts.append(_fake_trip(w, n_events, name))
        else:  # pragma: no cover - guarded by SimOptions.enabled_typologies
            raise ValueError(name)
    if "related_party" not in rates:
        honest = np.flatnonzero(w.rng.random(w.co.n) < draw.params["company"]["related_party_share"])
        links = pd.DataFrame(
            {"emp": honest, "business_no": business_no[w.rng.integers(0, len(business_no), len(honest))]}
        )
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if parts else pd.DataFrame()
    misusers = {k: len(v) for k, v in w.misuser_ids.items()}
    return MisuseResult(rows, double, links, events, misusers)
