"""A small published snapshot and case store, written directly (no pipeline run), for the dashboard tests.

Sixty days of a 30-person company in three departments; four rules (two active Cardwatch rules, one
draft, one legacy); Cardwatch alerts with routes, legacy alerts, decided historic outcomes and, when
`with_ml` is set, the scoring and monitoring tables the pipeline adds after the models run.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.cases import CaseStore

START = date(2025, 3, 1)
DAYS = 60
DEPARTMENTS = ("영업1팀", "재무팀", "생산팀")
GRADES = ("사원", "대리", "과장")
CATEGORIES = ("한식", "택시", "주점", "편의점", "골프장")
RULES = [
    # rule_id, set, status, severity, name_en, name_ko
    ("late_night", "cardwatch", "active", 3, "Late-night use", "심야 사용"),
    ("restricted_merchant", "cardwatch", "active", 5, "Restricted merchant", "제한 업종"),
    ("round_amount", "cardwatch", "draft", 2, "Round amount", "끝자리 없는 금액"),
    ("legacy_weekend_holiday", "legacy", "active", 2, "Weekend or holiday (legacy)", "주말·공휴일 (기존)"),
]
FEATURES = ("amount_z_peer", "night_share_90d", "merchant_novelty")


def build_snapshot(path: Path, *, with_ml: bool = True, seed: int = 7) -> None:
    """Write the snapshot DuckDB file at `path`."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    employees = pd.DataFrame(
        [
            {
                "employee_id": f"E{n:03d}",
                "department": DEPARTMENTS[n % 3],
                "grade": GRADES[n % 2],
                "job_family": "sales" if n % 3 == 0 else "office",
                "work_region": "서울",
                "home_region": "경기" if n % 2 else "서울",
                "hire_date": date(2020, 1, 1),
                "termination_date": date(2025, 4, 1) if n == 5 else None,
                "card_limit_krw": 3_000_000,
            }
            for n in range(30)
        ]
    )
    rows = []
    for number in range(900):
        day = START + timedelta(days=rng.randrange(DAYS))
        employee = f"E{rng.randrange(30):03d}"
        rows.append(
            {
                "transaction_id": f"T{number:05d}",
                "card_id": f"K{employee[1:]}",
                "employee_id": employee,
                "transacted_at": datetime.combine(day, datetime.min.time())
                + timedelta(hours=rng.randrange(24)),
                "transacted_date": day,
                "amount": float(rng.randrange(5, 500) * 1000),
                "currency": "KRW",
                "merchant_id": f"M{rng.randrange(40):03d}",
                "merchant_name": f"가맹점 {rng.randrange(40)}",
                "mcc": "5812",
                "merchant_category": rng.choice(CATEGORIES),
                "merchant_region": "서울",
                "transaction_status": "approved",
            }
        )
    transactions = pd.DataFrame(rows)
    by_id = transactions.set_index("transaction_id")

    hits = []
    for row in transactions.itertuples():
        for rule_id, rule_set, status, severity, _en, _ko in RULES:
            if rng.random() < 0.06:
                suppressed = rule_id == "late_night" and rng.random() < 0.1
                hits.append(
                    {
                        "rule_hit_id": f"{row.transaction_id}:{rule_id}",
                        "transaction_id": row.transaction_id,
                        "rule_id": rule_id,
                        "rule_set": rule_set,
                        "rule_status": status,
                        "is_rule_active": True,
                        "is_rule_alerting": status == "active",
                        "severity": severity,
                        "reason": f"{rule_id} fired at {row.transacted_at:%H:%M}",
                        "employee_id": row.employee_id,
                        "card_id": row.card_id,
                        "merchant_id": row.merchant_id,
                        "merchant_key": row.merchant_id,
                        "merchant_name": row.merchant_name,
                        "transacted_at": row.transacted_at,
                        "transacted_date": row.transacted_date,
                        "amount": row.amount,
                        "is_suppressed": suppressed,
                        "suppression_id": "SUP-0001" if suppressed else None,
                        "is_alert_candidate": status == "active"
                        and rule_set == "cardwatch"
                        and not suppressed,
                    }
                )
    rule_hits = pd.DataFrame(hits)
    candidates = rule_hits[rule_hits["is_alert_candidate"]].drop(
        columns=[
            "rule_status",
            "is_rule_active",
            "is_rule_alerting",
            "is_suppressed",
            "suppression_id",
            "is_alert_candidate",
            "merchant_id",
        ]
    )

    alerted = sorted(
        set(candidates["transaction_id"]) | set(transactions["transaction_id"].sample(40, random_state=seed))
    )
    alerts = pd.DataFrame(
        [
            {
                "transaction_id": tid,
                "alert_date": by_id.loc[tid, "transacted_date"],
                "route": "hard"
                if tid
                in set(candidates.loc[candidates["rule_id"] == "restricted_merchant", "transaction_id"])
                else ("ranked" if rng.random() < 0.8 else "exploration"),
                "rank": rng.randrange(1, 40),
                "score": round(rng.random(), 4),
                "amount": by_id.loc[tid, "amount"],
                "reasons": json.dumps(["late_night"]),
                "model_version": "v2",
            }
            for tid in alerted
        ]
    )
    legacy = transactions.sample(120, random_state=seed + 1)
    legacy_alerts = pd.DataFrame(
        {
            "alert_id": [f"L{n:04d}" for n in range(len(legacy))],
            "transaction_id": legacy["transaction_id"].to_numpy(),
            "alerted_by": ["legacy_rule_weekend" if n % 2 else "legacy_tree" for n in range(len(legacy))],
            "legacy_filter": ["rule" if n % 2 else "tree" for n in range(len(legacy))],
            "alerted_at": pd.to_datetime(legacy["transacted_date"]) + pd.Timedelta(days=1),
            "legacy_score": [rng.random() for _ in range(len(legacy))],
        }
    )
    reviewed_ids = sorted(
        set(alerts["transaction_id"].iloc[::2]) | set(legacy_alerts["transaction_id"].iloc[::3])
    )
    outcomes = []
    for n, tid in enumerate(reviewed_ids):
        decision = ("confirmed", "cleared", "cleared", "partial", None)[n % 5]
        amount = float(by_id.loc[tid, "amount"])
        opened = datetime.combine(by_id.loc[tid, "transacted_date"], datetime.min.time()) + timedelta(days=1)
        outcomes.append(
            {
                "case_id": f"H{n:04d}",
                "transaction_id": tid,
                "alerted_by": "legacy_rule",
                "opened_at": opened,
                "explanation_requested_at": opened + timedelta(days=1),
                "explanation_received_at": opened + timedelta(days=5),
                "decided_at": None if decision is None else opened + timedelta(days=9),
                "decision": decision,
                "is_confirmed_misuse": decision in ("confirmed", "partial"),
                "is_decided": decision is not None,
                "recovered_amount": {"confirmed": amount, "partial": round(amount / 2), "cleared": 0.0}.get(
                    decision or ""
                ),
            }
        )
    case_outcomes = pd.DataFrame(outcomes)
    outcome_by_tx = case_outcomes.set_index("transaction_id")

    dim_rules = []
    for rule_id, rule_set, status, severity, name_en, name_ko in RULES:
        mine = rule_hits[rule_hits["rule_id"] == rule_id]
        reviewed = mine[mine["transaction_id"].isin(outcome_by_tx.index[outcome_by_tx["is_decided"]])]
        confirmed = mine[
            mine["transaction_id"].isin(outcome_by_tx.index[outcome_by_tx["is_confirmed_misuse"]])
        ]
        dim_rules.append(
            {
                "rule_id": rule_id,
                "model_name": f"rule_{rule_id}",
                "rule_set": rule_set,
                "rule_number": None,
                "name_en": name_en,
                "name_ko": name_ko,
                "typology": "timing",
                "rule_description": name_en,
                "severity": severity,
                "owner": "monitoring.lead",
                "rule_status": status,
                "rule_version": 1,
                "sources_needed": "card_transactions",
                "optional_sources": "",
                "missing_sources": "leave" if rule_id == "round_amount" else "",
                "is_active": rule_id != "round_amount",
                "is_alerting": status == "active",
                "model_path": "",
                "hit_count": len(mine),
                "suppressed_hit_count": int(mine["is_suppressed"].sum()),
                "alert_candidate_count": int(mine["is_alert_candidate"].sum()),
                "hit_amount": float(mine["amount"].sum()),
                "first_hit_at": mine["transacted_at"].min(),
                "last_hit_at": mine["transacted_at"].max(),
                "reviewed_hit_count": len(reviewed),
                "confirmed_hit_count": len(confirmed),
                "confirmed_amount": float(confirmed["amount"].sum()),
                "recovered_amount": float(
                    outcome_by_tx.loc[confirmed["transaction_id"], "recovered_amount"].sum()
                )
                if len(confirmed)
                else 0.0,
                "confirmed_share_of_reviewed": len(confirmed) / len(reviewed) if len(reviewed) else None,
            }
        )

    leave = pd.DataFrame(
        [
            {
                "leave_id": "LV1",
                "employee_id": "E001",
                "leave_start_date": START + timedelta(days=10),
                "leave_end_date": START + timedelta(days=14),
                "leave_type": "annual",
            },
            {
                "leave_id": "LV2",
                "employee_id": "E002",
                "leave_start_date": START + timedelta(days=30),
                "leave_end_date": START + timedelta(days=31),
                "leave_type": "sick",
            },
        ]
    )
    trips = pd.DataFrame(
        [
            {
                "trip_id": "TR1",
                "employee_id": "E001",
                "trip_start_date": START + timedelta(days=20),
                "trip_end_date": START + timedelta(days=22),
                "destination_region": "부산",
            }
        ]
    )
    suppressions = pd.DataFrame(
        [
            {
                "suppression_id": "SUP-0001",
                "rule_id": "late_night",
                "employee_id": "E004",
                "merchant_id": None,
                "reason": "Night-shift meals",
                "owner": "monitoring.lead",
                "valid_from": date(2024, 1, 1),
                "expires_on": date(2099, 12, 31),
            },
            {
                "suppression_id": "SUP-0002",
                "rule_id": "late_night",
                "employee_id": None,
                "merchant_id": "M001",
                "reason": "24h canteen",
                "owner": "monitoring.lead",
                "valid_from": date(2024, 1, 1),
                "expires_on": date(2024, 12, 31),
            },
        ]
    )
    load_log = pd.DataFrame(
        [
            {
                "load_id": "L1",
                "source": "card_transactions",
                "file": "tx_2025_03.csv",
                "file_sha256": "a",
                "status": "loaded",
                "rows_read": 905,
                "rows_accepted": 900,
                "rows_quarantined": 5,
                "rows_set_aside": 0,
                "message": None,
                "started_at": datetime(2025, 4, 30, 1),
                "finished_at": datetime(2025, 4, 30, 1, 1),
            },
            {
                "load_id": "L2",
                "source": "employees",
                "file": "employees.csv",
                "file_sha256": "b",
                "status": "loaded",
                "rows_read": 30,
                "rows_accepted": 30,
                "rows_quarantined": 0,
                "rows_set_aside": 0,
                "message": None,
                "started_at": datetime(2025, 4, 30, 1),
                "finished_at": datetime(2025, 4, 30, 1, 2),
            },
            {
                "load_id": "L3",
                "source": "trips",
                "file": "trips_bad.csv",
                "file_sha256": "c",
                "status": "rejected",
                "rows_read": 0,
                "rows_accepted": 0,
                "rows_quarantined": 0,
                "rows_set_aside": 0,
                "message": "cannot decode file as UTF-8 or CP949",
                "started_at": datetime(2025, 4, 30, 1),
                "finished_at": datetime(2025, 4, 30, 1, 3),
            },
        ]
    )
    quarantine = pd.DataFrame(
        [
            {
                "load_id": "L1",
                "source": "card_transactions",
                "file": "tx_2025_03.csv",
                "file_sha256": "a",
                "line": 10 + n,
                "kind": "quarantined",
                "reason": "amount is not a number" if n < 3 else "transacted_at missing",
                "raw_row": f"T9{n},K001,E001,,abc",
                "quarantined_at": datetime(2025, 4, 30, 1, 1),
            }
            for n in range(5)
        ]
    )
    sources = pd.DataFrame(
        [
            {
                "source": "card_transactions",
                "is_required": True,
                "is_present": True,
                "row_count": 900,
                "last_loaded_at": datetime(2025, 4, 30, 1, 1),
            },
            {
                "source": "employees",
                "is_required": False,
                "is_present": True,
                "row_count": 30,
                "last_loaded_at": datetime(2025, 4, 30, 1, 2),
            },
            {
                "source": "trips",
                "is_required": False,
                "is_present": False,
                "row_count": 0,
                "last_loaded_at": None,
            },
        ]
    )

    tables: dict[str, pd.DataFrame] = {
        "raw._load_log": load_log,
        "raw._quarantine": quarantine,
        "raw._sources": sources,
        "staging.stg_issuer__card_transactions": transactions,
        "staging.stg_hr__employees": employees,
        "staging.stg_hr__leave_periods": leave,
        "staging.stg_hr__trips": trips,
        "staging.stg_casework__case_outcomes": case_outcomes,
        "staging.stg_casework__legacy_alerts": legacy_alerts,
        "marts.dim_rules": pd.DataFrame(dim_rules),
        "marts.fct_rule_hits": rule_hits,
        "marts.fct_alert_candidates": candidates,
        "seeds.rule_suppressions": suppressions,
        "meta.published": pd.DataFrame({"published_at": [datetime(2025, 4, 30, 2)]}),
    }
    if with_ml:
        tables.update(_ml_tables(transactions, alerts, rng))

    path.unlink(missing_ok=True)
    connection = duckdb.connect(str(path))
    try:
        for name, frame in tables.items():
            schema = name.split(".")[0]
            connection.execute(f"create schema if not exists {schema}")
            connection.register("frame", frame)
            connection.execute(f"create table {name} as select * from frame")
            connection.unregister("frame")
        connection.execute("checkpoint")
    finally:
        connection.close()


