"""Pipeline settings from orchestration/config/*.yml (parameters are data, not literals)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "config"


@cache
def pipeline_config() -> dict[str, Any]:
    return yaml.safe_load((CONFIG_DIR / "pipeline.yml").read_text(encoding="utf-8"))
