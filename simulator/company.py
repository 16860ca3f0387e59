"""The company: calendar, departments, employees, cards, leave and business trips."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import holidays
import numpy as np
import pandas as pd

from simulator.regions import COMMUTE, REGION_INDEX, REGIONS, TRIP_DESTINATIONS, WORKPLACES, short_name

FAMILIES = ["sales", "field_operations", "rnd", "back_office", "executive"]
GRADES = ["사원", "대리", "과장", "차장", "부장", "임원"]
BACK_OFFICE_TEAMS = ["인사팀", "재무팀", "총무팀", "구매팀", "법무팀", "IT지원팀", "회계팀", "전략기획팀"]


@dataclass
class Calendar:
    """The simulated days, with weekends and Korean public holidays from ``holidays.KR``."""

    start: dt.date
    dates: np.ndarray  # datetime64[D]
    weekday: np.ndarray  # 0 = Monday
    is_holiday: np.ndarray
    month: np.ndarray  # months since the start
    holiday_names: dict[int, str]

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def is_offday(self) -> np.ndarray:
        return (self.weekday >= 5) | self.is_holiday

    @property
    def is_workday(self) -> np.ndarray:
        return ~self.is_offday

    @classmethod
    def build(cls, start: dt.date, months: int, today: dt.date) -> Calendar:
        month_end = pd.Timestamp(start) + pd.DateOffset(months=months)
        end = min(month_end.date(), today)  # exclusive; nothing dated today or later
        if end <= start:
            raise ValueError(f"the period starting {start} has no day before today ({today})")
        dates = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
        kr = holidays.KR(years=range(start.year, end.year + 1))
        py_dates = dates.astype(object)
        is_holiday = np.array([d in kr for d in py_dates])
        names = {i: str(kr.get(d)) for i, d in enumerate(py_dates) if d in kr}
        weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
        y = dates.astype("datetime64[M]").astype(int)
        month = y - y[0]
        return cls(start, dates, weekday.astype(np.int64), is_holiday, month, names)

    def workdays(self, n_days: int) -> np.ndarray:
        """Workday flags for ``n_days`` days from the start, past the simulated period if asked."""
        dates = self.dates[0] + np.arange(n_days).astype("timedelta64[D]")
        years = dates.astype("datetime64[Y]").astype(int) + 1970
        kr = holidays.KR(years=range(int(years.min()), int(years.max()) + 1))
        weekday = (dates.view("int64") - 4) % 7
        return (weekday < 5) & ~np.array([d in kr for d in dates.astype(object)])


@dataclass
class Company:
    """Employees as arrays (index = employee), their cards, leave, trips and day masks."""

    employees: pd.DataFrame  # contract columns plus internal codes
    family: np.ndarray
    grade: np.ndarray
    dept: np.ndarray
    dept_names: list[str]
    work_region: np.ndarray
    home_region: np.ndarray
    hire_day: np.ndarray
    term_day: np.ndarray  # last employed day index; large when employed throughout
    is_leader: np.ndarray
    night_shift: np.ndarray
    card_ids: np.ndarray  # card id strings, index = card
    card_owner: np.ndarray
    primary_card: np.ndarray
    second_card: np.ndarray  # -1 when none
    second_in_use: np.ndarray
    employed: np.ndarray  # (E, D) bool
    on_leave: np.ndarray
    on_trip: np.ndarray
    trip_dest: np.ndarray  # (E, D) int16, -1 off trip
    night_roster: np.ndarray
    leave: pd.DataFrame  # emp, start, end, leave_type (day indices)
    trips: pd.DataFrame  # emp, start, end, dest (day indices)

    @property
    def n(self) -> int:
        return len(self.family)

    @cached_property
    def at_office(self) -> np.ndarray:
        """Employed and neither on leave nor travelling (computed once)."""
        return self.employed & ~self.on_leave & ~self.on_trip


def _place_label(region: str) -> str:
    province, _ = region.split(" ", 1)
    return province if province in {"부산", "대구", "대전", "광주", "울산", "인천"} else short_name(region)


def _choice(rng: np.random.Generator, table: dict[str, float], size: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    return rng.choice(len(keys), size=size, p=p / p.sum())


def _drop_overlaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep blocks that do not overlap an earlier kept block of the same employee."""
    frame = frame.sort_values(["emp", "start", "end"], kind="stable").reset_index(drop=True)
    while True:
        same = frame["emp"].to_numpy()[1:] == frame["emp"].to_numpy()[:-1]
        clash = same & (frame["start"].to_numpy()[1:] <= frame["end"].to_numpy()[:-1] + 1)
        if not clash.any():
            return frame
        # drop only the first row of each clashing run so later rows are re-checked
        drop = np.flatnonzero(clash) + 1
        first = drop[np.concatenate([[True], np.diff(drop) > 1])]
        frame = frame.drop(index=first).reset_index(drop=True)


