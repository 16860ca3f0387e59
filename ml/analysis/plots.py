"""Figures of the detection review as PNG bytes (matplotlib figures without pyplot, no display needed).

Korean labels need a CJK font (NanumGothic or Noto Sans CJK); without one the figures fall back to
English labels so no glyph is drawn as a box.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

KOREAN_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP")

LABELS = {
    "day": {"en": "Day", "ko": "일자"},
    "alerts_per_day": {"en": "Alerts per day", "ko": "일일 경보 수"},
    "alerts": {"en": "Legacy alerts", "ko": "기존 필터 경보"},
    "closed": {"en": "Cases decided", "ko": "결정 완료 건"},
    "backlog": {"en": "Open cases (backlog)", "ko": "미결 건(적체)"},
    "capacity": {"en": "Review capacity", "ko": "검토 처리 한도"},
    "throughput": {"en": "Observed throughput (p95)", "ko": "실제 처리량(95분위)"},
    "cases": {"en": "Cases", "ko": "건수"},
    "workload_title": {"en": "Legacy alerts vs review capacity", "ko": "기존 경보량과 검토 처리 한도"},
    "precision": {"en": "Precision (confirmed / reviewed)", "ko": "적중률(확정/검토)"},
    "precision_short": {"en": "Precision", "ko": "적중률"},
    "rule_title": {"en": "Alerts and precision per rule", "ko": "규칙별 경보 수와 적중률"},
    "alert_count": {"en": "Alerts (transactions)", "ko": "경보 수(거래)"},
    "jaccard_title": {"en": "Overlap of alert sets (Jaccard)", "ko": "경보 집합 중복도(자카드)"},
    "typology_title": {"en": "True recall by misuse typology", "ko": "부정 유형별 실제 재현율"},
    "recall": {"en": "Recall", "ko": "재현율"},
    "threshold": {"en": "Threshold", "ko": "임계값"},
    "net_value": {"en": "Net value (KRW)", "ko": "순편익(원)"},
    "curve_title": {"en": "Threshold curve", "ko": "임계값 곡선"},
    "estimated": {"en": "estimated (labels, IPW)", "ko": "추정(라벨, IPW)"},
    "true": {"en": "true (simulation truth)", "ko": "실제(시뮬레이션 정답)"},
    "capacity_point": {"en": "capacity-optimal", "ko": "처리한도 최적"},
    "cost_point": {"en": "cost-optimal", "ko": "비용 최적"},
    "recall_title": {"en": "Estimated vs true recall", "ko": "추정 재현율과 실제 재현율"},
    "recall_estimate": {"en": "estimate and interval", "ko": "추정치와 구간"},
}


@lru_cache(maxsize=1)
def korean_font() -> str | None:
    """Name of an installed font with Korean glyphs, or None.

    Fonts installed after matplotlib built its font cache are registered from the system font
    folders first.
    """
    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not any(name in installed for name in KOREAN_FONTS):
        for path in font_manager.findSystemFonts():
            if any(key in path.lower() for key in ("nanum", "notosanscjk", "notosanskr")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def plot_language(lang: str) -> str:
    """``ko`` when Korean was asked for and a Korean font exists, else ``en``."""
    return "ko" if lang == "ko" and korean_font() else "en"


def label(key: str, lang: str) -> str:
    """A figure label in the plot language."""
    return LABELS[key][plot_language(lang)]


def krw(value: float, _pos: object = None) -> str:
    """KRW with thousands separators (``1,234,000``)."""
    return f"{value:,.0f}"


@contextmanager
def figure(lang: str, width: float = 9.0, height: float = 4.5, ncols: int = 1) -> Iterator[tuple]:
    """A figure with the plot language's font; yields (figure, axes)."""
    font = korean_font() if plot_language(lang) == "ko" else None
    params = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    with mpl.rc_context(params):
        fig = Figure(figsize=(width, height), dpi=110)
        yield fig, fig.subplots(1, ncols)


