"""The City of Toronto PCard export loads through its mapping with every row accounted for."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.load import ingest
from orchestration.settings import REPO_ROOT
from tests.conftest import shared_data

MAPPING = REPO_ROOT / "orchestration" / "mappings" / "toronto_pcard.yml"


@pytest.mark.external
@pytest.mark.slow
def test_toronto_reconciles_to_the_published_counts(tmp_path: Path) -> None:
    files = shared_data("toronto-pcard", "files")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "card_transactions").symlink_to(files, target_is_directory=True)
    report = ingest(landing, tmp_path / "w.duckdb", MAPPING)

    assert len(report.files) == 132 and report.ok
    assert all(item.reconciles for item in report.files)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    accepted, first, last, mccs, divisions, total, negatives = con.execute(
        "SELECT count(*), min(transacted_at)::date, max(transacted_at)::date, count(DISTINCT mcc),"
        " count(DISTINCT card_id), sum(amount), count(*) FILTER (amount < 0) FROM raw.card_transactions"
    ).fetchall()[0]
    assert accepted == 527_374
    assert (str(first), str(last)) == ("2010-02-24", "2021-12-31")
    assert negatives == 9_429
    assert abs(float(total) - 139.2e6) < 0.1e6
    # every other non-empty row is set aside with its reason, none silently dropped
    read = sum(item.rows_read for item in report.files)
    kinds = dict(con.execute("SELECT kind, count(*) FROM raw._quarantine GROUP BY kind").fetchall())
    assert read == accepted + kinds.get("set_aside", 0) + kinds.get("quarantined", 0)
    assert kinds.get("quarantined", 0) == 0
    reasons = [r[0] for r in con.execute("SELECT DISTINCT reason FROM raw._quarantine").fetchall()]
    assert reasons == ["subtotal row (per batch or currency): amounts and currency only, no transaction date"]
    # rows whose merchant-type cells were out of place are kept, with their original cells
    misaligned = con.execute(
        "SELECT count(*) FROM raw.card_transactions WHERE _extra LIKE '%_misaligned_mcc%' AND mcc IS NULL"
    ).fetchall()[0][0]
    assert 0 < misaligned < 100
    assert mccs + 1 >= 368 and divisions >= 100
