"""The rule library on a hand-made warehouse: planted rows fire, clean rows do not, the catalog is complete."""

from __future__ import annotations

import pytest

from tests.dbt.dbt_helpers import manifest, query
from tests.dbt.warehouse_factory import PLANTED, build_landing

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

# DOMAIN.md's 22 typologies: number 14 is two models (after_termination, dormant_card), and so is
# number 20 (duplicate_payment within minutes, repeat_payment within hours).
EXPECTED_CARDWATCH_RULES = 24
EXPECTED_LEGACY_RULES = 5


def planted_cases() -> list[tuple[str, str, bool]]:
    build_landing(hr=True)
    return list(PLANTED)


@pytest.mark.parametrize(("transaction_id", "rule_id", "flagged"), planted_cases())
def test_planted_rows(built_project, transaction_id: str, rule_id: str, flagged: bool) -> None:
    hits = query(
        built_project.warehouse,
        "select reason from marts.fct_rule_hits where transaction_id = ? and rule_id = ?",
        [transaction_id, rule_id],
    )
    assert bool(hits) == flagged, f"{rule_id} on {transaction_id}: expected flagged={flagged}, got {hits}"
    if hits:
        assert hits[0][0], "every hit states a reason"


def test_every_rule_has_a_planted_positive_and_negative_case() -> None:
    cases = planted_cases()
    positives = {rule for _, rule, flagged in cases if flagged}
    negatives = {rule for _, rule, flagged in cases if not flagged}
    assert len(positives) == EXPECTED_CARDWATCH_RULES + EXPECTED_LEGACY_RULES
    assert negatives == positives


def test_clean_baseline_raises_only_calendar_and_repeat_hits(built_project) -> None:
    """Ordinary weekday lunches and supplies hit nothing but the (noisy) weekend / holiday rules, and
    repeat_payment where the same set lunch is paid at the same place within two days: that rule is a
    low-severity input to the ranking, whose precision the models learn from reviews."""
    rows = query(
        built_project.warehouse,
        "select distinct rule_id from marts.fct_rule_hits where transaction_id like 'B%'",
    )
    assert {rule for (rule,) in rows} <= {"weekend_holiday", "legacy_weekend_holiday", "repeat_payment"}


def test_catalog_lists_every_rule_active(built_project) -> None:
    rows = query(
        built_project.warehouse,
        "select rule_set, count(*), count(*) filter (where is_active) from marts.dim_rules group by rule_set",
    )
    counts = {rule_set: (total, active) for rule_set, total, active in rows}
    assert counts["cardwatch"] == (EXPECTED_CARDWATCH_RULES, EXPECTED_CARDWATCH_RULES)
    assert counts["legacy"] == (EXPECTED_LEGACY_RULES, EXPECTED_LEGACY_RULES)


def test_catalog_counts_confirmed_outcomes(built_project) -> None:
    (confirmed,) = query(
        built_project.warehouse,
        "select confirmed_hit_count from marts.dim_rules where rule_id = 'restricted_merchant'",
    )[0]
    assert confirmed == 1  # P_RESTRICTED's case was confirmed


def test_shadow_and_legacy_rules_raise_no_alerts(built_project) -> None:
    rows = query(
        built_project.warehouse,
        """
        select distinct rules.rule_id
        from marts.fct_alert_candidates as alerts
        inner join marts.dim_rules as rules on alerts.rule_id = rules.rule_id
        where rules.rule_status <> 'active' or rules.rule_set = 'legacy'
        """,
    )
    assert rows == []
    (shadow_hits,) = query(
        built_project.warehouse, "select hit_count from marts.dim_rules where rule_id = 'round_amount'"
    )[0]
    assert shadow_hits > 0  # measured all the same


def test_every_rule_model_has_metadata_and_a_unit_test(built_project) -> None:
    graph = manifest(built_project.work_dir)
    rule_models = {
        node["name"]: node
        for node in graph["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/rules/")
    }
    assert len(rule_models) == EXPECTED_CARDWATCH_RULES + EXPECTED_LEGACY_RULES
    tested = {test["model"] for test in graph["unit_tests"].values()}
    missing_tests = sorted(set(rule_models) - tested)
    assert missing_tests == [], f"rule models without a dbt unit test: {missing_tests}"
    missing_meta = sorted(name for name, node in rule_models.items() if "rule" not in node["config"]["meta"])
    assert missing_meta == []
