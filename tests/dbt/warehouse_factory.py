"""A small hand-made warehouse for the dbt tests: raw tables from the landing contract, a clean baseline
of ordinary spending, and planted rows at the edges of every rule.

Planted transaction ids say what they are: ``P_<rule>_<case>`` must be flagged by the rule,
``N_<rule>_<case>`` must not be. ``PLANTED`` maps each id to the rule and the expectation.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.contract import load_contract
from orchestration.warehouse import ensure_raw_tables, refresh_sources

WORK_REGION = "서울 중구"
LOADED_AT = dt.datetime(2024, 11, 1, 6, 0)

# (transaction id, rule id, should the rule flag it)
PLANTED: list[tuple[str, str, bool]] = []


@dataclass
class Landing:
    card_transactions: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    leave: list[dict] = field(default_factory=list)
    trips: list[dict] = field(default_factory=list)
    merchants: list[dict] = field(default_factory=list)
    expense_claims: list[dict] = field(default_factory=list)
    related_parties: list[dict] = field(default_factory=list)
    case_outcomes: list[dict] = field(default_factory=list)
    legacy_alerts: list[dict] = field(default_factory=list)

    def employee(self, employee_id: str, department: str = "테스트팀", grade: str = "대리", **extra) -> str:
        self.employees.append(
            {
                "employee_id": employee_id,
                "department": department,
                "grade": grade,
                "job_family": "sales",
                "work_region": WORK_REGION,
                "home_region": "경기 성남시",
                "hire_date": dt.date(2020, 3, 2),
                "termination_date": None,
                "card_limit": 3_000_000,
            }
            | extra
        )
        return employee_id

    def pay(
        self,
        transaction_id: str,
        employee_id: str | None,
        at: str | dt.datetime,
        amount: float,
        category: str = "편의점",
        merchant: str | None = None,
        region: str = WORK_REGION,
        card_id: str | None = None,
        **extra,
    ) -> str:
        at = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at)
        merchant = merchant or f"{category} {region}"
        self.card_transactions.append(
            {
                "transaction_id": transaction_id,
                "card_id": card_id or f"C_{employee_id}",
                "employee_id": employee_id,
                "transacted_at": at,
                "amount": amount,
                "currency": "KRW",
                "merchant_id": f"M_{merchant}",
                "merchant_name": merchant,
                "mcc": None,
                "merchant_category": category,
                "merchant_region": region,
                "merchant_business_no": extra.pop("business_no", None),
                "status": "approved" if amount > 0 else "refund",
            }
            | extra
        )
        return transaction_id

    def claim(
        self, transaction_id: str, employee_id: str, attendees: int = 1, official: bool = False, text=None
    ):
        self.expense_claims.append(
            {
                "claim_id": f"CL_{transaction_id}_{len(self.expense_claims)}",
                "transaction_id": transaction_id,
                "employee_id": employee_id,
                "submitted_at": None,
                "purpose_category": "official_event" if official else "meal",
                "purpose_text": text,
                "attendee_count": attendees,
                "is_official_event": official,
            }
        )


def expect(transaction_id: str, rule_id: str, flagged: bool) -> None:
    PLANTED.append((transaction_id, rule_id, flagged))


def baseline(landing: Landing, employees: int = 24, seed: int = 7) -> None:
    """Ordinary weekday lunches and supplies, June to October 2024, in three department x grade groups."""
    rng = random.Random(seed)
    groups = [("영업1팀", "대리"), ("개발팀", "과장"), ("재무팀", "사원")]
    day = dt.date(2024, 6, 3)
    ids = [
        landing.employee(f"E{i:03d}", *groups[i % len(groups)], home_region="경기 성남시")
        for i in range(1, employees + 1)
    ]
    counter = 0
    while day <= dt.date(2024, 10, 31):
        if day.weekday() < 5 and day not in (
            dt.date(2024, 8, 15),
            dt.date(2024, 9, 16),
            dt.date(2024, 9, 17),
            dt.date(2024, 9, 18),
            dt.date(2024, 10, 1),
            dt.date(2024, 10, 3),
            dt.date(2024, 10, 9),
        ):
            for index, employee_id in enumerate(ids):
                if rng.random() < 0.6:
                    counter += 1
                    minute = rng.randint(0, 50)
                    amount = round(9_000 + 1_000 * (index % 7) + rng.randint(0, 6) * 500, -2)
                    landing.pay(
                        f"B{counter:06d}",
                        employee_id,
                        dt.datetime.combine(day, dt.time(12, minute)),
                        amount,
                        "한식",
                        merchant=f"점심식당{rng.randint(1, 12)}",
                    )
                if rng.random() < 0.08:
                    counter += 1
                    landing.pay(
                        f"B{counter:06d}",
                        employee_id,
                        dt.datetime.combine(day, dt.time(15, rng.randint(0, 59))),
                        rng.randint(10, 60) * 1_000 + 300,
                        "사무용품",
                        merchant=f"문구점{rng.randint(1, 4)}",
                    )
        day += dt.timedelta(days=1)


def planted(landing: Landing) -> None:
    """Rows at the edges of every rule (ids P_... flagged, N_... not flagged)."""
    pay, claim = landing.pay, landing.claim

    e = landing.employee("E_CAT")
    expect(
        pay("P_RESTRICTED", e, "2024-07-10 20:10", 350_000, "유흥주점", merchant="강남룸"),
        "restricted_merchant",
        True,
    )
    expect(pay("N_RESTRICTED", e, "2024-07-10 12:10", 8_000, "카페"), "restricted_merchant", False)
    expect(pay("P_EXTENDED", e, "2024-07-11 19:10", 40_000, "스크린골프"), "extended_block_list", True)
    expect(
        pay("P_CASH", e, "2024-07-12 14:10", 300_000, "상품권", merchant="상품권나라"),
        "cash_equivalent",
        True,
    )
    expect(pay("P_PERSONAL", e, "2024-07-15 14:10", 45_300, "백화점"), "personal_use_merchant", True)
    expect(
        pay("P_MCC_ONLY_BAR", e, "2024-07-16 20:10", 60_000, None, merchant="Some Pub", mcc="5813"),
        "bar_without_official_event",
        True,
    )
    expect(
        pay("P_LEGACY_RESTRICTED", e, "2024-07-17 20:10", 90_000, "노래방"),
        "legacy_restricted_category",
        True,
    )

    e = landing.employee("E_BAR")
    expect(
        pay("P_BAR", e, "2024-07-10 19:30", 180_000, "호프", merchant="치킨호프"),
        "bar_without_official_event",
        True,
    )
    claim("P_BAR", e, attendees=6)
    expect(
        pay("N_BAR_OFFICIAL", e, "2024-07-18 19:30", 180_000, "호프", merchant="치킨호프"),
        "bar_without_official_event",
        False,
    )
    claim("N_BAR_OFFICIAL", e, attendees=6, official=True, text="3분기 호프데이")

    e = landing.employee("E_NIGHT")
    expect(pay("P_NIGHT_OPEN", e, "2024-07-09 23:00:00", 15_000, "편의점"), "late_night", True)
    expect(pay("N_NIGHT_BEFORE", e, "2024-07-09 22:59:59", 15_000, "편의점"), "late_night", False)
    expect(pay("P_NIGHT_LAST", e, "2024-07-10 05:59:00", 15_000, "편의점"), "late_night", True)
    expect(pay("N_NIGHT_CLOSED", e, "2024-07-10 06:00:00", 15_000, "편의점"), "late_night", False)
    expect("N_NIGHT_BEFORE", "legacy_night", True)
    expect(pay("P_LEGACY_NIGHT", e, "2024-07-11 22:30:00", 15_000, "편의점"), "legacy_night", True)

    e = landing.employee("E_DAYS")
    expect(pay("P_HOLIDAY_WEEKDAY", e, "2024-10-03 13:00", 20_000, "편의점"), "weekend_holiday", True)
    expect(pay("N_WORKDAY", e, "2024-10-02 13:00", 20_000, "편의점"), "weekend_holiday", False)
    expect(pay("P_SATURDAY", e, "2024-10-05 13:00", 20_000, "편의점"), "weekend_holiday", True)
    expect(pay("P_LEGACY_HOLIDAY", e, "2024-10-09 13:00", 20_000, "편의점"), "legacy_weekend_holiday", True)

    e = landing.employee("E_MEAL")
    expect(
        pay("P_OFFHOURS_OPEN", e, "2024-07-09 09:30", 30_000, "한식", merchant="아침식당"),
        "restaurant_off_hours",
        True,
    )
    expect(
        pay("N_OFFHOURS_LUNCH", e, "2024-07-09 11:30", 30_000, "한식", merchant="아침식당"),
        "restaurant_off_hours",
        False,
    )
    expect(
        pay("P_OFFHOURS_AFTERNOON", e, "2024-07-10 16:59", 30_000, "중식", merchant="오후반점"),
        "restaurant_off_hours",
        True,
    )
    expect(
        pay("N_OFFHOURS_DINNER", e, "2024-07-10 17:00", 30_000, "중식", merchant="오후반점"),
        "restaurant_off_hours",
        False,
    )
    expect(
        pay("P_CAP_BEFORE", e, "2024-08-26 19:00", 120_000, "한식", merchant="한정식"), "per_person_cap", True
    )
    claim("P_CAP_BEFORE", e, attendees=3, text="팀 회식 3명")
    expect(
        pay("N_CAP_AFTER", e, "2024-08-27 19:00", 120_000, "한식", merchant="한정식"), "per_person_cap", False
    )
    claim("N_CAP_AFTER", e, attendees=3, text="팀 회식 3명")

    e = landing.employee("E_SPLIT")
    pay("S_SPLIT_1", e, "2024-07-19 19:00:00", 300_000, "고깃집", merchant="한우마을")
    expect(
        pay("P_SPLIT_2", e, "2024-07-19 19:02:00", 300_000, "고깃집", merchant="한우마을"),
        "split_payment",
        True,
    )
    expect(
        pay("P_SPLIT_3", e, "2024-07-19 19:04:00", 270_000, "고깃집", merchant="한우마을"),
        "split_payment",
        True,
    )
    expect("S_SPLIT_1", "split_payment", False)
    pay("S_LINE_1", e, "2024-07-24 19:00:00", 500_000, "고깃집", merchant="소고기집")
    expect(
        pay("N_SPLIT_AT_LINE", e, "2024-07-24 19:03:00", 100_000, "고깃집", merchant="소고기집"),
        "split_payment",
        False,
    )
    pay("S_GAP_1", e, "2024-07-25 19:00:00", 300_000, "고깃집", merchant="갈비집")
    expect(
        pay("N_SPLIT_GAP", e, "2024-07-25 19:05:01", 300_000, "고깃집", merchant="갈비집"),
        "split_payment",
        False,
    )
    expect("N_SPLIT_GAP", "legacy_same_day_split", True)
    expect("P_SPLIT_2", "legacy_same_day_split", True)

    e = landing.employee("E_DAYSPLIT")
    pay("S_DAYS_1", e, "2024-07-01 10:00", 200_000, "전자제품", merchant="전자랜드")
    pay("S_DAYS_2", e, "2024-07-03 10:00", 200_000, "전자제품", merchant="전자랜드")
    expect(
        pay("P_DAYS_3", e, "2024-07-05 10:00", 150_000, "전자제품", merchant="전자랜드"),
        "split_across_days",
        True,
    )
    expect("S_DAYS_2", "split_across_days", False)
    pay("S_DAYS_FAR", e, "2024-08-01 10:00", 300_000, "전자제품", merchant="전자랜드")
    expect(
        pay("N_DAYS_FAR", e, "2024-08-09 10:00", 300_000, "전자제품", merchant="전자랜드"),
        "split_across_days",
        False,
    )

    e = landing.employee("E_LARGE")
    expect(
        pay("P_LARGE_OTHER", e, "2024-07-02 14:00", 1_200_000, "전자제품", merchant="가전마트"),
        "large_single_payment",
        True,
    )
    expect(
        pay("P_LARGE_ENTERTAIN", e, "2024-07-04 19:00", 600_000, "한식", merchant="일식당"),
        "large_single_payment",
        True,
    )
    expect(
        pay("N_LARGE_NAMED", e, "2024-07-08 19:00", 600_000, "한식", merchant="일식당"),
        "large_single_payment",
        False,
    )
    claim("N_LARGE_NAMED", e, attendees=15, text="거래처 ㈜대한상사 김부장 외 13명")
    expect(
        pay("N_LARGE_UNDER", e, "2024-07-09 14:00", 999_000, "전자제품", merchant="가전마트"),
        "large_single_payment",
        False,
    )
    expect("P_LARGE_OTHER", "legacy_amount_over_line", True)

    e = landing.employee("E_HOME", home_region="경기 수원시")
    expect(
        pay("P_HOME_WEEKEND", e, "2024-07-13 11:00", 25_000, "편의점", region="경기 수원시"),
        "near_home",
        True,
    )
    expect(
        pay("P_HOME_EVENING", e, "2024-07-15 18:00", 25_000, "편의점", region="경기 수원시"),
        "near_home",
        True,
    )
    expect(
        pay("N_HOME_WORKTIME", e, "2024-07-15 17:59", 25_000, "편의점", region="경기 수원시"),
        "near_home",
        False,
    )

    e = landing.employee("E_AWAY")
    expect(
        pay("P_AWAY", e, "2024-07-16 13:00", 35_000, "편의점", region="부산 해운대구"),
        "outside_duty_area",
        True,
    )
    landing.trips.append(
        {
            "employee_id": e,
            "start_date": dt.date(2024, 7, 22),
            "end_date": dt.date(2024, 7, 24),
            "destination_region": "부산 해운대구",
        }
    )
    expect(
        pay("N_AWAY_TRIP_LAST_DAY", e, "2024-07-24 20:00", 35_000, "편의점", region="부산 해운대구"),
        "outside_duty_area",
        False,
    )
    expect(
        pay("P_AWAY_AFTER_TRIP", e, "2024-07-25 09:00", 35_000, "편의점", region="부산 해운대구"),
        "outside_duty_area",
        True,
    )

    e = landing.employee("E_LEAVE")
    landing.leave.append(
        {
            "employee_id": e,
            "start_date": dt.date(2024, 7, 1),
            "end_date": dt.date(2024, 7, 5),
            "leave_type": "annual",
        }
    )
    expect(pay("P_LEAVE_LAST_DAY", e, "2024-07-05 20:00", 45_000, "편의점"), "on_leave", True)
    expect(pay("N_LEAVE_DAY_AFTER", e, "2024-07-06 10:00", 45_000, "편의점"), "on_leave", False)
    expect(pay("N_LEAVE_DAY_BEFORE", e, "2024-06-30 23:59", 45_000, "편의점"), "on_leave", False)

    e = landing.employee("E_TERM", termination_date=dt.date(2024, 8, 31))
    expect(pay("N_TERM_LAST_DAY", e, "2024-08-31 18:00", 45_000, "편의점"), "after_termination", False)
    expect(pay("P_TERM_DAY_AFTER", e, "2024-09-01 10:00", 45_000, "편의점"), "after_termination", True)

    e = landing.employee("E_DORMANT")
    pay("S_DORMANT_1", e, "2024-06-03 10:00", 20_000, "편의점")
    expect(pay("N_DORMANT_89", e, "2024-08-31 10:00", 20_000, "편의점"), "dormant_card", False)
    expect(pay("P_DORMANT_90", e, "2024-11-29 10:00", 20_000, "편의점"), "dormant_card", True)

    e = landing.employee("E_REPEAT")
    for visit in range(1, 9):
        tid = pay(
            f"S_REPEAT_{visit}",
            e,
            dt.datetime(2024, 7, 1 + 3 * visit, 15, 0),
            23_000,
            "꽃집",
            merchant="꽃집A",
        )
        expect(tid, "repeated_merchant", visit == 8)

    e = landing.employee("E_HUG")
    expect(
        pay("S_HUG_1", e, "2024-07-01 14:00", 460_000, "전자제품", merchant="가전A"), "limit_hugging", False
    )
    expect(
        pay("S_HUG_2", e, "2024-07-10 14:00", 470_000, "전자제품", merchant="가전B"), "limit_hugging", False
    )
    expect(
        pay("P_HUG_3", e, "2024-07-20 14:00", 480_000, "전자제품", merchant="가전C"), "limit_hugging", True
    )
    expect(
        pay("N_HUG_AT_LINE", e, "2024-07-21 14:00", 500_000, "전자제품", merchant="가전D"),
        "limit_hugging",
        False,
    )

    e = landing.employee("E_ROUND")
    expect(pay("P_ROUND", e, "2024-07-02 14:00", 200_000, "꽃집", merchant="꽃집R"), "round_amount", True)
    expect(
        pay("N_ROUND_ODD", e, "2024-07-03 14:00", 190_500, "꽃집", merchant="꽃집R"), "round_amount", False
    )
    expect(
        pay("N_ROUND_SMALL", e, "2024-07-04 14:00", 90_000, "꽃집", merchant="꽃집R"), "round_amount", False
    )

    e = landing.employee("E_DUP")
    pay("S_DUP_1", e, "2024-07-02 14:00", 33_000, "편의점", merchant="GS25")
    expect(
        pay("P_DUP_2", e, "2024-07-02 14:02", 33_000, "편의점", merchant="GS25"), "duplicate_payment", True
    )
    late = pay("N_DUP_LATE", e, "2024-07-02 14:13", 33_000, "편의점", merchant="GS25")
    expect(late, "duplicate_payment", False)
    expect(late, "repeat_payment", True)
    expect(
        pay("P_REPEAT_NEXT_DAY", e, "2024-07-03 09:30", 33_000, "편의점", merchant="GS25"),
        "repeat_payment",
        True,
    )
    expect(
        pay("N_REPEAT_AFTER_WINDOW", e, "2024-07-05 09:31", 33_000, "편의점", merchant="GS25"),
        "repeat_payment",
        False,
    )
    expect(
        pay("P_DUP_CLAIM", e, "2024-07-03 14:00", 44_000, "편의점", merchant="GS25"),
        "duplicate_payment",
        True,
    )
    claim("P_DUP_CLAIM", e)
    claim("P_DUP_CLAIM", e)

    e = landing.employee("E_LINK")
    landing.related_parties.append({"employee_id": e, "business_no": "123-45-67890"})
    expect(
        pay(
            "P_LINK", e, "2024-07-02 14:00", 88_000, "사무용품", merchant="처남문구", business_no="1234567890"
        ),
        "related_party_merchant",
        True,
    )
    expect(
        pay("N_LINK", e, "2024-07-03 14:00", 88_000, "사무용품", merchant="남문구", business_no="9999999999"),
        "related_party_merchant",
        False,
    )

    e = landing.employee("E_PEER", department="영업1팀", grade="대리")
    for day in range(2, 30):
        if dt.date(2024, 8, day).weekday() < 5:
            pay(f"S_PEER_{day}", e, dt.datetime(2024, 8, day, 12, 5), 12_000, "한식", merchant="점심식당1")
    expect(
        pay("P_PEER", e, "2024-10-10 15:00", 2_990_000, "전자제품", merchant="가전P"), "peer_outlier", True
    )

    # Negative cases for the rules whose positives are above.
    for rule in (
        "extended_block_list",
        "cash_equivalent",
        "personal_use_merchant",
        "legacy_restricted_category",
    ):
        expect("N_RESTRICTED", rule, False)
    expect("N_WORKDAY", "legacy_weekend_holiday", False)
    expect("N_NIGHT_CLOSED", "legacy_night", False)
    expect("N_ROUND_SMALL", "legacy_amount_over_line", False)
    expect("S_SPLIT_1", "legacy_same_day_split", False)
    expect("S_PEER_5", "peer_outlier", False)
    expect("N_LINK", "related_party_merchant", False)

    # A refund and a twice-loaded row: staging keeps one row; refunds are never flagged.
    expect(
        pay("N_REFUND", "E_CAT", "2024-07-10 21:00", -350_000, "유흥주점", merchant="강남룸"),
        "restricted_merchant",
        False,
    )
    landing.card_transactions.append(dict(landing.card_transactions[-1]))

    # Case outcomes: a confirmed misuse at 강남룸 decided in July (matures 14 days later).
    landing.case_outcomes.append(
        {
            "transaction_id": "P_RESTRICTED",
            "alerted_by": "legacy_rule:restricted",
            "opened_at": dt.datetime(2024, 7, 11),
            "explanation_requested_at": dt.datetime(2024, 7, 11),
            "explanation_received_at": dt.datetime(2024, 7, 15),
            "decided_at": dt.datetime(2024, 7, 16),
            "decision": "confirmed",
            "recovered_amount": 350_000,
        }
    )
    landing.case_outcomes.append(
        {
            "transaction_id": "P_BAR",
            "alerted_by": "legacy_tree",
            "opened_at": dt.datetime(2024, 7, 11),
            "explanation_requested_at": None,
            "explanation_received_at": None,
            "decided_at": dt.datetime(2024, 7, 20),
            "decision": "cleared",
            "recovered_amount": None,
        }
    )
    pay("S_AFTER_LABEL", "E_CAT", "2024-08-20 20:10", 100_000, "유흥주점", merchant="강남룸")


def build_landing(hr: bool = True, employees: int = 24) -> Landing:
    landing = Landing()
    PLANTED.clear()
    baseline(landing, employees=employees)
    planted(landing)
    if not hr:
        for row in landing.card_transactions:
            row["employee_id"] = None
        for name in (
            "employees",
            "leave",
            "trips",
            "expense_claims",
            "related_parties",
            "case_outcomes",
            "merchants",
            "legacy_alerts",
        ):
            setattr(landing, name, [])
    return landing


def write_warehouse(path: Path, landing: Landing) -> None:
    """Create the raw schema like ingest does and load the landing rows (sources with rows are present)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_raw_tables(con)
        for name, source in load_contract().items():
            rows = getattr(landing, name)
            if not rows:
                continue
            columns = source.column_names
            placeholders = ", ".join("?" for _ in columns)
            con.executemany(
                f"insert into raw.{name} ({', '.join(columns)}, _file, _line, _loaded_at) "
                f"values ({placeholders}, ?, ?, ?)",
                [
                    [row.get(column) for column in columns] + [f"{name}.csv", line, LOADED_AT]
                    for line, row in enumerate(rows, start=2)
                ],
            )
            con.execute(
                "insert into raw._load_log values (?, ?, ?, ?, 'loaded', ?, ?, 0, 0, null, ?, ?)",
                ["test-load", name, f"{name}.csv", "0" * 64, len(rows), len(rows), LOADED_AT, LOADED_AT],
            )
        refresh_sources(con)
    finally:
        con.close()
