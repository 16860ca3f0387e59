"""Ordinary and legitimate-but-suspicious card use, drawn per employee-day with numpy.

Every generator returns a frame of *purchases* with the columns of :data:`COLUMNS`; merchants are
picked later for all rows at once (``merchant == -1``), and claims are written from ``note``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulator.company import FAMILIES, GRADES, Calendar, Company
from simulator.merchants import Categories, Merchants

COLUMNS = [
    "emp",
    "card",
    "day",
    "sec",
    "category",
    "region",
    "merchant",
    "amount",
    "attendees",
    "purpose",
    "official",
    "note",
    "claim",
    "typology",
    "at_stake",
    "status",
]
HOUR = 3600


class Draw:
    """Shared helpers: employee-day sampling, times of day, amounts, category mixes."""

    def __init__(
        self, rng: np.random.Generator, cal: Calendar, co: Company, cats: Categories, params: dict[str, Any]
    ) -> None:
        self.rng = rng
        self.cal = cal
        self.co = co
        self.cats = cats
        self.params = params
        self.merchants: Merchants | None = None
        table = params["amounts"]["category"]
        n_cat = len(cats.names)
        self.median = np.full(n_cat, 10000.0)
        self.sigma = np.full(n_cat, 0.5)
        self.unit = np.full(n_cat, 100, dtype=np.int64)
        for name, (median, sigma, unit) in table.items():
            i = cats.index(name)
            self.median[i], self.sigma[i], self.unit[i] = median, sigma, unit

    def by_family(self, table: dict[str, float]) -> np.ndarray:
        return np.array([table.get(f, 0.0) for f in FAMILIES])[self.co.family]

    def employee_days(
        self, prob: np.ndarray, mask: np.ndarray, day_factor: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bernoulli draw per employee-day; returns (employee, day) of the hits, row-major."""
        emps, days = [], []
        n = len(prob)
        factor = (
            np.ones(mask.shape[1], dtype=np.float32) if day_factor is None else day_factor.astype(np.float32)
        )
        for lo in range(0, n, 4096):
            hi = min(n, lo + 4096)
            p = prob[lo:hi, None].astype(np.float32) * factor[None, :]
            hits = (self.rng.random((hi - lo, mask.shape[1]), dtype=np.float32) < p) & mask[lo:hi]
            e, d = np.nonzero(hits)
            emps.append(e + lo)
            days.append(d)
        return np.concatenate(emps), np.concatenate(days)

    def mix(self, table: dict[str, float], size: int) -> np.ndarray:
        names = list(table)
        p = np.array([table[k] for k in names], dtype=float)
        return self.cats.indices(names)[self.rng.choice(len(names), size=size, p=p / p.sum())]

    def seconds(self, size: int, lo: float, mode: float, hi: float) -> np.ndarray:
        """Time of day in seconds, triangular between hours ``lo`` and ``hi`` (may pass midnight)."""
        return (self.rng.triangular(lo, mode, hi, size=size) * HOUR).astype(np.int64)

    def amount(
        self, category: np.ndarray, people: np.ndarray | int = 1, factor: np.ndarray | float = 1.0
    ) -> np.ndarray:
        """Log-normal amount per category times head count, rounded to the category's unit."""
        category = np.asarray(category)
        raw = np.exp(
            np.log(self.median[category]) + self.sigma[category] * self.rng.standard_normal(len(category))
        )
        raw = raw * np.asarray(people) * np.asarray(factor)
        unit = self.unit[category]
        return np.maximum(unit, np.round(raw / unit).astype(np.int64) * unit)

    def card(self, emp: np.ndarray, second_share: float = 0.0) -> np.ndarray:
        card = self.co.primary_card[emp].copy()
        use_second = self.co.second_in_use[emp] & (self.rng.random(len(emp)) < second_share)
        card[use_second] = self.co.second_card[emp][use_second]
        return card


