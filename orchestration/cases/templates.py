"""The explanation request (소명 요청) sent to the cardholder, filled from the transaction facts.

The text names the transaction, not the person: delivery to the cardholder is addressed by the store's
employee id, so a reviewer working under a pseudonym can send it without learning who it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

TEMPLATE = """[법인카드 사용 소명 요청] 사건 {case_id}

아래 법인카드 사용 건에 대하여 {due:%Y-%m-%d}까지 소명 자료(사용 목적, 참석자, 증빙)를 제출해 주시기 바랍니다.
기한 내 제출이 없으면 제출된 자료만으로 판단합니다.

- 거래번호: {transaction_id}
- 거래일시: {when}
- 금액: {amount:,.0f}원
- 가맹점: {merchant}
- 검토 사유: {reasons}

Explanation request for case {case_id}: please explain the card transaction above (purpose, attendees,
receipts) by {due:%Y-%m-%d}."""


def render_explanation_request(
    case_id: str,
    transaction_id: str,
    amount: float,
    alert_date: date,
    reasons: Sequence[str],
    details: Mapping[str, Any] | None,
    due: date,
) -> str:
    facts = dict(details or {})
    merchant = " / ".join(
        str(facts[key]) for key in ("merchant_name", "merchant_category", "merchant_region") if facts.get(key)
    )
    return TEMPLATE.format(
        case_id=case_id,
        transaction_id=transaction_id,
        when=facts.get("transacted_at") or f"{alert_date:%Y-%m-%d}",
        amount=float(amount),
        merchant=merchant or "-",
        reasons=", ".join(reasons) or "-",
        due=due,
    )
