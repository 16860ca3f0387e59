"""Seeded synthetic data for the model tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
ODDS_DIR = SHARED / "data" / "odds"


@pytest.fixture(scope="session")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """400 Gaussian rows and 12 rows shifted by 6 standard deviations on every feature."""
    rng = np.random.default_rng(7)
    normal = rng.normal(size=(400, 6))
    anomalies = rng.normal(size=(12, 6)) + 6.0
    X = pd.DataFrame(np.vstack([normal, anomalies]), columns=[f"f{j}" for j in range(6)])
    y = np.r_[np.zeros(400, dtype=int), np.ones(12, dtype=int)]
    return X, y