def frame(
    draw: Draw,
    emp: np.ndarray,
    day: np.ndarray,
    sec: np.ndarray,
    category: np.ndarray,
    region: np.ndarray,
    amount: np.ndarray,
    purpose: str,
    note: str,
    attendees: np.ndarray | int = 0,
    official: bool = False,
    card: np.ndarray | None = None,
) -> pd.DataFrame:
    """A batch of purchases in the common column layout."""
    n = len(emp)
    return pd.DataFrame(
        {
            "emp": emp,
            "card": draw.co.primary_card[emp] if card is None else card,
            "day": day,
            "sec": sec,
            "category": category,
            "region": region,
            "merchant": np.full(n, -1, dtype=np.int64),
            "amount": amount,
            "attendees": np.broadcast_to(np.asarray(attendees, dtype=np.int64), (n,)),
            "purpose": purpose,
            "official": official,
            "note": note,
            "claim": True,
            "typology": "",
            "at_stake": np.zeros(n, dtype=np.int64),
            "status": "approved",
        },
        columns=COLUMNS,
    )


def keep_under_line(draw: Draw, batch: pd.DataFrame, unit: int = 1000) -> pd.DataFrame:
    """Some purchases that would pass the approval line are kept just under it."""
    sp = draw.params["spending"]
    line = draw.params["amounts"]["approval_line"]
    over = (batch["amount"].to_numpy() >= line) & (draw.rng.random(len(batch)) < sp["under_line_share"])
    lo, hi = sp["under_line_band"]
    kept = np.floor(line * draw.rng.uniform(lo, hi, len(batch)) / unit) * unit
    batch["amount"] = np.where(over, kept.astype(np.int64), batch["amount"].to_numpy())
    return batch


def _office_days(draw: Draw) -> np.ndarray:
    return draw.co.at_office & draw.cal.is_workday[None, :]


def _meals(draw: Draw, office: np.ndarray) -> list[pd.DataFrame]:
    sp, co, rng = draw.params["spending"], draw.co, draw.rng
    out = []
    emp, day = draw.employee_days(draw.by_family(sp["lunch"]), office)
    people = 1 + np.minimum(rng.poisson(1.0, len(emp)), 5)
    cat = draw.mix(sp["lunch_categories"], len(emp))
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 11.5, 12.1, 13.4),
            cat,
            co.work_region[emp],
            draw.amount(cat, people),
            "meal",
            "lunch",
            people,
        )
    )
    emp, day = draw.employee_days(draw.by_family(sp["cafe"]), office)
    people = 1 + np.minimum(rng.poisson(0.8, len(emp)), 5)
    cat = draw.mix({"카페": 0.8, "제과점": 0.2}, len(emp))
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 8.5, 14.0, 17.8),
            cat,
            co.work_region[emp],
            draw.amount(cat, people),
            "meal",
            "meeting",
            people,
        )
    )
    emp, day = draw.employee_days(draw.by_family(sp["overtime_dinner"]), office)
    people = 1 + np.minimum(rng.poisson(1.2, len(emp)), 5)
    cat = draw.mix(sp["lunch_categories"], len(emp))
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 18.2, 18.8, 20.6),
            cat,
            co.work_region[emp],
            draw.amount(cat, people),
            "meal",
            "overtime",
            people,
        )
    )
    return out


def _transport(draw: Draw, office: np.ndarray) -> list[pd.DataFrame]:
    sp, co, rng = draw.params["spending"], draw.co, draw.rng
    taxi = draw.cats.index("택시")
    emp, day = draw.employee_days(draw.by_family(sp["taxi"]), office)
    late = rng.random(len(emp)) < sp["late_taxi_share"]
    sec = np.where(late, draw.seconds(len(emp), 21.8, 23.0, 25.2), draw.seconds(len(emp), 8.0, 14.0, 20.0))
    cat = np.full(len(emp), taxi)
    amount = draw.amount(cat, 1, np.where(late, 1.6, 1.0))
    taxis = frame(draw, emp, day, sec, cat, co.work_region[emp], amount, "transport", "taxi")
    taxis.loc[late, "note"] = "late_taxi"
    emp, day = draw.employee_days(draw.by_family(sp["fuel"]), office)
    cat = draw.mix({"주유소": 0.75, "주차": 0.15, "통행료": 0.10}, len(emp))
    fuel = frame(
        draw,
        emp,
        day,
        draw.seconds(len(emp), 7.5, 12.0, 19.5),
        cat,
        co.work_region[emp],
        draw.amount(cat),
        "transport",
        "fuel",
    )
    return [taxis, fuel]


