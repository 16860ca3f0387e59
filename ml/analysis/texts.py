"""Words of the detection review in English and Korean, and number formats.

Every sentence is a template filled with computed numbers; nothing here is a measured value.
"""

from __future__ import annotations

import math
from typing import Any

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Detection review: performance and operating plan", "탐지 성과 검토 및 운영 계획"),
    "meta": (
        "Warehouse {warehouse}; period {start} to {end} ({days} days); {purchases} card purchases worth {amount}. "
        "Review cost {cost} per alert, capacity {capacity} alerts per day, intervals at {confidence}.",
        "웨어하우스 {warehouse}; 기간 {start} ~ {end} ({days}일); 카드 승인 {purchases}건, 금액 {amount}. "
        "경보 1건당 검토 비용 {cost}, 일일 처리 한도 {capacity}건, 신뢰수준 {confidence}.",
    ),
    "truth_note": (
        "Ground truth of the simulation is given: true values are shown beside every estimate.",
        "시뮬레이션 정답이 주어져, 모든 추정치 옆에 실제 값을 함께 표시합니다.",
    ),
    # section 1
    "s1": ("1. How the current filters perform", "1. 현재 필터의 성과"),
    "s1_summary": (
        "The legacy filters raised {alerts} alerts ({per_day} per day with alerts). Reviewers decided {reviewed} "
        "({review_rate}) and confirmed {confirmed}: precision {precision}, so {false_share} of reviewed alerts were "
        "false alarms. Confirmed amount {confirmed_amount}, recovered {recovered}.",
        "기존 필터는 경보 {alerts}건(경보 발생일 평균 {per_day}건)을 냈습니다. 담당자는 {reviewed}건({review_rate})을 "
        "결정했고 {confirmed}건을 부정으로 확정했습니다. 적중률 {precision}, 즉 검토한 경보의 {false_share}가 오경보였습니다. "
        "확정 금액 {confirmed_amount}, 환수 금액 {recovered}.",
    ),
    "s1_systems": ("Scorecard per system", "시스템별 성과표"),
    "s1_rules": ("Scorecard per legacy rule and the legacy tree", "기존 규칙·기존 트리 모델별 성과표"),
    "s1_trend": ("Trend by month", "월별 추이"),
    "s1_recall": ("Estimated recall", "추정 재현율"),
    "s1_precision": ("Precision corrected for reviewer error", "검토 오류를 보정한 적중률"),
    "precision_corrected": (
        "Reviewers' decisions are labels with errors. Assuming the alert queue confirms {sensitivity} of real "
        "misuse and clears {specificity} of clean transactions (alert_review_accuracy: {source}), misuse makes up "
        "{precision} [{lower}, {upper}] of all legacy alerts, about {detected} [{detected_lower}, {detected_upper}] "
        "transactions. Uncorrected, the reviewed share is {reviewed} and, weighted by 1 / review rate of each "
        "alert reason, {weighted}: false confirmations, not misuse, make up the difference. The interval covers "
        "sampling error only, not an error in the assumed accuracy.",
        "담당자의 결정은 오류가 섞인 라벨입니다. 경보 검토가 실제 부정의 {sensitivity}를 확정하고 정상 거래의 "
        "{specificity}를 종결한다고 가정하면(alert_review_accuracy: {source}), 기존 경보 전체 중 부정 비율은 {precision} "
        "[{lower}, {upper}], 약 {detected}건 [{detected_lower}, {detected_upper}]입니다. 보정하지 않으면 검토 기준 "
        "적중률은 {reviewed}, 경보 사유별 검토율의 역수로 가중하면 {weighted}이며, 그 차이는 부정이 아니라 오확정입니다. "
        "구간은 표본 오차만 반영하며 가정한 정확도의 오차는 포함하지 않습니다.",
    ),
    "accuracy_source": ("to be measured by a QA double review", "QA 이중 검토로 측정할 값"),
    "precision_inconsistent": (
        "For {systems} the weighted share of confirmations lies outside what the assumed accuracy allows: the "
        "assumption does not fit these decisions; measure it.",
        "{systems}은(는) 가중 확정 비율이 가정한 정확도로 가능한 범위를 벗어납니다. 가정이 실제 결정과 맞지 않으니 "
        "측정이 필요합니다.",
    ),
    "recall_sample": (
        "Random sample of non-alerted transactions: {sampled} reviewed, {found} misuse found, out of {population} "
        "non-alerted purchases. Estimated missed misuse {misses} [{misses_lower}, {misses_upper}] transactions, "
        "{amount} [{amount_lower}, {amount_upper}]. Estimated recall {recall} [{recall_lower}, {recall_upper}] by "
        "count and {amount_recall} [{amount_recall_lower}, {amount_recall_upper}] by amount, against the misuse "
        "among the alerts estimated above ({detected}).",
        "미경보 거래 무작위 표본: {population}건 중 {sampled}건 검토, 부정 {found}건 발견. 추정 누락 부정 {misses}건 "
        "[{misses_lower}, {misses_upper}], 금액 {amount} [{amount_lower}, {amount_upper}]. 추정 재현율(건수) {recall} "
        "[{recall_lower}, {recall_upper}], 금액 기준 {amount_recall} [{amount_recall_lower}, {amount_recall_upper}]. "
        "경보 내 부정은 위에서 추정한 값({detected}건)입니다.",
    ),
    "recall_assumption": (
        "These figures assume the sample's in-depth reviews confirm {sensitivity} of real misuse and clear "
        "{specificity} of clean transactions (random_sample_review_accuracy: {source}); at that false confirmation "
        "rate about {false_share} of the sample's {found} confirmations are expected to be clean. Uncorrected, they "
        "would mean {misses} [{misses_lower}, {misses_upper}] missed transactions and a recall of {recall} "
        "[{recall_lower}, {recall_upper}].",
        "이 값은 표본의 심층 검토가 실제 부정의 {sensitivity}를 확정하고 정상 거래의 {specificity}를 종결한다는 가정에 "
        "따른 것입니다(random_sample_review_accuracy: {source}). 그 오확정률이면 표본 확정 {found}건 중 약 "
        "{false_share}는 정상 거래로 예상됩니다. 보정하지 않으면 누락 {misses}건 [{misses_lower}, {misses_upper}], "
        "재현율 {recall} [{recall_lower}, {recall_upper}]을 뜻합니다.",
    ),
    "recall_fragile": (
        "Most of the sample's confirmations are then false: the estimate rests on the assumed specificity, and "
        "the sample's reviews need a false confirmation rate ({fpr}) well under the miss rate they measure.",
        "그러면 표본 확정 건 대부분이 오확정입니다. 추정치는 가정한 특이도에 달려 있으며, 표본 검토의 오확정률({fpr})은 "
        "측정하려는 누락률보다 충분히 낮아야 합니다.",
    ),
    "recall_inconsistent": (
        "The sample confirmed fewer cases than the assumed false confirmation rate alone would produce ({fpr}): the "
        "assumed specificity of this route is too low; measure it.",
        "표본의 확정 건수가 가정한 오확정률({fpr})만으로 예상되는 수보다 적습니다. 이 경로의 특이도 가정이 너무 낮으니 "
        "측정이 필요합니다.",
    ),
    "accuracy_truth": (
        "Measured against the truth, the alert queue decided with sensitivity {alert_se} and specificity "
        "{alert_sp} ({alert_n} decided cases), the random sample with sensitivity {sample_se} and specificity "
        "{sample_sp} ({sample_misuse} misuse and {sample_clean} clean cases).",
        "정답과 비교하면 경보 검토의 민감도는 {alert_se}, 특이도는 {alert_sp}(결정 {alert_n}건), 무작위 표본 검토의 "
        "민감도는 {sample_se}, 특이도는 {sample_sp}(부정 {sample_misuse}건, 정상 {sample_clean}건)였습니다.",
    ),
    "recall_zero": (
        "The sample found nothing: by the rule of three the miss rate is at most {bound} per transaction, up to "
        "{bound_count} missed transactions. A sample this small cannot tell a good filter from a bad one.",
        "표본에서 부정이 발견되지 않았습니다. 3의 법칙에 따라 누락률 상한은 거래당 {bound}, 누락 건수로는 최대 "
        "{bound_count}건입니다. 이 정도 표본으로는 좋은 필터와 나쁜 필터를 구분할 수 없습니다.",
    ),
    "recall_none": (
        "No reviewed random sample of non-alerted transactions exists, so missed misuse cannot be estimated.",
        "미경보 거래의 무작위 표본 검토 결과가 없어 누락 부정을 추정할 수 없습니다.",
    ),
    "recall_truth": (
        "Against the truth: legacy precision {precision} (reviewed precision above: {observed}), recall {recall} by "
        "count and {amount_recall} by amount; {missed} misuse transactions worth {missed_amount} were never alerted.",
        "정답과 비교: 기존 필터의 실제 적중률 {precision}(검토 기준 적중률 {observed}), 재현율 건수 {recall}, 금액 "
        "{amount_recall}; 부정 {missed}건, {missed_amount}이 한 번도 경보되지 않았습니다.",
    ),
    "recall_simulated": (
        "The recommended exploration sample (section 4), drawn from the truth at rate {rate} and decided with the "
        "assumed accuracy of the random-sample reviews: {sampled} reviewed, {found} confirmed; estimated misses "
        "{misses} [{misses_lower}, {misses_upper}] against {true_missed} true; estimated recall {recall} "
        "[{recall_lower}, {recall_upper}] against {true_recall} true.",
        "권고 탐색 표본(4절)을 비율 {rate}로 정답에서 뽑아 무작위 표본 검토의 가정 정확도로 결정한 결과: {sampled}건 "
        "검토, {found}건 확정; 추정 누락 {misses}건 [{misses_lower}, {misses_upper}] (실제 {true_missed}건); 추정 재현율 "
        "{recall} [{recall_lower}, {recall_upper}] (실제 {true_recall}).",
    ),
    "recall_gap": (
        "Reviewers' decisions are labels with errors, and every label-based estimate inherits them: "
        "{false_confirmed} of {confirmed} confirmed cases are clean by the truth (inflating precision and the "
        "misuse counted as detected), and {false_cleared} of {cleared} cleared cases were misuse.",
        "담당자의 결정은 오류가 섞인 라벨이며, 라벨에 기반한 모든 추정치가 그 오류를 물려받습니다: 확정 {confirmed}건 중 "
        "{false_confirmed}건은 정답상 정상이고(적중률과 탐지 건수를 부풀림), 종결 {cleared}건 중 {false_cleared}건은 "
        "부정이었습니다.",
    ),
    "recall_row_audit": ("legacy · audit sample", "기존 · 감사 표본"),
    "recall_row_explore": ("legacy · recommended sample", "기존 · 권고 표본"),
    "recall_row_raw": ("legacy · audit sample, uncorrected", "기존 · 감사 표본, 보정 전"),
    # section 2
    "s2": ("2. Where and why they fail", "2. 어디서, 왜 실패하는가"),
    "s2_typ": ("Misuse typologies missed", "놓친 부정 유형"),
    "typ_text": (
        "Typologies the legacy filters never alerted: {never}. The Cardwatch rule library (backtest on the same "
        "period) reaches recall {cw_recall} against {legacy_recall} for the legacy filters.",
        "기존 필터가 한 번도 경보하지 못한 유형: {never}. Cardwatch 규칙 라이브러리(같은 기간 백테스트)의 재현율은 "
        "{cw_recall}로, 기존 필터의 {legacy_recall}보다 높습니다.",
    ),
    "typ_none": (
        "No ground truth given: misses by typology come from the confirmed cases of the exploration sample.",
        "정답이 없으면 유형별 누락은 탐색 표본의 확정 건으로 파악합니다.",
    ),
    "s2_noisy": ("Noisy rules", "오경보가 많은 규칙"),
    "noisy_text": (
        "{n} detectors with at least {min_reviewed} reviews have precision under {max_precision}; the legacy ones "
        "among them raised {legacy_alerts} of {legacy_total} legacy alerts ({share}). {acceptance} of the "
        "explanations received were accepted and the case cleared.",
        "검토 {min_reviewed}건 이상 중 적중률 {max_precision} 미만인 탐지기는 {n}개입니다. 그중 기존 규칙이 기존 경보 "
        "{legacy_total}건 중 {legacy_alerts}건({share})을 냈습니다. 접수된 소명의 {acceptance}가 받아들여져 종결되었습니다.",
    ),
    "s2_bias": ("Selection bias", "선택 편향"),
    "bias_text": (
        "{unreviewed} of the legacy alerts were never reviewed, and labels exist for {labelled} of {purchases} "
        "purchases ({labelled_share}), nearly all of them alerts; the random audit holds {audit} reviewed cases. "
        "Precision is {naive_precision} naive and {ipw_precision} with inverse-propensity weights; recall among "
        "labelled rows is {naive_recall} naive and {ipw_recall} weighted. Unreviewed alerts and unalerted "
        "transactions are unknown, never clean.",
        "기존 경보의 {unreviewed}는 검토되지 않았고, 라벨은 전체 승인 {purchases}건 중 {labelled}건({labelled_share})뿐이며 "
        "거의 모두 경보 건입니다. 무작위 감사 검토 건은 {audit}건입니다. 적중률은 단순 {naive_precision}, 역성향 가중 "
        "{ipw_precision}; 라벨 내 재현율은 단순 {naive_recall}, 가중 {ipw_recall}입니다. 검토되지 않은 경보와 "
        "미경보 거래는 '정상'이 아니라 '모름'입니다.",
    ),
    "s2_overflow": ("Alert overflow and turnaround", "경보 적체와 처리 시간"),
    "overflow_text": (
        "On days with alerts the legacy filters raised {mean} on average (peak {peak}) against a capacity of "
        "{capacity}; {over} days were over capacity. Reviewers' observed throughput (95th percentile of cases "
        "opened per day) is {throughput}, exceeded on {over_throughput} days; the open-case backlog peaked at "
        "{max_backlog}. Median days to "
        "the explanation {explanation} (90th percentile {explanation_p90}), to the decision {decision} (90th "
        "percentile {decision_p90}).",
        "경보 발생일 평균 {mean}건(최대 {peak}건)으로 처리 한도 {capacity}건과 비교됩니다. 한도 초과일 {over}일. "
        "담당자의 실제 처리량(일일 개시 건수 95분위)은 {throughput}건으로 {over_throughput}일 초과되었고, 미결 적체는 최대 "
        "{max_backlog}건. 소명 접수까지 중앙값 {explanation}일(90분위 {explanation_p90}일), 결정까지 "
        "{decision}일(90분위 {decision_p90}일).",
    ),
    "s2_overlap": ("Overlap between detectors", "탐지기 간 중복"),
    "overlap_text": (
        "Jaccard index of the legacy detectors' alert sets. Most similar Cardwatch rule pairs: {pairs}.",
        "기존 탐지기 경보 집합의 자카드 지수입니다. 가장 비슷한 Cardwatch 규칙 쌍: {pairs}.",
    ),
    "s2_line": ("Below the line", "기준선 바로 아래"),
    "line_text": (
        "Misuse rate in the band {band} just under and just over each amount line (reviewed labels; truth when "
        "given). A high rate under the line means spending is shaped to stay below it (splits, limit hugging).",
        "각 금액 기준선 바로 아래와 위({band} 폭)의 부정 비율입니다(검토 라벨, 정답이 있으면 정답). 기준선 아래 비율이 "
        "높으면 분할결제·한도 직하처럼 기준선을 피하는 사용입니다.",
    ),
    # section 3
    "s3": ("3. Recommended thresholds", "3. 권고 임계값"),
    "s3_rules": ("Rule set by marginal value", "한계가치 기준 규칙 구성"),
    "greedy_text": (
        "Rules added one at a time by confirmed amount per new alert. Rules whose new alerts pay for their review "
        "({cost} each): {worth}. Rules with label coverage under {coverage} are judged on too few labels: {thin}; "
        "they need shadow mode and the exploration sample before a verdict.",
        "새 경보 1건당 확정 금액이 큰 순서로 규칙을 하나씩 추가했습니다. 새 경보가 검토 비용({cost})을 넘는 규칙: "
        "{worth}. 라벨 비율이 {coverage} 미만인 규칙은 판단 근거가 부족합니다: {thin}. 섀도 운영과 탐색 표본으로 "
        "라벨을 모은 뒤 판단합니다.",
    ),
    "greedy_truth": (
        "By the truth the best first rules are {true_first}.",
        "정답 기준으로는 {true_first} 순이 가장 가치가 큽니다.",
    ),
    "s3_scores": ("Score thresholds", "점수 임계값"),
    "pending": (
        "The new system's scores (marts.fct_scores) and alerts (marts.fct_alerts) are not in the warehouse yet: "
        "the hybrid model's thresholds are pending. The curve below thresholds the sum of the Cardwatch rules' "
        "severities, which is available now.",
        "새 시스템의 점수(marts.fct_scores)와 경보(marts.fct_alerts)가 아직 웨어하우스에 없어 하이브리드 모델의 "
        "임계값은 보류입니다. 아래 곡선은 지금 사용할 수 있는 Cardwatch 규칙 심각도 합계에 대한 것입니다.",
    ),
    "curve_name": ("Score: {name}", "점수: {name}"),
    "curve_point": (
        "{kind} threshold {threshold}: {per_day} alerts per day ({busy} on busy days), precision {precision}, "
        "recall {recall}, net value {net}.",
        "{kind} 임계값 {threshold}: 일 {per_day}건(혼잡일 {busy}건), 적중률 {precision}, 재현율 {recall}, 순편익 {net}.",
    ),
    "curve_true": (
        "True at the same threshold: precision {precision}, recall {recall}, net value {net}.",
        "같은 임계값의 실제 값: 적중률 {precision}, 재현율 {recall}, 순편익 {net}.",
    ),
    "curve_budget": (
        "Against the truth, reviewing the top {k} scored transactions a day: precision@k {precision}, recall "
        "{recall} ({amount_recall} by amount), card (employee) precision@k {card_precision}.",
        "정답 기준으로 매일 점수 상위 {k}건을 검토하면: precision@k {precision}, 재현율 {recall}(금액 {amount_recall}), "
        "카드(직원) precision@k {card_precision}.",
    ),
    "capacity_kind": ("Capacity-optimal", "처리한도 최적"),
    "cost_kind": ("Cost-optimal", "비용 최적"),
    "throughput_kind": (
        "At the reviewers' observed throughput ({throughput} per day), the capacity-optimal",
        "담당자의 실제 처리량(일 {throughput}건) 기준 처리한도 최적",
    ),
    "no_capacity_fit": (
        "No threshold keeps the alerts within capacity.",
        "처리 한도 안에 드는 임계값이 없습니다.",
    ),
    # section 4
    "s4": ("4. Operating plan", "4. 운영 계획"),
    "s4_combine": ("How rules and the model combine", "규칙과 모델의 결합"),
    "combine": (
        [
            "Hard policy violations always alert, beyond capacity: {hard}.",
            "Every other rule flag and the anomaly scores become features of the supervised tree model "
            "(stacking); the model ranks the grey zone.",
            "The ranked grey zone fills the remaining capacity of {capacity} alerts per day at the threshold of "
            "section 3; below it a random exploration sample is reviewed.",
            "The legacy tree filter (precision {tree_precision}, {tree_unique} unique confirmed hits) runs in "
            "shadow beside the new model until the model beats it on the same window, then retires.",
        ],
        [
            "명백한 규정 위반은 처리 한도와 무관하게 항상 경보합니다: {hard}.",
            "그 밖의 규칙 플래그와 이상 점수는 지도학습 트리 모델의 입력(스태킹)이 되고, 모델이 회색지대를 순위화합니다.",
            "순위화된 회색지대는 3절의 임계값으로 일 {capacity}건 처리 한도의 남은 부분을 채우고, 그 아래에서는 "
            "무작위 탐색 표본을 검토합니다.",
            "기존 트리 필터(적중률 {tree_precision}, 고유 확정 {tree_unique}건)는 새 모델이 같은 기간에서 앞설 때까지 "
            "섀도로 함께 돌린 뒤 폐기합니다.",
        ],
    ),
    "s4_life": ("Rule life cycle", "규칙 생애주기"),
    "life": (
        [
            "draft: written and backtested on labelled history; no alerts.",
            "shadow: logs hits without alerting for at least {shadow} days (two statement cycles); hits enter the "
            "exploration sample so they get labels.",
            "active: after at least {min_reviewed} reviewed hits with precision of at least {min_precision}, or a "
            "confirmed hit no other detector catches.",
            "retired: precision under {max_precision} with no unique confirmed hit over a quarter; kept in the "
            "catalog for audit.",
            "Every status or threshold change is recorded with who, when and why.",
        ],
        [
            "초안(draft): 작성 후 라벨 이력으로 백테스트, 경보 없음.",
            "섀도(shadow): 최소 {shadow}일(결제 주기 두 번) 경보 없이 적중만 기록하고, 적중 건을 탐색 표본에 넣어 라벨을 모읍니다.",
            "운영(active): 검토 {min_reviewed}건 이상에서 적중률 {min_precision} 이상이거나, 다른 탐지기가 잡지 못한 확정 "
            "건이 있을 때.",
            "폐기(retired): 한 분기 동안 적중률 {max_precision} 미만이고 고유 확정 건이 없을 때; 감사용으로 카탈로그에 남김.",
            "상태나 임계값 변경은 모두 누가, 언제, 왜 바꿨는지 기록합니다.",
        ],
    ),
    "life_status": ("Rules in the catalog now: {counts}.", "현재 카탈로그의 규칙: {counts}."),
    "s4_retrain": ("Retraining and promotion", "재학습과 승격"),
    "retrain": (
        [
            "Retrain every {cadence} days on outcomes matured for {delay} days, weighted by 1 / review propensity.",
            "Evaluate prequentially: train on the past, skip the label delay, test on the next window.",
            "A challenger runs in shadow and is promoted when it beats the champion on average precision and "
            "precision at the daily capacity on the exploration sample of the same window.",
        ],
        [
            "{cadence}일마다 {delay}일 이상 지난 확정 결과로 재학습하고, 검토 성향의 역수로 가중합니다.",
            "전향적(prequential)으로 평가합니다: 과거로 학습하고 라벨 지연을 건너뛴 다음 구간에서 검증합니다.",
            "도전 모델은 섀도로 돌리고, 같은 기간 탐색 표본에서 평균 정밀도와 일일 처리 한도 기준 적중률이 기존 모델보다 "
            "높을 때 승격합니다.",
        ],
    ),
    "s4_explore": ("Exploration sample", "탐색 표본"),
    "explore": (
        "Review a random {rate} of non-alerted transactions: about {per_day} per day ({share} of capacity, {cost} "
        "per {window} days). Then a {window}-day window holds {n} reviews, enough that finding nothing bounds the "
        "miss rate at {target} (rule of three). It is the only unbiased source of labels: it measures missed "
        "misuse and recall, supplies the propensities that correct selection bias, and shows new typologies. It "
        "stays on permanently, stratified by {strata}.",
        "미경보 거래의 {rate}를 무작위로 검토합니다: 하루 약 {per_day}건(처리 한도의 {share}, {window}일당 {cost}). "
        "그러면 {window}일 구간에 검토 {n}건이 쌓여, 하나도 발견되지 않을 때 누락률 상한을 {target}로 묶을 수 있습니다"
        "(3의 법칙). 편향 없는 유일한 라벨 출처로, 누락 부정과 재현율을 측정하고 선택 편향 보정용 성향을 제공하며 새 "
        "부정 유형을 드러냅니다. {strata} 기준으로 층화하여 상시 유지합니다.",
    ),
    "s4_monthly": ("Monthly scorecard review", "월간 성과표 검토"),
    "monthly": (
        [
            "Per-rule and per-system scorecards with the month's trend; rules proposed for promotion, retuning "
            "or retirement (table above).",
            "Estimated missed misuse and recall with intervals from the exploration sample.",
            "Alert volume against capacity, backlog and days to decision.",
            "Threshold curve refreshed; any threshold change approved and logged.",
            "Champion / challenger results of the latest retraining.",
        ],
        [
            "규칙별·시스템별 성과표와 월간 추이; 승격·재조정·폐기 대상 규칙(위 표).",
            "탐색 표본에 기반한 누락 부정과 재현율 추정치(신뢰구간 포함).",
            "처리 한도 대비 경보량, 적체, 결정 소요일.",
            "임계값 곡선 갱신; 임계값 변경은 승인 후 기록.",
            "최근 재학습의 챔피언/도전자 비교 결과.",
        ],
    ),
    "s5": ("Parameters", "매개변수"),
    "none": ("none", "없음"),
    "and": (", ", ", "),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "system": ("System", "시스템"),
    "detector": ("Detector", "탐지기"),
    "alerts": ("Alerts", "경보"),
    "reviewed": ("Reviewed", "검토"),
    "confirmed": ("Confirmed", "확정"),
    "precision": ("Precision", "적중률"),
    "reviewed_precision": ("Reviewed precision", "검토 기준 적중률"),
    "weighted_precision": ("Weighted, uncorrected", "가중, 보정 전"),
    "corrected_precision": ("Corrected precision", "보정 적중률"),
    "corrected_lower": ("Lower", "하한"),
    "corrected_upper": ("Upper", "상한"),
    "true_precision": ("True precision", "실제 적중률"),
    "review_rate": ("Review rate", "검토율"),
    "confirmed_amount": ("Confirmed KRW", "확정 금액(원)"),
    "recovered_amount": ("Recovered KRW", "환수 금액(원)"),
    "unique_confirmed": ("Unique confirmed", "고유 확정"),
    "explanation_acceptance_rate": ("Explanations accepted", "소명 수용률"),
    "median_days_to_decision": ("Median days to decision", "결정 소요일(중앙값)"),
    "period": ("Month", "월"),
    "typology": ("Typology", "유형"),
    "transactions": ("Misuse transactions", "부정 거래"),
    "amount_at_stake": ("Amount at stake KRW", "부정 금액(원)"),
    "recall_legacy": ("Recall legacy", "재현율 기존"),
    "recall_cardwatch_rule": ("Recall Cardwatch rules", "재현율 Cardwatch 규칙"),
    "recall_hybrid": ("Recall hybrid", "재현율 하이브리드"),
    "rule_id": ("Rule", "규칙"),
    "line": ("Line KRW", "기준선(원)"),
    "below_rows": ("Rows below", "아래 건수"),
    "below_rate": ("Rate below", "아래 비율"),
    "above_rows": ("Rows above", "위 건수"),
    "above_rate": ("Rate above", "위 비율"),
    "true_below_rate": ("True rate below", "실제 아래 비율"),
    "true_above_rate": ("True rate above", "실제 위 비율"),
    "step": ("Step", "순서"),
    "added_alerts": ("New alerts", "새 경보"),
    "added_confirmed_amount": ("New confirmed KRW", "새 확정 금액(원)"),
    "value_per_added_alert": ("KRW per new alert", "새 경보당 금액(원)"),
    "added_net_value": ("Net value KRW", "순편익(원)"),
    "cumulative_alerts_per_day": ("Cumulative alerts per day", "누적 일 경보"),
    "label_coverage": ("Label coverage", "라벨 비율"),
    "true_step": ("True step", "실제 순서"),
    "threshold": ("Threshold", "임계값"),
    "alerts_per_day": ("Alerts per day", "일 경보"),
    "alerts_per_day_q": ("Busy-day alerts", "혼잡일 경보"),
    "recall": ("Recall", "재현율"),
    "net_value": ("Net value KRW", "순편익(원)"),
    "rule_status": ("Status", "상태"),
    "action": ("Proposed action", "제안 조치"),
    "parameter": ("Parameter", "매개변수"),
    "value": ("Value", "값"),
    "a": ("Rule A", "규칙 A"),
    "b": ("Rule B", "규칙 B"),
    "jaccard": ("Jaccard", "자카드"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "collect_labels": ("collect labels (shadow + exploration)", "라벨 수집(섀도+탐색)"),
    "keep_or_promote": ("keep / promote", "유지·승격"),
    "retire_or_retune": ("retire or retune", "폐기 또는 재조정"),
    "retune": ("retune (narrow the condition)", "재조정(조건 축소)"),
}