def to_png(fig: Figure, legend_inches: float = 0.0) -> bytes:
    """PNG bytes of a figure; ``legend_inches`` at the bottom are kept free for a figure legend."""
    buffer = io.BytesIO()
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))
    fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.15)
    return buffer.getvalue()


def workload_plot(table: pd.DataFrame, lang: str, throughput: float | None = None) -> bytes:
    """Daily legacy alerts and decided cases against capacity (and observed throughput), with the backlog."""
    with figure(lang) as (fig, ax):
        ax.bar(table.index, table["alerts"], color="#9ecae1", label=label("alerts", lang), width=1.0)
        ax.plot(table.index, table["closed"], color="#3182bd", linewidth=1, label=label("closed", lang))
        ax.plot(table.index, table["backlog"], color="#e6550d", linewidth=1.5, label=label("backlog", lang))
        ax.axhline(table["capacity"].iloc[0], color="black", linestyle="--", label=label("capacity", lang))
        if throughput is not None and np.isfinite(throughput):
            ax.axhline(
                throughput, color="#756bb1", linestyle=":", linewidth=1.5, label=label("throughput", lang)
            )
        ax.set_xlabel(label("day", lang))
        ax.set_ylabel(label("cases", lang))
        ax.set_title(label("workload_title", lang))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5, fontsize=8)
        fig.autofmt_xdate()
        return to_png(fig)


def rule_plot(card: pd.DataFrame, lang: str, top: int = 15) -> bytes:
    """Horizontal bars of alerts per rule, with reviewed precision as dots on a second axis."""
    rows = card.sort_values("alerts", ascending=True).tail(top)
    with figure(lang, height=max(3.0, 0.35 * len(rows) + 1.2)) as (fig, ax):
        y = np.arange(len(rows))
        ax.barh(y, rows["alerts"], color="#9ecae1", label=label("alert_count", lang))
        ax.set_yticks(y, rows["detector"].str.replace("legacy_rule:", "legacy: ", regex=False), fontsize=8)
        ax.set_xlabel(label("alert_count", lang))
        ax.xaxis.set_major_formatter(FuncFormatter(krw))
        twin = ax.twiny()
        twin.plot(rows["precision"], y, "o", color="#e6550d", label=label("precision", lang))
        twin.set_xlim(0, max(0.3, float(np.nanmax(rows["precision"].to_numpy(dtype=float), initial=0)) * 1.1))
        twin.xaxis.set_major_formatter(PercentFormatter(1.0))
        twin.set_xlabel(label("precision", lang), color="#e6550d")
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        fig.legend(handles, [h.get_label() for h in handles], loc="lower center", ncol=2, fontsize=8)
        ax.set_title(label("rule_title", lang), pad=30)
        return to_png(fig, legend_inches=0.4)


def jaccard_plot(matrix: pd.DataFrame, lang: str) -> bytes:
    """Heatmap of the pairwise Jaccard matrix."""
    names = [n.replace("legacy_rule:", "") for n in matrix.index]
    size = max(4.0, 0.6 * len(names) + 2.5)
    with figure(lang, width=size + 1.5, height=size) as (fig, ax):
        image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="Blues")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        for i in range(len(names)):
            for j in range(len(names)):
                value = matrix.iloc[i, j]
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.6 else "black",
                )
        fig.colorbar(image, ax=ax, label="Jaccard")
        ax.set_title(label("jaccard_title", lang))
        return to_png(fig)


def typology_plot(table: pd.DataFrame, lang: str) -> bytes:
    """True recall per typology for each system (grouped horizontal bars)."""
    systems = [c.removeprefix("recall_") for c in table.columns if c.startswith("recall_")]
    rows = table.iloc[::-1]
    height = 0.8 / max(1, len(systems))
    colors = ["#bdbdbd", "#3182bd", "#31a354", "#e6550d"]
    with figure(lang, height=max(3.5, 0.45 * len(rows) + 1.5)) as (fig, ax):
        y = np.arange(len(rows))
        for i, system in enumerate(systems):
            ax.barh(
                y + i * height,
                rows[f"recall_{system}"],
                height=height,
                label=system,
                color=colors[i % len(colors)],
            )
        ax.set_yticks(y + height * (len(systems) - 1) / 2, rows["typology"], fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(label("recall", lang))
        ax.set_title(label("typology_title", lang))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(systems), fontsize=8)
        return to_png(fig)