def _second_round(draw: Draw, base: pd.DataFrame, mix: dict[str, float], note: str) -> pd.DataFrame:
    rng = draw.rng
    share = draw.params["spending"]["second_round_share"]
    pick = base[rng.random(len(base)) < share]
    n = len(pick)
    people = np.maximum(2, np.round(pick["attendees"].to_numpy() * rng.uniform(0.4, 0.9, n))).astype(np.int64)
    cat = draw.mix(mix, n)
    sec = pick["sec"].to_numpy() + draw.seconds(n, 1.8, 2.3, 3.6)
    second = frame(
        draw,
        pick["emp"].to_numpy(),
        pick["day"].to_numpy(),
        sec,
        cat,
        pick["region"].to_numpy(),
        draw.amount(cat, people),
        pick["purpose"].iloc[0] if n else "team_dinner",
        note,
        people,
        card=pick["card"].to_numpy(),
    )
    second["official"] = pick["official"].to_numpy()
    return second


def _dinners(draw: Draw, office: np.ndarray) -> list[pd.DataFrame]:
    sp, co, rng = draw.params["spending"], draw.co, draw.rng
    weekday_factor = np.array(sp["weekday_factor"])[draw.cal.weekday]
    dept_size = np.bincount(co.dept)
    senior = co.grade >= GRADES.index("과장")
    prob = np.where(co.is_leader, sp["team_dinner_leader"], np.where(senior, sp["team_dinner_other"], 0.0))
    emp, day = draw.employee_days(prob, office, weekday_factor)
    n = len(emp)
    people = np.where(
        co.is_leader[emp],
        np.maximum(4, np.round(dept_size[co.dept[emp]] * rng.uniform(0.3, 0.8, n))),
        rng.integers(3, 7, n),
    ).astype(np.int64)
    cat = draw.mix(sp["team_dinner_categories"], n)
    team = frame(
        draw,
        emp,
        day,
        draw.seconds(n, 18.2, 18.8, 20.5),
        cat,
        co.work_region[emp],
        draw.amount(cat, people),
        "team_dinner",
        "team_dinner",
        people,
        card=draw.card(emp, draw.params["company"]["second_card_use_share"]),
    )
    team = keep_under_line(draw, team)
    team_2 = _second_round(draw, team, {"호프": 0.6, "일반주점": 0.4}, "second_round")

    emp, day = draw.employee_days(draw.by_family(sp["client_entertainment"]), office, weekday_factor)
    n = len(emp)
    people = 2 + np.minimum(rng.poisson(1.5, n), 6)
    cat = draw.mix(sp["client_categories"], n)
    client = frame(
        draw,
        emp,
        day,
        draw.seconds(n, 18.3, 19.0, 20.6),
        cat,
        co.work_region[emp],
        draw.amount(cat, people, sp["client_per_person_factor"]),
        "client_entertainment",
        "client",
        people,
        card=draw.card(emp, draw.params["company"]["second_card_use_share"]),
    )
    client = keep_under_line(draw, client)
    client_2 = _second_round(
        draw, client, {"일반주점": 0.5, "와인바": 0.3, "호프": 0.2}, "client_second_round"
    )
    return [team, team_2, client, client_2]