def _paint(n: int, n_days: int, frame: pd.DataFrame, values: np.ndarray | None = None) -> np.ndarray:
    lengths = (frame["end"] - frame["start"] + 1).to_numpy()
    emp = np.repeat(frame["emp"].to_numpy(), lengths)
    offs = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = np.repeat(frame["start"].to_numpy(), lengths) + offs
    if values is None:
        mask = np.zeros((n, n_days), dtype=bool)
        mask[emp, day] = True
        return mask
    out = np.full((n, n_days), -1, dtype=np.int16)
    out[emp, day] = np.repeat(values, lengths)
    return out


def build_company(rng: np.random.Generator, n: int, cal: Calendar, params: dict[str, Any]) -> Company:
    """Draw the HR master, cards, leave and trips for ``n`` employees."""
    p = params["company"]
    n_days = cal.n_days
    family = np.sort(_choice(rng, p["job_family_mix"], n))

    # departments per (family, workplace)
    work_region = np.zeros(n, dtype=np.int64)
    dept = np.zeros(n, dtype=np.int64)
    dept_names: list[str] = []
    dept_family: list[int] = []
    lo, hi = p["department_size"]
    for f, fam in enumerate(FAMILIES):
        members = np.flatnonzero(family == f)
        if len(members) == 0:
            continue
        places = list(WORKPLACES[fam])
        where = _choice(rng, WORKPLACES[fam], len(members))
        for w, place in enumerate(places):
            staff = members[where == w]
            work_region[staff] = REGION_INDEX[place]
            k = 0
            pos = 0
            while pos < len(staff):
                size = int(rng.integers(lo, hi + 1)) if fam != "executive" else len(staff)
                chunk = staff[pos : pos + size]
                pos += size
                k += 1
                label = "" if place == "서울 중구" else f"({_place_label(place)})"
                if fam == "sales":
                    name = f"영업{k}팀{label}"
                elif fam == "field_operations":
                    name = f"현장운영{k}팀{label}"
                elif fam == "rnd":
                    name = f"연구개발{k}팀{label}"
                elif fam == "back_office":
                    name = BACK_OFFICE_TEAMS[(k - 1) % len(BACK_OFFICE_TEAMS)]
                    name += f"{(k - 1) // len(BACK_OFFICE_TEAMS) + 1}" if k > len(BACK_OFFICE_TEAMS) else ""
                else:
                    name = f"임원실{label}"
                dept[chunk] = len(dept_names)
                dept_names.append(name)
                dept_family.append(f)

    grade = _choice(rng, p["grade_mix"], n)
    grade[family == FAMILIES.index("executive")] = GRADES.index("임원")
    # one head per department: the highest grade, ties broken at random
    rank = grade * 10 + rng.random(n)
    order = np.lexsort((-rank, dept))
    is_leader = np.zeros(n, dtype=bool)
    first = np.concatenate([[True], dept[order][1:] != dept[order][:-1]])
    is_leader[order[first]] = True
    grade[is_leader & (grade < GRADES.index("차장"))] = GRADES.index("차장")

    # homes near the workplace
    home_region = work_region.copy()
    move = rng.random(n) >= p["home_equals_work_share"]
    for r in np.unique(work_region):
        options = COMMUTE.get(REGIONS[r], [])
        idx = np.flatnonzero(move & (work_region == r))
        if options and len(idx):
            home_region[idx] = [
                REGION_INDEX[o] for o in np.array(options)[rng.integers(0, len(options), len(idx))]
            ]

    # employment
    hire_day = -rng.integers(60, 25 * 365, size=n)
    hired_now = rng.random(n) < p["hired_during_period_share"]
    hire_day[hired_now] = rng.integers(0, max(1, n_days - 30), size=hired_now.sum())
    term_day = np.full(n, 10**6, dtype=np.int64)
    leaving = rng.random(n) < p["terminated_during_period_share"]
    term_day[leaving] = hire_day[leaving].clip(0) + 20 + rng.integers(0, max(1, n_days), size=leaving.sum())
    term_day[term_day >= n_days - 1] = 10**6
    days = np.arange(n_days)
    employed = (days[None, :] >= hire_day[:, None]) & (days[None, :] <= term_day[:, None])

    night_shift = (family == FAMILIES.index("field_operations")) & (rng.random(n) < p["night_shift_share"])
    night_roster = night_shift[:, None] & (
        rng.random((n, n_days), dtype=np.float32) < p["night_shift_day_share"]
    )

    # cards
    senior = grade >= GRADES.index("과장")
    eligible = senior | (family == FAMILIES.index("sales")) | (family == FAMILIES.index("executive"))
    p_second = min(1.0, p["second_card_share"] * n / max(1, eligible.sum()))
    has_second = eligible & (rng.random(n) < p_second)
    n_cards = n + int(has_second.sum())
    card_numbers = rng.choice(9_000_000_000, size=n_cards, replace=False) + 1_000_000_000
    card_ids = np.array([f"C{v}" for v in card_numbers], dtype=object)
    primary_card = np.arange(n)
    second_card = np.full(n, -1, dtype=np.int64)
    second_card[has_second] = n + np.arange(has_second.sum())
    card_owner = np.concatenate([np.arange(n), np.flatnonzero(has_second)])
    second_in_use = has_second & (rng.random(n) >= p["spare_card_share"])

    # leave
    lv = params["leave"]
    years = n_days / 365.0
    workdays = np.flatnonzero(cal.is_workday)
    n_annual = rng.poisson(lv["annual_blocks_per_year"] * years, size=n)
    n_sick = rng.poisson(lv["sick_blocks_per_year"] * years, size=n)
    emp_a = np.repeat(np.arange(n), n_annual)
    emp_s = np.repeat(np.arange(n), n_sick)
    lengths = np.array(lv["annual_block_days"])
    blocks = [
        pd.DataFrame(
            {
                "emp": emp_a,
                "start": workdays[rng.integers(0, len(workdays), len(emp_a))],
                "len": lengths[rng.integers(0, len(lengths), len(emp_a))],
                "leave_type": "annual",
            }
        ),
        pd.DataFrame(
            {
                "emp": emp_s,
                "start": workdays[rng.integers(0, len(workdays), len(emp_s))],
                "len": rng.integers(1, 4, len(emp_s)),
                "leave_type": "sick",
            }
        ),
    ]
    long_emp = np.flatnonzero(rng.random(n) < lv["long_leave_share"])
    blocks.append(
        pd.DataFrame(
            {
                "emp": long_emp,
                "start": rng.integers(0, n_days, len(long_emp)),
                "len": rng.integers(30, 181, len(long_emp)),
                "leave_type": np.where(rng.random(len(long_emp)) < 0.7, "parental", "medical"),
            }
        )
    )
    leave = pd.concat(blocks, ignore_index=True)
    leave["end"] = np.minimum(leave["start"] + leave["len"] - 1, n_days - 1)
    leave = leave[(leave["start"] >= hire_day[leave["emp"]]) & (leave["end"] <= term_day[leave["emp"]])].drop(
        columns="len"
    )
    leave = _drop_overlaps(leave)
    on_leave = _paint(n, n_days, leave)

    # trips
    tp = params["trips"]
    per_month = np.array([tp["per_month"][f] for f in FAMILIES])[family]
    n_trips = rng.poisson(per_month * n_days / 30.4)
    emp_t = np.repeat(np.arange(n), n_trips)
    offdays = np.flatnonzero(cal.is_offday)
    weekend_start = rng.random(len(emp_t)) < tp["weekend_start_share"]
    start = workdays[rng.integers(0, len(workdays), len(emp_t))]
    start[weekend_start] = offdays[rng.integers(0, len(offdays), weekend_start.sum())]
    lengths = np.array(tp["length_days"])
    dests = list(TRIP_DESTINATIONS)
    dest = np.array([REGION_INDEX[d] for d in dests])[_choice(rng, TRIP_DESTINATIONS, len(emp_t))]
    same = dest == work_region[emp_t]
    dest[same] = np.array([REGION_INDEX[d] for d in dests])[rng.integers(0, len(dests), same.sum())]
    trips = pd.DataFrame(
        {
            "emp": emp_t,
            "start": start,
            "len": lengths[rng.integers(0, len(lengths), len(emp_t))],
            "dest": dest,
        }
    )
    trips["end"] = np.minimum(trips["start"] + trips["len"] - 1, n_days - 1)
    trips = trips[trips["dest"] != work_region[trips["emp"]]]
    trips = trips[(trips["start"] >= hire_day[trips["emp"]]) & (trips["end"] <= term_day[trips["emp"]])]
    trips = _drop_overlaps(trips.drop(columns="len"))
    trip_days = _paint(n, n_days, trips)
    clash = np.array(
        [
            on_leave[e, s : t + 1].any()
            for e, s, t in zip(trips["emp"], trips["start"], trips["end"], strict=True)
        ],
        dtype=bool,
    )
    trips = trips[~clash].reset_index(drop=True)
    trip_days = _paint(n, n_days, trips)
    trip_dest = _paint(n, n_days, trips, trips["dest"].to_numpy())

    ids = rng.choice(900_000, size=n, replace=False) + 100_000
    employee_ids = np.array([f"E{v}" for v in ids], dtype=object)
    limits = np.array([p["card_limit_by_grade"][g] for g in GRADES])[grade]
    start_date = cal.dates[0]
    hire_dates = (start_date + hire_day.astype("timedelta64[D]")).astype(str)
    term_dates = np.where(
        term_day < 10**6, (start_date + np.minimum(term_day, 10**5).astype("timedelta64[D]")).astype(str), ""
    )
    employees = pd.DataFrame(
        {
            "employee_id": employee_ids,
            "department": np.array(dept_names, dtype=object)[dept],
            "grade": np.array(GRADES, dtype=object)[grade],
            "job_family": np.array(FAMILIES, dtype=object)[family],
            "work_region": np.array(REGIONS, dtype=object)[work_region],
            "home_region": np.array(REGIONS, dtype=object)[home_region],
            "hire_date": hire_dates,
            "termination_date": term_dates,
            "card_limit": limits,
        }
    )
    return Company(
        employees=employees,
        family=family,
        grade=grade,
        dept=dept,
        dept_names=dept_names,
        work_region=work_region,
        home_region=home_region,
        hire_day=hire_day,
        term_day=term_day,
        is_leader=is_leader,
        night_shift=night_shift,
        card_ids=card_ids,
        card_owner=card_owner,
        primary_card=primary_card,
        second_card=second_card,
        second_in_use=second_in_use,
        employed=employed,
        on_leave=on_leave & employed,
        on_trip=trip_days,
        trip_dest=trip_dest,
        night_roster=night_roster & employed & ~on_leave & ~trip_days,
        leave=leave,
        trips=trips,
    )