def curve_plot(
    curve: pd.DataFrame,
    lang: str,
    true_curve: pd.DataFrame | None = None,
    capacity: float | None = None,
    points: dict[str, float] | None = None,
) -> bytes:
    """Left: precision and recall against alerts per day; right: net value against the threshold."""
    with figure(lang, width=11, height=5.2, ncols=2) as (fig, (left, right)):
        left.plot(
            curve["alerts_per_day"],
            curve["precision"],
            "-o",
            ms=3,
            color="#e6550d",
            label=f"{label('precision_short', lang)} · {label('estimated', lang)}",
        )
        left.plot(
            curve["alerts_per_day"],
            curve["recall"],
            "-o",
            ms=3,
            color="#3182bd",
            label=f"{label('recall', lang)} · {label('estimated', lang)}",
        )
        right.plot(
            curve["threshold"],
            curve["net_value"],
            "-o",
            ms=3,
            color="#31a354",
            label=label("estimated", lang),
        )
        if true_curve is not None:
            left.plot(
                true_curve["alerts_per_day"],
                true_curve["precision"],
                "--",
                color="#e6550d",
                label=f"{label('precision_short', lang)} · {label('true', lang)}",
            )
            left.plot(
                true_curve["alerts_per_day"],
                true_curve["recall"],
                "--",
                color="#3182bd",
                label=f"{label('recall', lang)} · {label('true', lang)}",
            )
            right.plot(
                true_curve["threshold"],
                true_curve["net_value"],
                "--",
                color="#31a354",
                label=label("true", lang),
            )
        if capacity is not None:
            left.axvline(capacity, color="black", linestyle=":", label=label("capacity", lang))
        for key, threshold in (points or {}).items():
            right.axvline(
                threshold,
                linestyle=":",
                color="black" if key == "capacity_point" else "#756bb1",
                label=label(key, lang),
            )
        left.set_xlabel(label("alerts_per_day", lang))
        left.set_ylim(0, 1.02)
        left.yaxis.set_major_formatter(PercentFormatter(1.0))
        left.set_ylabel(f"{label('precision_short', lang)} / {label('recall', lang)}")
        left.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
        right.axhline(0, color="grey", linewidth=0.8)
        right.set_xlabel(label("threshold", lang))
        right.set_ylabel(label("net_value", lang))
        right.yaxis.set_major_formatter(FuncFormatter(krw))
        right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
        fig.suptitle(label("curve_title", lang))
        return to_png(fig)


def recall_plot(rows: pd.DataFrame, lang: str) -> bytes:
    """Estimated recall with its interval beside the true recall, one row per estimate."""
    with figure(lang, height=max(2.8, 0.6 * len(rows) + 1.8)) as (fig, ax):
        y = np.arange(len(rows))
        estimate = rows["recall"].to_numpy(dtype=float)
        err = np.vstack(
            [estimate - rows["lower"].to_numpy(dtype=float), rows["upper"].to_numpy(dtype=float) - estimate]
        )
        ax.errorbar(
            estimate,
            y,
            xerr=np.clip(err, 0, None),
            fmt="o",
            color="#3182bd",
            capsize=4,
            label=label("recall_estimate", lang),
        )
        if "true" in rows and rows["true"].notna().any():
            ax.plot(rows["true"], y, "D", color="#e6550d", label=label("true", lang))
        ax.set_yticks(y, rows["name"], fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(label("recall", lang))
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(label("recall_title", lang))
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
        return to_png(fig)
