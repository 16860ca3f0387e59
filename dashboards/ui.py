"""What every page shares: the sidebar choices (language, role, name) and how labels, amounts and
tables are shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import data, i18n
from orchestration.cases import Actor, CaseError

ROLES = ("reviewer", "lead", "auditor")
DEFAULT_NAMES = {"reviewer": "reviewer.kim", "lead": "lead.lee", "auditor": "auditor.park"}


def lang() -> str:
    return st.session_state.get("lang", i18n.DEFAULT_LANGUAGE)


def role() -> str:
    return st.session_state.get("role", ROLES[0])


def user_name() -> str:
    name = st.session_state.get("user_name") or DEFAULT_NAMES[role()]
    return str(name).strip()


def t(key: str, **values: Any) -> str:
    return i18n.label(key, lang(), **values)


def krw(amount: float | None) -> str:
    return i18n.krw(amount, lang())


def named(table: dict[str, tuple[str, str]], key: str) -> str:
    return i18n.named(table, key, lang())


def choices(labels: dict[Any, str]) -> Callable[[Any], str]:
    """A format_func for a widget: the labels are fixed when the widget is drawn."""
    return lambda option: labels.get(option, str(option))


def can(permission: str) -> bool:
    return data.can(role(), permission)


def sidebar() -> None:
    """Language, role and name: set once, read by every page."""
    with st.sidebar:
        st.radio(
            "언어 / Language",
            list(i18n.LANGUAGES),
            format_func=i18n.LANGUAGES.get,
            key="lang",
            horizontal=True,
        )
        # One picker per language (its labels differ), all showing the role kept in session state.
        st.session_state["role"] = st.selectbox(
            t("role"),
            ROLES,
            index=ROLES.index(role()),
            format_func=choices({name: named(i18n.ROLE_LABELS, name) for name in ROLES}),
            key=f"role_picker_{lang()}",
        )
        if st.session_state.get("_name_for_role") != role():
            st.session_state["user_name"] = DEFAULT_NAMES[role()]
            st.session_state["_name_for_role"] = role()
        st.text_input(t("user_name"), key="user_name")
        snapshot = data.current_snapshot()
        if snapshot is not None:
            published = data.published_at(snapshot)
            stamp = f"{published:%Y-%m-%d %H:%M}" if published else "-"
            st.caption(f"{t('snapshot_published')}: {stamp}")


def current_actor() -> Actor | None:
    """The person in the sidebar as a case-store actor; shows why not when the roles file refuses."""
    try:
        return data.actor(user_name(), role())
    except CaseError as error:
        st.error(t("bad_actor", error=error))
        return None


def snapshot_or_stop() -> data.Snapshot:
    """The published snapshot; stops the page with a clear message when there is none."""
    snapshot = data.current_snapshot()
    if snapshot is None:
        st.warning(t("no_snapshot", path=data.snapshot_location()))
        st.stop()
    return snapshot


def not_computed(table: str) -> None:
    st.info(t("not_computed", table=table))


def table(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    money: Sequence[str] = (),
    share: Sequence[str] = (),
    key: str | None = None,
    height: int | None = None,
) -> None:
    """A dataframe with translated headers, amounts in won and shares in percent."""
    shown = frame[list(columns)] if columns else frame
    config: dict[str, Any] = {}
    for name in shown.columns:
        header = i18n.column(name, lang())
        if name in money:
            config[name] = st.column_config.NumberColumn(header, format="localized")
        elif name in share:
            config[name] = st.column_config.NumberColumn(header, format="percent")
        else:
            config[name] = st.column_config.Column(header)
    options: dict[str, Any] = {"hide_index": True, "column_config": config, "width": "stretch"}
    if key:
        options["key"] = key
    if height and len(shown) > height // 36:
        options["height"] = height
    st.dataframe(shown, **options)


def rule_label(rule_id: str, names: pd.DataFrame) -> str:
    """`rule_id · name` in the chosen language."""
    found = names[names["rule_id"] == rule_id]
    if found.empty:
        return rule_id
    name = found.iloc[0]["name_ko" if lang() == "ko" else "name_en"]
    return f"{rule_id} · {name}" if isinstance(name, str) and name else rule_id