def _weekend_legit(draw: Draw) -> list[pd.DataFrame]:
    sp, co, rng, cal = draw.params["spending"], draw.co, draw.rng, draw.cal
    free = co.employed & ~co.on_leave & ~co.on_trip
    offday = free & cal.is_offday[None, :]
    out = []
    emp, day = draw.employee_days(draw.by_family(sp["weekend_client"]), offday)
    n = len(emp)
    people = 2 + np.minimum(rng.poisson(1.5, n), 6)
    cat = draw.mix({**sp["client_categories"], "카페": 0.25}, n)
    region = np.where(rng.random(n) < 0.3, co.home_region[emp], co.work_region[emp])
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(n, 11.5, 18.5, 21.0),
            cat,
            region,
            draw.amount(cat, people, sp["client_per_person_factor"]),
            "client_entertainment",
            "weekend_client",
            people,
            card=draw.card(emp, 0.5),
        )
    )
    day_factor = np.where(cal.is_offday, 2.0, 0.4)
    emp, day = draw.employee_days(draw.by_family(sp["client_golf"]), free, day_factor)
    n = len(emp)
    people = rng.integers(2, 5, n)
    cat = np.full(n, draw.cats.index("골프장"))
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(n, 7.0, 12.0, 16.0),
            cat,
            co.work_region[emp],
            draw.amount(cat, people),
            "client_entertainment",
            "golf",
            people,
            card=draw.card(emp, 0.7),
        )
    )
    field = co.family == FAMILIES.index("field_operations")
    emp, day = draw.employee_days(np.where(field, sp["weekend_duty_meal"], 0.0), offday)
    n = len(emp)
    people = 1 + np.minimum(rng.poisson(1.5, n), 6)
    cat = draw.mix(sp["lunch_categories"], n)
    sec = np.where(rng.random(n) < 0.6, draw.seconds(n, 11.3, 12.0, 13.5), draw.seconds(n, 17.5, 18.2, 20.0))
    out.append(
        frame(draw, emp, day, sec, cat, co.work_region[emp], draw.amount(cat, people), "meal", "duty", people)
    )
    emp, day = draw.employee_days(np.full(co.n, sp["night_shift_meal"]), co.night_roster)
    n = len(emp)
    people = 1 + np.minimum(rng.poisson(1.0, n), 5)
    cat = draw.mix(sp["night_shift_categories"], n)
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(n, 22.0, 24.5, 27.5),
            cat,
            co.work_region[emp],
            draw.amount(cat, people),
            "meal",
            "night_shift",
            people,
        )
    )
    return out


def _office_purchases(draw: Draw, office: np.ndarray) -> list[pd.DataFrame]:
    sp, co, rng, cal = draw.params["spending"], draw.co, draw.rng, draw.cal
    out = []
    emp, day = draw.employee_days(draw.by_family(sp["supplies"]), office)
    cat = draw.mix(sp["supplies_categories"], len(emp))
    supplies = frame(
        draw,
        emp,
        day,
        draw.seconds(len(emp), 9.3, 14.0, 17.8),
        cat,
        co.work_region[emp],
        draw.amount(cat),
        "supplies",
        "supplies",
    )
    out.append(keep_under_line(draw, supplies, 100))
    emp, day = draw.employee_days(draw.by_family(sp["pantry"]), office)
    cat = draw.mix(sp["pantry_categories"], len(emp))
    out.append(
        frame(
            draw, emp, day, draw.seconds(len(emp), 10.0, 14.0, 18.5), cat, co.work_region[emp],
            draw.amount(cat, 1, rng.uniform(0.8, 2.0, len(emp))), "supplies", "pantry",
        )
    )  # fmt: skip
    emp, day = draw.employee_days(draw.by_family(sp["client_gift"]), office)
    cat = draw.mix({"백화점": 0.8, "꽃집": 0.2}, len(emp))
    out.append(
        frame(
            draw, emp, day, draw.seconds(len(emp), 11.0, 15.0, 19.5), cat, co.work_region[emp],
            draw.amount(cat), "client_entertainment", "client_gift_legit",
        )
    )  # fmt: skip
    emp, day = draw.employee_days(draw.by_family(sp["seminar_fee"]), office)
    fees = np.array(sp["seminar_fee_amounts"])[rng.integers(0, len(sp["seminar_fee_amounts"]), len(emp))]
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 9.0, 11.0, 17.5),
            np.full(len(emp), draw.cats.index("교육세미나")),
            co.work_region[emp],
            fees,
            "other",
            "seminar",
        )
    )
    sender = co.is_leader | (co.family == FAMILIES.index("back_office"))
    emp, day = draw.employee_days(np.where(sender, sp["wreath"], 0.0), office)
    prices = np.array(sp["wreath_amounts"])[rng.integers(0, len(sp["wreath_amounts"]), len(emp))]
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 9.0, 11.0, 16.5),
            np.full(len(emp), draw.cats.index("꽃집")),
            co.work_region[emp],
            prices,
            "other",
            "wreath",
        )
    )

    # 상품권 for client gifts in the two weeks before 설날 and 추석
    firsts = [
        d for d, name in sorted(cal.holiday_names.items()) if "Korean New Year" in name or "Chuseok" in name
    ]
    starts = [d for i, d in enumerate(firsts) if i == 0 or d - firsts[i - 1] > 5]
    window = np.zeros(cal.n_days, dtype=bool)
    for d in starts:
        window[max(0, d - 14) : d] = True
    buyers = (co.family == FAMILIES.index("back_office")) & (rng.random(co.n) < sp["holiday_gift_buyers"])
    emp, day = draw.employee_days(np.where(buyers, 0.12, 0.0), office & window[None, :])
    amounts = np.array(sp["holiday_gift_amounts"])[rng.integers(0, len(sp["holiday_gift_amounts"]), len(emp))]
    out.append(
        frame(
            draw,
            emp,
            day,
            draw.seconds(len(emp), 10.0, 14.0, 17.5),
            np.full(len(emp), draw.cats.index("상품권")),
            co.work_region[emp],
            amounts,
            "other",
            "holiday_gift",
        )
    )
    return out