def _ml_tables(
    transactions: pd.DataFrame, alerts: pd.DataFrame, rng: random.Random
) -> dict[str, pd.DataFrame]:
    scores = transactions[
        ["transaction_id", "employee_id", "card_id", "transacted_at", "transacted_date", "amount"]
    ].copy()
    scores["score"] = [round(rng.random(), 4) for _ in range(len(scores))]
    scores["probability"] = scores["score"] * 0.5
    scores["score_unsupervised"] = scores["score"] * 0.9
    scores["score_rules"] = 0.0
    scores["model_version"] = "v2"
    scores["mode"] = "hybrid"
    scores["reasons"] = [
        json.dumps(
            [
                {
                    "source": "model",
                    "key": "amount_z_peer",
                    "text_en": "Amount far above peers",
                    "text_ko": "동료 대비 높은 금액",
                    "contribution": 0.8,
                },
                {
                    "source": "rule",
                    "key": "late_night",
                    "text": "Late-night use (23:40)",
                    "contribution": 3.0,
                },
                {
                    "source": "anomaly",
                    "key": "merchant_novelty",
                    "text_en": "New merchant for this cardholder",
                    "text_ko": "처음 이용한 가맹점",
                    "contribution": -0.2,
                },
            ],
            ensure_ascii=False,
        )
        for _ in range(len(scores))
    ]
    scores["scored_at"] = datetime(2025, 4, 30, 1, 30)
    days = pd.date_range(START, periods=DAYS, freq="D")
    per_day = alerts.groupby("alert_date").size()
    volume = pd.DataFrame(
        {
            "day": days.date,
            "alerts": [int(per_day.get(day, 0)) for day in days.date],
            "hard": 0,
            "ranked": 0,
            "exploration": 0,
            "capacity": [8 if n < 30 else 10 for n in range(DAYS)],
        }
    )
    drift = pd.DataFrame(
        [
            {"day": day.date(), "feature": feature, "psi": round(0.02 * (n + 1) + 0.001 * i, 4)}
            for i, day in enumerate(days)
            for n, feature in enumerate(FEATURES)
        ]
    )
    decisions = pd.DataFrame(
        [
            {
                "decided_at": datetime(2025, 3, 31),
                "action": "promote",
                "version": "v1",
                "alias": "champion",
                "metrics": json.dumps({"roc_auc": 0.81, "average_precision": 0.22}),
                "reason": "first model",
            },
            {
                "decided_at": datetime(2025, 4, 15),
                "action": "evaluate",
                "version": "v2",
                "alias": "challenger",
                "metrics": json.dumps({"roc_auc": 0.86, "average_precision": 0.31}),
                "reason": "weekly retrain",
            },
            {
                "decided_at": datetime(2025, 4, 29),
                "action": "promote",
                "version": "v2",
                "alias": "champion",
                "metrics": json.dumps({"roc_auc": 0.86, "average_precision": 0.31}),
                "reason": "beats champion on AP",
            },
        ]
    )
    months = [date(2025, 3, 1), date(2025, 4, 1)]
    precision = pd.DataFrame(
        [
            {
                "month": month,
                "system": system,
                "alerts": 200,
                "reviewed": 150,
                "confirmed": confirmed,
                "precision": confirmed / 150,
            }
            for month in months
            for system, confirmed in (("cardwatch", 45), ("legacy", 15))
        ]
    )
    recall = pd.DataFrame(
        [
            {"month": months[0], "system": "cardwatch", "estimate": 0.5, "low": 0.4, "high": 0.6},
            {"month": months[1], "system": "cardwatch", "estimate": 0.8, "low": 0.6, "high": 0.9},
            {"month": months[0], "system": "legacy", "estimate": 0.3, "low": 0.2, "high": 0.4},
            {"month": months[1], "system": "legacy", "estimate": 0.25, "low": 0.15, "high": 0.35},
        ]
    )
    curve = []
    for system, scale in (("cardwatch", 1.0), ("legacy", 0.4)):
        for step in range(10):
            threshold = round(0.1 * step, 1)
            alerts_per_day = 40.0 - 4 * step
            curve.append(
                {
                    "system": system,
                    "threshold": threshold,
                    "alerts_per_day": alerts_per_day,
                    "precision": round(scale * (0.1 + 0.05 * step), 3),
                    "recall": round(scale * (0.9 - 0.08 * step), 3),
                    "net_value_krw": 0.0,
                }
            )
    return {
        "marts.fct_scores": scores,
        "marts.fct_alerts": alerts,
        "monitoring.alert_volume_daily": volume,
        "monitoring.feature_drift_daily": drift,
        "monitoring.model_decisions": decisions,
        "monitoring.precision_at_capacity": precision,
        "monitoring.estimated_recall": recall,
        "monitoring.threshold_curve": pd.DataFrame(curve),
    }


def build_case_store(url: str, snapshot: Path, *, cases: int = 12) -> CaseStore:
    """Open cases for the top-scored Cardwatch alerts of the snapshot, and move a few along."""
    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        alerts = connection.execute(
            """
            select alerts.transaction_id, transactions.card_id, transactions.employee_id, alerts.amount, alerts.score,
                   alerts.alert_date, '["late_night"]' as reasons, transactions.transacted_at, transactions.merchant_name,
                   transactions.merchant_category, transactions.merchant_region
            from marts.fct_alerts as alerts
            join staging.stg_issuer__card_transactions as transactions using (transaction_id)
            order by alerts.score desc, alerts.transaction_id
            limit ?
            """,
            [cases],
        ).df()
    finally:
        connection.close()
    store = CaseStore(url).create()
    store.open_cases(alerts)
    lead = store.actor("lead.lee", "lead")
    queue = store.list_cases(lead, sort="score")
    first, second = queue["case_id"].iloc[0], queue["case_id"].iloc[1]
    store.assign(lead, first, "reviewer.kim")
    store.assign(lead, second, "reviewer.choi")
    return store