def text(key: str, lang: str, **values: Any) -> Any:
    """The template ``key`` in ``lang`` (``en`` or ``ko``) filled with ``values``; lists item by item."""
    template = TEXT[key][1 if lang == "ko" else 0]
    if isinstance(template, list):
        return [item.format(**values) for item in template]
    return template.format(**values)


def column(key: str, lang: str) -> str:
    """A table header."""
    pair = COLUMNS.get(key)
    return key if pair is None else pair[1 if lang == "ko" else 0]


def action(key: str, lang: str) -> str:
    """A proposed rule action in words."""
    pair = ACTIONS.get(key)
    return key if pair is None else pair[1 if lang == "ko" else 0]


def _missing(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_int(value: Any) -> str:
    """Whole number with thousands separators, ``-`` when missing."""
    return "-" if _missing(value) else f"{float(value):,.0f}"


def fmt_num(value: Any, digits: int = 1) -> str:
    """Number with ``digits`` decimals and thousands separators."""
    return "-" if _missing(value) else f"{float(value):,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """Share as a percentage (``0.076`` -> ``7.6%``)."""
    return "-" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def fmt_krw(value: Any, lang: str) -> str:
    """Amount in KRW with thousands separators (``1,234,000 KRW`` / ``1,234,000원``)."""
    if _missing(value):
        return "-"
    return f"{float(value):,.0f}원" if lang == "ko" else f"{float(value):,.0f} KRW"