def _events(draw: Draw) -> list[pd.DataFrame]:
    """호프데이 and year-end parties, paid by the department head, official events."""
    sp, co, rng, cal = draw.params["spending"], draw.co, draw.rng, draw.cal
    leaders = np.flatnonzero(co.is_leader)
    dept_size = np.bincount(co.dept)
    rows = []
    thu_fri = (cal.weekday == 3) | (cal.weekday == 4)
    month_of_year = cal.dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (cal.dates - cal.dates.astype("datetime64[M]")).astype(int) + 1
    for m in range(int(cal.month.max()) + 1):
        in_month = (cal.month == m) & cal.is_workday
        is_december = bool(np.any(in_month & (month_of_year == 12)))
        for kind, prob, days_ok in (
            ("hof_day", sp["hof_day_per_month"], in_month & thu_fri),
            ("year_end", sp["year_end_event"] if is_december else 0.0, in_month & (day_of_month >= 10)),
        ):
            if prob <= 0 or not days_ok.any():
                continue
            for emp in leaders[rng.random(len(leaders)) < prob]:
                ok = np.flatnonzero(days_ok & co.at_office[emp])
                if len(ok):
                    rows.append((int(emp), int(ok[rng.integers(0, len(ok))]), kind))
    if not rows:
        return []
    emp = np.array([r[0] for r in rows], dtype=np.int64)
    day = np.array([r[1] for r in rows], dtype=np.int64)
    kind = np.array([r[2] for r in rows], dtype=object)
    n = len(emp)
    hof = kind == "hof_day"
    people = np.maximum(5, np.round(dept_size[co.dept[emp]] * rng.uniform(0.5, 0.9, n))).astype(np.int64)
    cat = np.where(
        hof,
        draw.mix({"호프": 0.6, "일반주점": 0.4}, n),
        draw.mix({"양식": 0.4, "호텔": 0.3, "고깃집": 0.3}, n),
    )
    per_person = np.where(hof, 20000.0, 45000.0) * np.exp(0.15 * rng.standard_normal(n))
    amount = (np.round(per_person * people / 1000) * 1000).astype(np.int64)
    events = frame(
        draw,
        emp,
        day,
        draw.seconds(n, 18.2, 18.7, 19.8),
        cat,
        co.work_region[emp],
        amount,
        "official_event",
        "hof_day",
        people,
        official=True,
        card=draw.card(emp, 0.5),
    )
    events.loc[~hof, "note"] = "year_end"
    after = _second_round(draw, events[~hof], {"호프": 0.7, "일반주점": 0.3}, "year_end_second_round")
    return [events, after]


