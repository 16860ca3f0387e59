"""Korean and English labels of the dashboard, and how numbers and amounts are written."""

from __future__ import annotations

import math
from typing import Any

LANGUAGES: dict[str, str] = {"ko": "한국어", "en": "English"}
DEFAULT_LANGUAGE = "ko"

# key -> (English, Korean)
LABELS: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("Cardwatch: corporate-card monitoring", "Cardwatch 법인카드 모니터링"),
    "language": ("Language / 언어", "언어 / Language"),
    "role": ("Role", "역할"),
    "user_name": ("Your name", "이름"),
    "section_monitoring": ("Monitoring", "모니터링"),
    "section_review": ("Review", "검토"),
    "section_operations": ("Operations", "운영"),
    "page_overview": ("Overview", "개요"),
    "page_rules": ("Rules", "규칙"),
    "page_thresholds": ("Thresholds", "임계값"),
    "page_cases": ("Cases", "사건"),
    "page_audit": ("Audit trail", "감사 기록"),
    "page_models": ("Models", "모델"),
    "page_data_quality": ("Data quality", "데이터 품질"),
    "snapshot_published": ("Snapshot published", "스냅샷 게시 시각"),
    "no_snapshot": (
        "No published snapshot at {path}. Run `cardwatch run` to build and publish one.",
        "{path}에 게시된 스냅샷이 없습니다. `cardwatch run`으로 생성하세요.",
    ),
    "audit_listed": (
        "The latest {listed} of {total} events are listed; choose a period to read older ones.",
        "{total}건 중 최근 {listed}건을 표시합니다. 이전 이벤트는 기간을 선택해 보세요.",
    ),
    "queue_listed": (
        "The first {listed} of {total} cases by this order are listed; filter to narrow the queue.",
        "이 정렬 기준으로 {total}건 중 처음 {listed}건을 표시합니다. 필터로 대기열을 좁히세요.",
    ),
    "no_recall_estimate": (
        "No recall estimate for this system and period yet: its random review sample has no matured decision "
        "in these months, so the misuse it missed cannot be estimated.",
        "이 시스템과 기간의 재현율 추정이 아직 없습니다: 무작위 검토 표본에 확정된(성숙한) 결정이 없어 놓친 부정사용을 "
        "추정할 수 없습니다.",
    ),
    "not_computed": (
        "Not computed yet: the pipeline has not produced {table}.",
        "아직 계산되지 않았습니다: 파이프라인이 {table}을(를) 만들지 않았습니다.",
    ),
    "not_allowed": ("Your role ({role}) may not {what}.", "현재 역할({role})은 {what} 권한이 없습니다."),
    "bad_actor": ("Cannot act as this person: {error}", "이 사용자로 작업할 수 없습니다: {error}"),
    "nothing_here": ("Nothing to show for these filters.", "조건에 맞는 데이터가 없습니다."),
    "all": ("All", "전체"),
    "yes": ("yes", "예"),
    "no": ("no", "아니오"),
    # systems
    "system": ("System", "시스템"),
    "system_cardwatch": ("Cardwatch", "Cardwatch(신규)"),
    "system_legacy": ("Legacy filter", "기존 필터"),
    "cardwatch_fallback": (
        "Cardwatch alerts (marts.fct_alerts) are not computed yet; counting the rule alert candidates instead.",
        "Cardwatch 경보(marts.fct_alerts)가 아직 계산되지 않아 규칙 경보 후보를 대신 집계합니다.",
    ),
    # overview
    "period": ("Period", "기간"),
    "department": ("Department", "부서"),
    "rule": ("Rule", "규칙"),
    "alerts": ("Alerts", "경보 건수"),
    "alerts_per_day": ("Alerts per day", "일평균 경보"),
    "days_over_capacity": ("Days over capacity", "처리 한도 초과 일수"),
    "reviewed": ("Reviewed", "검토 완료"),
    "hit_rate": ("Hit rate", "적중률"),
    "confirmed": ("Confirmed misuse", "부정사용 확정"),
    "confirmed_amount": ("Confirmed amount", "확정 금액"),
    "recovered_amount": ("Recovered amount", "환수 금액"),
    "estimated_recall": ("Estimated recall", "추정 재현율"),
    "estimated_missed": ("Estimated missed misuse", "추정 미탐지 부정사용"),
    "missed_interval": (
        "{low:,.0f} to {high:,.0f} cases (90% interval)",
        "{low:,.0f}~{high:,.0f}건 (90% 구간)",
    ),
    "backlog": ("Open cases (backlog)", "미결 사건"),
    "overdue_explanations": ("Overdue explanations", "소명 기한 경과"),
    "alerts_vs_capacity": ("Alerts per day against review capacity", "일별 경보 건수와 처리 한도"),
    "hit_rate_over_time": ("Hit rate by month (confirmed / reviewed)", "월별 적중률 (확정 / 검토)"),
    "amounts_by_month": ("Confirmed and recovered amounts by month (KRW)", "월별 확정·환수 금액 (원)"),
    "capacity": ("Capacity", "처리 한도"),
    "day": ("Day", "일자"),
    "month": ("Month", "월"),
    "series": ("Series", "구분"),
    "value": ("Value", "값"),
    "amount_krw": ("Amount (KRW)", "금액 (원)"),
    "count": ("Count", "건수"),
    # rules
    "scorecard": ("Rule scorecard", "규칙 성과표"),
    "overlap": ("Rule overlap (transactions hit by both rules)", "규칙 중복 (두 규칙이 함께 탐지한 거래 수)"),
    "rule_set": ("Rule set", "규칙 묶음"),
    "suppressions": ("Suppressions (allowlist)", "예외 처리 목록"),
    "suppression_proposals": ("Proposed suppressions", "예외 처리 제안"),
    "add_suppression": ("Propose a suppression", "예외 처리 제안하기"),
    "suppression_saved": (
        "Suppression proposal {id} saved to the change log.",
        "예외 처리 제안 {id}이(가) 변경 기록에 저장되었습니다.",
    ),
    "suppression_note": (
        "Proposals are kept in the case store's change log (threshold_changes, parameter suppression:<rule>). "
        "A lead applies them; the pipeline then adds them to seeds/rule_suppressions.",
        "제안은 사건 저장소의 변경 기록(threshold_changes, parameter suppression:<규칙>)에 남습니다. "
        "책임자가 승인하면 파이프라인이 seeds/rule_suppressions에 반영합니다.",
    ),
    "employee_id_optional": ("Employee id (optional)", "직원 ID (선택)"),
    "merchant_id_optional": ("Merchant id (optional)", "가맹점 ID (선택)"),
    "reason": ("Reason", "사유"),
    "owner": ("Owner", "담당자"),
    "expires_on": ("Expires on", "만료일"),
    "submit": ("Save", "저장"),
    "rule_catalog": ("Rule catalog", "규칙 목록"),
    "status": ("Status", "상태"),
    "backtest": ("Draft and shadow rules: backtest on history", "초안·시범 규칙: 과거 데이터 백테스트"),
    "no_drafts": ("No draft or shadow rules in the catalog.", "초안 또는 시범 운영 중인 규칙이 없습니다."),
    "backtest_rule": ("Rule to backtest", "백테스트할 규칙"),
    "backtest_window": (
        "History {start} to {end} ({days} days); review capacity {capacity} per day. "
        "Same calculation as `cardwatch rules backtest {rule}`.",
        "기간 {start} ~ {end} ({days}일), 하루 처리 한도 {capacity}건. "
        "`cardwatch rules backtest {rule}`와 같은 계산입니다.",
    ),
    "backtest_no_data": (
        "The snapshot holds no transactions to backtest on.",
        "백테스트할 거래 데이터가 없습니다.",
    ),
    "backtest_missing_sources": (
        "Sources {sources} are not loaded, so this rule cannot fire on this data.",
        "원천 {sources}이(가) 적재되지 않아 이 규칙은 현재 데이터에서 탐지할 수 없습니다.",
    ),
    "added_alerts": ("Added alerts", "추가 경보"),
    "added_alerts_help": (
        "Unsuppressed hits that no alerting rule raises today: new work for reviewers.",
        "현재 경보 규칙이 잡지 않는, 예외 처리되지 않은 탐지: 검토자의 새 업무입니다.",
    ),
    "added_precision": ("Precision of added alerts", "추가 경보 정밀도"),
    "added_precision_help": (
        "Confirmed / reviewed among the added alerts; unreviewed ones are unknown, never clean.",
        "추가 경보 중 확정 / 검토 완료. 검토되지 않은 건은 정상으로 보지 않고 미상으로 둡니다.",
    ),
    "added_per_day": ("Added alerts per day", "일평균 추가 경보"),
    "share_of_capacity": ("Share of daily capacity", "하루 처리 한도 대비"),
    "backtest_precision": (
        "Precision on reviewed hits only ({level} intervals; IPW corrects for who was reviewed)",
        "검토된 탐지 기준 정밀도 ({level} 구간, IPW는 검토 대상 선택 편향을 보정)",
    ),
    "backtest_unrepresented": (
        "Unrepresented: hits in groups where nothing was reviewed; no estimate speaks for them.",
        "추정 불가: 검토된 건이 하나도 없는 집단의 탐지로, 어떤 추정치도 이들을 대표하지 않습니다.",
    ),
    "subset_all": ("All hits", "전체 탐지"),
    "subset_added": ("Added alerts", "추가 경보"),
    "subset_overlapping": ("Already alerted", "기존 경보와 중복"),
    "backtest_overlap": ("Overlap with the alerting rules", "경보 규칙과의 중복"),
    "no_overlap": (
        "No alerting rule shares a hit with this rule.",
        "이 규칙과 탐지가 겹치는 경보 규칙이 없습니다.",
    ),
    "backtest_load": (
        "Days over capacity: {before} now, {after} with this rule active (of {days}); "
        "busiest day adds {peak} alerts.",
        "처리 한도 초과 일수: 현재 {before}일, 이 규칙 활성화 시 {after}일 (전체 {days}일). "
        "가장 많은 날 {peak}건 추가.",
    ),
    "active_rules": ("Alerting rules", "경보 규칙"),
    "hits": ("Hits", "탐지 건수"),
    # thresholds
    "tradeoff": ("Trade-off explorer", "임계값 트레이드오프"),
    "choose_by": ("Choose the operating point by", "운영 기준"),
    "by_capacity": ("Review capacity (alerts per day)", "처리 한도 (일일 경보 수)"),
    "by_threshold": ("Score threshold", "점수 임계값"),
    "review_cost": ("Review cost per alert (KRW)", "경보 1건 검토 비용 (원)"),
    "avg_misuse_amount": ("Average amount of a confirmed misuse (KRW)", "확정 부정사용 1건 평균 금액 (원)"),
    "recovery_rate": ("Share of a confirmed amount recovered (%)", "확정 금액 중 환수 비율 (%)"),
    "projected_alerts": ("Projected alerts per day", "예상 일일 경보"),
    "precision": ("Precision", "정밀도"),
    "recall": ("Recall", "재현율"),
    "net_value": ("Net value per day", "일일 순편익"),
    "threshold": ("Threshold", "임계값"),
    "propose_threshold": ("Propose this setting", "이 설정 제안하기"),
    "threshold_saved": (
        "Proposal {id} saved to the threshold change log.",
        "제안 {id}이(가) 임계값 변경 기록에 저장되었습니다.",
    ),
    "threshold_log": ("Threshold change log", "임계값 변경 기록"),
    "current_value": ("Value in force", "현재 적용값"),
    "curve_chart": ("Net value per day by projected alerts per day", "일일 경보 수에 따른 일일 순편익"),
    # cases
    "queue": ("Case queue", "사건 목록"),
    "assignee": ("Assignee", "담당자"),
    "assigned_mine": ("Mine", "내 사건"),
    "assigned_none": ("Unassigned", "미배정"),
    "alert_date": ("Alert date", "경보일"),
    "min_score": ("Minimum score", "최소 점수"),
    "sort_by": ("Sort by", "정렬"),
    "sort_score": ("Score", "점수"),
    "sort_amount": ("Amount", "금액"),
    "sort_age": ("Age (oldest first)", "경과일 (오래된 순)"),
    "cases_shown": ("Cases shown", "표시된 사건"),
    "queue_amount": ("Amount in queue", "목록 금액 합계"),
    "open_case": ("Open a case", "사건 열기"),
    "no_cases": ("No cases match these filters.", "조건에 맞는 사건이 없습니다."),
    "transaction": ("Transaction", "거래"),
    "employee_context": ("Cardholder context", "카드 사용자 정보"),
    "pseudonymised": (
        "Identity pseudonymised ({employee}) until the case is escalated.",
        "상향 보고 전까지 신원은 가명({employee})으로 표시됩니다.",
    ),
    "recent_spending": ("Spending in the 90 days before", "직전 90일 사용 내역"),
    "peers": ("Peers (same department and grade), 90 days", "동료 비교 (같은 부서·직급, 90일)"),
    "leave_and_trips": ("Leave and trips within 30 days", "전후 30일 휴가·출장"),
    "rules_fired": ("Rules that fired", "탐지한 규칙"),
    "model_reasons": ("Model: top contributions", "모델 주요 기여 요인"),
    "history": ("History", "처리 이력"),
    "actions": ("Actions", "조치"),
    "assign": ("Assign", "배정"),
    "assign_to": ("Assign to", "배정 대상"),
    "request_explanation": ("Request explanation (소명 요청)", "소명 요청"),
    "due_days": ("Days to answer", "회신 기한 (일)"),
    "message": ("Message", "요청 문구"),
    "record_explanation": ("Record explanation (소명 접수)", "소명 접수"),
    "explanation_category": ("Category", "소명 사유"),
    "explanation_text": ("Explanation", "소명 내용"),
    "decide": ("Decide", "결정"),
    "decision": ("Decision", "결정 내용"),
    "recovered": ("Recovered amount (KRW)", "환수 금액 (원)"),
    "note": ("Note", "메모"),
    "close_case": ("Close (종결)", "종결"),
    "comment": ("Add a note", "메모 추가"),
    "escalate": ("Escalate (상향 보고)", "상향 보고"),
    "reopen": ("Reopen (재조사)", "재조사"),
    "done": ("Saved: case {case} is now {status}.", "저장되었습니다: 사건 {case} 상태 {status}."),
    "concurrent": (
        "Someone else changed this case while you were reading it ({error}). Reload the case and try again.",
        "다른 사용자가 이 사건을 먼저 변경했습니다 ({error}). 사건을 다시 불러온 뒤 시도하세요.",
    ),
    "action_failed": ("Not saved: {error}", "저장되지 않았습니다: {error}"),
    "no_actions": (
        "No actions available to your role on this case now.",
        "현재 역할로 이 사건에 할 수 있는 조치가 없습니다.",
    ),
    "score": ("Score", "점수"),
    "amount": ("Amount", "금액"),
    "merchant": ("Merchant", "가맹점"),
    "when": ("When", "거래일시"),
    "case": ("Case", "사건"),
    "no_model_scores": ("This transaction has no model score.", "이 거래에는 모델 점수가 없습니다."),
    # audit
    "audit_events": ("Case events", "사건 이벤트"),
    "since": ("From", "시작일"),
    "until": ("To", "종료일"),
    "actor": ("Actor", "처리자"),
    # models
    "champion_challenger": ("Champion and challenger metrics over time", "챔피언·챌린저 모델 지표 추이"),
    "metric": ("Metric", "지표"),
    "drift": ("Feature drift (PSI) by day", "특성 분포 변화 (PSI, 일별)"),
    "latest_drift": ("Latest PSI per feature", "특성별 최근 PSI"),
    "features": ("Features", "특성"),
    "decisions": ("Promotions and rollbacks", "승격·롤백 기록"),
    "precision_at_capacity": ("Precision at capacity by month", "월별 처리 한도 내 정밀도"),
    "recall_by_month": ("Estimated recall by month", "월별 추정 재현율"),
    "scores_summary": ("Scored transactions by model version", "모델 버전별 채점 거래"),
    "drift_help": (
        "PSI above 0.25 is a large shift; 0.1-0.25 moderate.",
        "PSI 0.25 초과는 큰 변화, 0.1~0.25는 중간 변화입니다.",
    ),
    # data quality
    "sources": ("Sources", "데이터 원천"),
    "latest_loads": ("Latest loads", "최근 적재"),
    "reconciliation": (
        "Reconciliation: rows read = accepted + quarantined + set aside",
        "건수 대사: 읽은 행 = 적재 + 격리 + 제외",
    ),
    "quarantine": ("Quarantined rows by reason", "격리된 행 (사유별)"),
    "quarantine_rows": ("Quarantined rows", "격리된 행"),
    "failed_checks": ("Failed checks", "실패한 점검"),
    "no_failed_checks": ("No failed checks.", "실패한 점검이 없습니다."),
    "source": ("Source", "원천"),
    "files_loaded": ("Files loaded", "적재 파일"),
    "rows_quarantined": ("Rows quarantined", "격리 행"),
    "files_not_reconciled": ("Files not reconciled", "대사 불일치 파일"),
}

