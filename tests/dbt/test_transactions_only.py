"""A card feed alone (the Toronto purchasing-card case): no HR, no claims, employee_id absent.

The project builds, card_id stands in for the employee, and every rule that needs a missing source is
reported inactive and raises no alert.
"""

from __future__ import annotations

import pytest

from tests.dbt.dbt_helpers import query, run_dbt
from tests.dbt.warehouse_factory import build_landing, write_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt")]

NEEDS_MORE_THAN_CARDS = {
    "bar_without_official_event",
    "per_person_cap",
    "near_home",
    "outside_duty_area",
    "on_leave",
    "after_termination",
    "related_party_merchant",
    "peer_outlier",
}


@pytest.fixture(scope="module")
def transactions_only(tmp_path_factory: pytest.TempPathFactory):
    work_dir = tmp_path_factory.mktemp("dbt_cards_only")
    warehouse = work_dir / "warehouse.duckdb"
    write_warehouse(warehouse, build_landing(hr=False))
    run_dbt(["build"], warehouse, work_dir)
    return warehouse


def test_rules_needing_absent_sources_are_inactive(transactions_only) -> None:
    rows = query(transactions_only, "select rule_id, is_active, missing_sources from marts.dim_rules")
    inactive = {rule_id for rule_id, is_active, _ in rows if not is_active}
    assert inactive == NEEDS_MORE_THAN_CARDS
    assert all(missing for rule_id, is_active, missing in rows if not is_active)


def test_inactive_rules_raise_no_alerts(transactions_only) -> None:
    rows = query(transactions_only, "select distinct rule_id from marts.fct_alert_candidates")
    alerting = {rule_id for (rule_id,) in rows}
    assert alerting and not (alerting & NEEDS_MORE_THAN_CARDS)


def test_card_id_stands_in_for_the_employee(transactions_only) -> None:
    rows = query(
        transactions_only,
        "select count(*) filter (where employee_id <> card_id or not is_employee_id_from_card), count(*) "
        "from staging.stg_issuer__card_transactions",
    )
    mismatched, total = rows[0]
    assert total > 0 and mismatched == 0
    (features,) = query(transactions_only, "select count(*) from features.fct_transaction_features")[0]
    assert features == total