def _trips(draw: Draw) -> list[pd.DataFrame]:
    sp, co, rng = draw.params["spending"], draw.co, draw.rng
    trips = co.trips
    if trips.empty:
        return []
    emp = trips["emp"].to_numpy()
    start = trips["start"].to_numpy()
    end = trips["end"].to_numpy()
    dest = trips["dest"].to_numpy()
    nights = end - start
    n = len(emp)
    out = []
    mode = draw.mix(sp["trip_transport_categories"], n)
    rental = mode == draw.cats.index("렌터카")
    go = frame(
        draw,
        emp,
        start,
        draw.seconds(n, 6.5, 8.0, 11.0),
        mode,
        co.work_region[emp],
        draw.amount(mode, 1, np.where(rental, nights + 1, 1)),
        "travel",
        "trip_transport",
    )
    back = frame(
        draw,
        emp,
        end,
        draw.seconds(n, 15.5, 17.5, 21.0),
        mode,
        dest,
        draw.amount(mode),
        "travel",
        "trip_transport",
    )
    out += [go, back[~rental]]
    stay = nights > 0
    hotel_cat = draw.mix({"호텔": 0.8, "모텔": 0.2}, int(stay.sum()))
    exec_factor = np.where(co.family[emp[stay]] == FAMILIES.index("executive"), 1.7, 1.0)
    at_checkin = rng.random(int(stay.sum())) < 0.5
    out.append(
        frame(
            draw,
            emp[stay],
            np.where(at_checkin, start[stay], end[stay]),
            np.where(
                at_checkin,
                draw.seconds(int(stay.sum()), 17.0, 20.5, 24.5),
                draw.seconds(int(stay.sum()), 7.0, 8.5, 11.0),
            ),
            hotel_cat,
            dest[stay],
            draw.amount(hotel_cat, 1, nights[stay] * exec_factor),
            "travel",
            "trip_hotel",
        )
    )
    length = end - start + 1
    t_emp = np.repeat(emp, length)
    t_day = np.repeat(start, length) + (
        np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    )
    t_dest = np.repeat(dest, length)
    for lo, mode_h, hi, p in ((11.3, 12.0, 13.5, sp["trip_meal"]), (17.8, 19.0, 21.0, sp["trip_meal"])):
        keep = rng.random(len(t_emp)) < p
        k = int(keep.sum())
        people = 1 + np.minimum(rng.poisson(0.8, k), 4)
        cat = draw.mix(sp["lunch_categories"] | {"고깃집": 0.1}, k)
        out.append(
            frame(
                draw,
                t_emp[keep],
                t_day[keep],
                draw.seconds(k, lo, mode_h, hi),
                cat,
                t_dest[keep],
                draw.amount(cat, people),
                "travel",
                "trip_meal",
                people,
            )
        )
    keep = rng.random(len(t_emp)) < sp["trip_taxi"]
    k = int(keep.sum())
    cat = np.full(k, draw.cats.index("택시"))
    out.append(
        frame(
            draw,
            t_emp[keep],
            t_day[keep],
            draw.seconds(k, 8.5, 14.0, 22.5),
            cat,
            t_dest[keep],
            draw.amount(cat),
            "travel",
            "trip_taxi",
        )
    )
    return out


def legitimate_spending(draw: Draw) -> pd.DataFrame:
    """All legitimate purchases of the period (merchants not yet picked)."""
    office = _office_days(draw)
    parts = (
        _meals(draw, office)
        + _transport(draw, office)
        + _dinners(draw, office)
        + _weekend_legit(draw)
        + _office_purchases(draw, office)
        + _events(draw)
        + _trips(draw)
    )
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def refunds_and_cancellations(draw: Draw, txns: pd.DataFrame) -> pd.DataFrame:
    """Negative rows for a share of legitimate approvals; cancelled originals lose their claim."""
    sp, rng = draw.params["spending"], draw.rng
    legit = np.flatnonzero((txns["typology"] == "").to_numpy())
    u = rng.random(len(legit))
    cancel = legit[u < sp["cancel_share"]]
    refund = legit[(u >= sp["cancel_share"]) & (u < sp["cancel_share"] + sp["refund_share"])]
    txns.loc[cancel, "claim"] = False
    c = txns.loc[cancel].copy()
    c["sec"] = c["sec"] + rng.integers(60, 30 * 60, len(c))
    c["amount"] = -c["amount"]
    c["status"] = "cancelled"
    r = txns.loc[refund].copy()
    r["day"] = r["day"] + rng.integers(1, 21, len(r))
    r["sec"] = draw.seconds(len(r), 9.5, 13.0, 19.0)
    full = rng.random(len(r)) < 0.6
    part = np.maximum(1000, np.round(r["amount"].to_numpy() * rng.uniform(0.1, 0.9, len(r)) / 1000) * 1000)
    r["amount"] = -np.where(
        full, r["amount"].to_numpy(), np.minimum(part, r["amount"].to_numpy()).astype(np.int64)
    )
    r["status"] = "refund"
    neg = pd.concat([c, r], ignore_index=True)
    neg["claim"] = False
    neg["attendees"] = 0
    neg["note"] = ""
    return neg
