"""The rule catalog against the simulator's ground truth: hits and precision per rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_rule_catalog_hits_and_precision_against_truth(company_home: Path, landed_company: Path) -> None:
    cardwatch = Path(sys.executable).with_name("cardwatch")
    proc = subprocess.run([str(cardwatch), "run"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    con = duckdb.connect(str(company_home / "warehouse.duckdb"), read_only=True)
    try:
        con.execute(
            f"CREATE TEMP VIEW truth AS SELECT * FROM '{landed_company / 'truth' / 'transactions.parquet'}'"
        )
        scorecard = con.execute(
            """
            SELECT r.rule_id, r.rule_set, r.is_active, r.hit_count AS hits,
                   count(h.transaction_id) AS hit_rows,
                   avg(CASE WHEN t.is_misuse THEN 1 ELSE 0 END) AS precision
            FROM marts.dim_rules AS r
            LEFT JOIN marts.fct_rule_hits AS h USING (rule_id)
            LEFT JOIN truth AS t USING (transaction_id)
            GROUP BY ALL
            ORDER BY r.rule_id
            """
        ).fetchdf()
        misuse = con.execute("SELECT count(*) FROM truth WHERE is_misuse").fetchall()[0][0]
        caught = {
            rule_set: con.execute(
                "SELECT count(DISTINCT h.transaction_id) FROM marts.fct_rule_hits h JOIN truth t USING (transaction_id) "
                "WHERE t.is_misuse AND h.rule_set = ?",
                [rule_set],
            ).fetchall()[0][0]
            for rule_set in ("cardwatch", "legacy")
        }
    finally:
        con.close()
    print(scorecard.to_string())  # the per-rule table, shown with -s
    assert (scorecard["hits"] == scorecard["hit_rows"]).all(), "the catalog's hit counts match fct_rule_hits"
    fired = scorecard[scorecard["hits"] > 0]
    assert len(fired) >= 15, "most rules fire on a simulated company"
    # rules joining HR and related-party data are precise where they fire; the weekend rule is mostly noise
    by_rule = scorecard.set_index("rule_id")
    joined = by_rule.loc[["after_termination", "on_leave", "related_party_merchant"]]
    joined = joined[joined["hits"] > 0]
    assert len(joined) >= 2 and (joined["precision"] > 0.5).all()
    assert by_rule.loc["legacy_weekend_holiday", "precision"] < 0.2
    # the new rule library reaches misuse the legacy rules cannot see
    assert misuse > 0 and caught["cardwatch"] > caught["legacy"]