# Column headers of the tables the pages show: column -> (English, Korean)
COLUMNS: dict[str, tuple[str, str]] = {
    "rule_id": ("Rule", "규칙 ID"),
    "name": ("Name", "이름"),
    "rule_set": ("Set", "묶음"),
    "rule_status": ("Status", "상태"),
    "severity": ("Severity", "심각도"),
    "hit_count": ("Hits", "탐지"),
    "suppressed_hit_count": ("Suppressed", "예외 처리"),
    "alert_candidate_count": ("Alert candidates", "경보 후보"),
    "reviewed_hit_count": ("Reviewed", "검토"),
    "confirmed_hit_count": ("Confirmed", "확정"),
    "confirmed_share_of_reviewed": ("Hit rate", "적중률"),
    "confirmed_amount": ("Confirmed KRW", "확정 금액"),
    "recovered_amount": ("Recovered KRW", "환수 금액"),
    "is_active": ("Sources loaded", "원천 적재"),
    "is_alerting": ("Alerting", "경보 발생"),
    "missing_sources": ("Missing sources", "누락 원천"),
    "owner": ("Owner", "담당자"),
    "rule_version": ("Version", "버전"),
    "typology": ("Typology", "유형"),
    "suppression_id": ("Id", "ID"),
    "employee_id": ("Employee", "직원"),
    "merchant_id": ("Merchant", "가맹점"),
    "reason": ("Reason", "사유"),
    "valid_from": ("Valid from", "시작일"),
    "expires_on": ("Expires on", "만료일"),
    "is_expired": ("Expired", "만료"),
    "is_suppressed": ("Suppressed", "예외 처리"),
    "name_en": ("Name", "이름"),
    "name_ko": ("Name (Korean)", "이름"),
    "change_id": ("Change", "변경 ID"),
    "at": ("At (UTC)", "시각 (UTC)"),
    "actor": ("By", "처리자"),
    "role": ("Role", "역할"),
    "parameter": ("Parameter", "항목"),
    "old_value": ("Old", "이전 값"),
    "new_value": ("New", "새 값"),
    "status": ("Status", "상태"),
    "hits": ("Hits", "탐지"),
    "hits_per_day": ("Hits per day", "일평균 탐지"),
    "hit_amount": ("Hit amount KRW", "탐지 금액"),
    "reviewed": ("Reviewed", "검토"),
    "confirmed": ("Confirmed", "확정"),
    "new_transactions": ("Not alerted today", "현행 미경보"),
    "new_confirmed": ("New confirmed catches", "신규 확정 탐지"),
    "subset": ("Hits of", "탐지 구분"),
    "lower": ("Low", "하한"),
    "upper": ("High", "상한"),
    "ipw_precision": ("IPW precision", "IPW 보정 정밀도"),
    "ipw_lower": ("IPW low", "IPW 하한"),
    "ipw_upper": ("IPW high", "IPW 상한"),
    "unrepresented": ("Unrepresented", "추정 불가"),
    "rule_alerts": ("Its alerts", "해당 규칙 경보"),
    "shared": ("Shared", "중복 건수"),
    "jaccard": ("Jaccard", "자카드 지수"),
    "share_of_hits": ("Share of these hits", "본 규칙 탐지 중 비율"),
    "share_of_rule": ("Share of its alerts", "해당 규칙 경보 중 비율"),
    "case_id": ("Case", "사건"),
    "alert_date": ("Alert date", "경보일"),
    "amount": ("Amount KRW", "금액"),
    "score": ("Score", "점수"),
    "status_label": ("Status", "상태"),
    "assignee": ("Assignee", "담당자"),
    "alerted_by": ("Alerted by", "탐지 근거"),
    "age_days": ("Age (days)", "경과일"),
    "escalated": ("Escalated", "상향 보고"),
    "transacted_date": ("Date", "거래일"),
    "category": ("Category", "업종"),
    "transactions": ("Transactions", "거래 수"),
    "total_amount": ("Total KRW", "합계"),
    "kind": ("Kind", "구분"),
    "start_date": ("Start", "시작"),
    "end_date": ("End", "종료"),
    "detail": ("Detail", "내용"),
    "source": ("Source", "원천"),
    "text": ("Reason", "사유"),
    "contribution": ("Contribution", "기여도"),
    "action": ("Action", "조치"),
    "note": ("Note", "메모"),
    "version": ("Version", "버전"),
    "decided_at": ("Decided at", "결정 시각"),
    "alias": ("Alias", "별칭"),
    "metrics": ("Metrics", "지표"),
    "feature": ("Feature", "특성"),
    "psi": ("PSI", "PSI"),
    "day": ("Day", "일자"),
    "system": ("System", "시스템"),
    "month": ("Month", "월"),
    "alerts": ("Alerts", "경보"),
    "precision": ("Precision", "정밀도"),
    "estimate": ("Estimate", "추정치"),
    "low": ("Low", "하한"),
    "high": ("High", "상한"),
    "model_version": ("Model version", "모델 버전"),
    "mode": ("Mode", "모드"),
    "scored": ("Scored", "채점 건수"),
    "mean_score": ("Mean score", "평균 점수"),
    "last_scored_at": ("Last scored", "최근 채점"),
    "is_required": ("Required", "필수"),
    "is_present": ("Present", "적재됨"),
    "row_count": ("Rows", "행 수"),
    "last_loaded_at": ("Last loaded", "최근 적재"),
    "file": ("File", "파일"),
    "load_status": ("Load status", "적재 상태"),
    "rows_read": ("Read", "읽음"),
    "rows_accepted": ("Accepted", "적재"),
    "rows_quarantined": ("Quarantined", "격리"),
    "rows_set_aside": ("Set aside", "제외"),
    "reconciles": ("Reconciles", "대사 일치"),
    "message": ("Message", "메시지"),
    "finished_at": ("Finished", "완료 시각"),
    "line": ("Line", "행 번호"),
    "raw_row": ("Row", "원본 행"),
    "rows": ("Rows", "행 수"),
    "check": ("Check", "점검"),
    "subject": ("Subject", "대상"),
    "mean_90d": ("Mean 90-day spend KRW", "90일 평균 사용액"),
    "employee_90d": ("This cardholder KRW", "해당 사용자"),
    "percentile": ("Percentile among peers", "동료 중 백분위"),
    "peer_count": ("Peers", "동료 수"),
    "recall": ("Recall", "재현율"),
    "alerts_per_day": ("Alerts per day", "일일 경보"),
    "net_value_krw": ("Net value per day KRW", "일일 순편익"),
    "threshold": ("Threshold", "임계값"),
    "event_id": ("Event", "이벤트"),
    "before": ("Before", "이전"),
    "after": ("After", "이후"),
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("New", "신규"),
    "assigned": ("Assigned", "배정"),
    "explanation_requested": ("Explanation requested", "소명 요청"),
    "explanation_received": ("Explanation received", "소명 접수"),
    "decided": ("Decided", "결정"),
    "closed": ("Closed", "종결"),
}

