"""Which database backends the store suite ran on."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine

from .conftest import PG_ENV


def test_postgresql_backend_reachable() -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"store suite ran on SQLite only; set {PG_ENV} to also run it on PostgreSQL")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar_one() == 1
    engine.dispose()
