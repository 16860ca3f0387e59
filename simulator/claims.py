"""Expense claims (경비 청구) for card transactions: purpose, text, attendees, official-event tag."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd

CLIENTS = [
    "(주)대한정밀", "한빛물산", "세진테크", "(주)동서산업", "미래엔지니어링", "(주)한성케미칼", "우성건설",
    "태광전자", "(주)신영유통", "광명기계", "(주)에이스솔루션", "한국소재", "(주)나래시스템", "대림상사",
    "성원ENG", "(주)코리아텍", "삼진화학", "(주)유니온메탈", "청운물류", "(주)그린에너지",
]  # fmt: skip
TOPICS = ["산업안전", "품질경영", "데이터분석", "리더십", "회계실무", "공정개선", "ESG", "노무관리"]

# note -> purpose_text templates; {client} {n} {dest} {dept} {month} {year} {topic} are filled per row
TEMPLATES: dict[str, list[str]] = {
    "lunch": ["점심 식대 ({n}인)", "팀 점심", "부서 중식 ({n}인)", "중식 (외근)"],
    "meeting": ["회의 다과", "거래처 미팅 음료", "내부 회의 간식"],
    "overtime": ["야근 식대 ({n}인)", "야근 석식"],
    "taxi": ["외근 이동 택시비", "거래처 방문 택시", "업무 이동 교통비"],
    "late_taxi": ["야근 후 귀가 택시", "심야 퇴근 교통비"],
    "fuel": ["업무차량 주유", "현장 차량 주유", "출장 차량 주차·통행료"],
    "team_dinner": ["{dept} 회식 ({n}인)", "팀 월례 회식", "프로젝트 완료 회식 ({n}인)"],
    "second_round": ["회식 2차 ({n}인)", "{dept} 회식 2차"],
    "client": ["{client} 미팅 식대 ({n}인)", "{client} 접대", "{client} 담당자 저녁 미팅"],
    "client_second_round": ["{client} 접대 2차", "{client} 미팅 후 간담회"],
    "weekend_client": [
        "주말 {client} 행사 대응 ({n}인)",
        "주말 고객 미팅 ({client})",
        "{client} 긴급 이슈 주말 미팅",
    ],
    "golf": ["{client} 골프 접대 (사전승인)", "{client} 임원 라운딩 ({n}인)"],
    "night_shift": ["야간근무 식대 ({n}인)", "야간 교대조 간식"],
    "duty": ["주말 근무 식대 ({n}인)", "휴일 비상근무 식대"],
    "supplies": ["사무용품 구입", "도서 구입", "인쇄물 제작", "택배 발송", "업무용 소모품"],
    "seminar": ["{topic} 교육 등록비", "{topic} 세미나 참가비"],
    "wreath": ["경조사 화환", "거래처 경조 화환"],
    "holiday_gift": ["명절 고객 선물용 상품권", "설·추석 거래처 선물"],
    "client_gift": ["{client} 선물", "거래처 감사 선물"],
    "client_gift_legit": ["{client} 선물", "거래처 감사 선물", "{client} 창립기념 선물"],
    "pantry": ["탕비실 간식 구입", "사무실 비품 (탕비실)", "구급약품 구입", "회의용 다과"],
    "trip_transport": ["{dest} 출장 교통비", "{dest} 출장 왕복 교통"],
    "trip_hotel": ["{dest} 출장 숙박", "{dest} 출장 숙박비"],
    "trip_meal": ["{dest} 출장 식대", "{dest} 출장 중 식사 ({n}인)"],
    "trip_taxi": ["{dest} 출장 현지 교통", "{dest} 출장 택시"],
    "hof_day": ["{month}월 호프데이", "{dept} {month}월 호프데이"],
    "year_end": ["{year}년 {dept} 송년회", "{year} 송년 행사"],
    "year_end_second_round": ["{year} 송년회 2차", "송년 행사 2차"],
}
SECOND_CLAIM = ["{text} (추가 청구)", "{text}", "{text} 정산"]


def _fill(template: str, fields: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Format one template for many rows at once (object-array string concatenation)."""
    out = np.full(len(rows), "", dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name:
            out = out + fields[name][rows]
    return out


def build_claims(
    txns: pd.DataFrame,
    dept_names: np.ndarray,
    region_names: np.ndarray,
    params: dict[str, Any],
    rng: np.random.Generator,
    now_ts: int,
) -> pd.DataFrame:
    """One claim per claimed approval (two for double-claimed ones), sorted and numbered."""
    cp = params["claims"]
    base = txns[
        txns["claim"].to_numpy() & (txns["status"] == "approved").to_numpy() & (txns["amount"] > 0).to_numpy()
    ]
    legit = (base["typology"] == "").to_numpy()
    keep = ~legit | (rng.random(len(base)) < cp["claim_share"])
    base = base[keep]
    n = len(base)
    median, sigma = cp["delay_days"]
    delay_days = np.floor(median * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)
    delay_days = np.minimum(delay_days, cp["max_delay_days"])
    ts = base["ts"].to_numpy()
    day_start = ts - ts % 86400
    submitted = day_start + delay_days * 86400 + (rng.uniform(8.8, 19.5, n) * 3600).astype(np.int64)
    submitted = np.maximum(submitted, ts + 600)

    notes = base["note"].to_numpy().astype(str)
    fields = {
        "client": np.array(CLIENTS, dtype=object)[rng.integers(0, len(CLIENTS), n)],
        "n": np.maximum(1, base["attendees"].to_numpy()).astype(str).astype(object),
        "dest": region_names[base["region"].to_numpy()],
        "dept": dept_names[base["dept"].to_numpy()],
        "month": base["month_of_year"].to_numpy().astype(str).astype(object),
        "year": base["year"].to_numpy().astype(str).astype(object),
        "topic": np.array(TOPICS, dtype=object)[rng.integers(0, len(TOPICS), n)],
    }
    pick = rng.random(n)
    texts = np.full(n, "업무 경비", dtype=object)
    for note in np.unique(notes):
        options = TEMPLATES.get(note)
        if not options:
            continue
        rows = np.flatnonzero(notes == note)
        choice = (pick[rows] * len(options)).astype(np.int64)
        for j, template in enumerate(options):
            sel = rows[choice == j]
            texts[sel] = _fill(template, fields, sel)
    claims = pd.DataFrame(
        {
            "tx": base["tx_index"].to_numpy(),
            "submitted": submitted,
            "purpose_category": base["purpose"].to_numpy(),
            "purpose_text": np.array(texts, dtype=object),
            "attendee_count": base["attendees"].to_numpy(),
            "is_official_event": base["official"].to_numpy(),
        }
    )
    double = base["double_claim"].to_numpy()
    second = claims[double].copy()
    second["submitted"] = second["submitted"] + rng.integers(7, 41, len(second)) * 86400
    forms = rng.integers(0, len(SECOND_CLAIM), len(second))
    second["purpose_text"] = [
        SECOND_CLAIM[f].format(text=t) for f, t in zip(forms, second["purpose_text"], strict=True)
    ]
    claims = pd.concat([claims, second], ignore_index=True)
    claims = claims[claims["submitted"] < now_ts]
    claims = claims.sort_values(["submitted", "tx"], kind="stable").reset_index(drop=True)
    return claims