DECISION_LABELS: dict[str, tuple[str, str]] = {
    "confirmed": ("Confirmed misuse (full recovery)", "부정사용 확정 (전액 환수)"),
    "partial": ("Partial recovery", "일부 환수"),
    "cleared": ("Cleared (legitimate)", "정상 종결"),
}

EXPLANATION_LABELS: dict[str, tuple[str, str]] = {
    "business_meal": ("Business meal", "업무 식대"),
    "client_entertainment": ("Client entertainment", "거래처 접대"),
    "official_event": ("Official event", "공식 행사"),
    "business_trip": ("Business trip", "출장"),
    "overtime_or_shift": ("Overtime or shift work", "야근·교대 근무"),
    "supplies": ("Supplies", "소모품 구매"),
    "merchant_error": ("Merchant error", "가맹점 오류"),
    "personal_use_admitted": ("Personal use admitted", "사적 사용 인정"),
    "no_response": ("No response", "무응답"),
    "other": ("Other", "기타"),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "reviewer": ("Reviewer", "모니터링 담당자"),
    "lead": ("Monitoring lead", "모니터링 책임자"),
    "auditor": ("Auditor", "감사"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "ko" else pair[0]


def label(key: str, lang: str = DEFAULT_LANGUAGE, **values: Any) -> str:
    """The label for `key` in `lang`, with `{placeholders}` filled from `values`."""
    text = _pick(LABELS[key], lang) if key in LABELS else key
    return text.format(**values) if values else text


def column(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The header shown for a table column; unknown columns keep their name."""
    return _pick(COLUMNS[name], lang) if name in COLUMNS else name


def named(table: dict[str, tuple[str, str]], key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A status, decision, category or role in `lang` (the key itself when unknown)."""
    return _pick(table[key], lang) if key in table else key


def krw(amount: float | int | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """An amount in won with thousands separators: 1,234,567원 / ₩1,234,567."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "-"
    value = round(float(amount))
    text = f"{abs(value):,}"
    sign = "-" if value < 0 else ""
    return f"{sign}{text}원" if lang == "ko" else f"{sign}₩{text}"


def number(value: float | int | None, digits: int = 0) -> str:
    """A count or a measure with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "-"
    return f"{share * 100:.{digits}f}%"
