"""The map page's linked charts: their picks (read from the last run's chart selections, before the map is drawn)
and the charts themselves, each counting the current selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from explorer.figures.linked import ColumnChart, chart_figure, picked_bars

SELECTION = "map_selection"
"""The (workspace, rows) the Map page hands to Search and Quality."""


def chart_key(chart: ColumnChart, path) -> str:
    """The chart's widget key, per workspace: a pick in one workspace's chart never applies to another's."""
    return f"chart {Path(path).name} {chart.column}"


def chart_picks(charts: list[ColumnChart], path) -> tuple[dict[str, list[int]], np.ndarray | None]:
    """The bars picked in each of workspace ``path``'s charts on the last run, and the rows in every chart's picked
    bars (None when no chart has a pick)."""
    picks, rows = {}, None
    for chart in charts:
        state = st.session_state.get(chart_key(chart, path)) or {}
        bars = picked_bars((state.get("selection") or {}).get("points", []))
        if bars:
            picks[chart.column] = bars
            chosen = chart.rows_of(bars)
            rows = chosen if rows is None else np.intersect1d(rows, chosen)
    return picks, rows


CHARTS_PER_ROW = 3


def draw_charts(charts: list[ColumnChart], path, selected: list[int], picks: dict[str, list[int]]) -> None:
    """The charts side by side, each with the selection's counts over all points' counts; clicking or
    box-selecting bars picks their points (the map then highlights them)."""
    if not charts:
        return
    columns = st.columns(min(len(charts), CHARTS_PER_ROW))
    for position, chart in enumerate(charts):
        counts = chart.counts_of(np.asarray(selected, dtype=np.int64)) if selected else None
        figure = chart_figure(chart, counts, picked=picks.get(chart.column, ()))
        columns[position % len(columns)].plotly_chart(
            figure, key=chart_key(chart, path), on_select="rerun", selection_mode=("points", "box"), width="stretch",
            config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d"]})


def hand_selection(path, rows: list[int]) -> None:
    st.session_state[SELECTION] = (str(path), [int(row) for row in rows])


def handed_selection(path) -> list[int] | None:
    """The rows the Map page handed over for this workspace, or None."""
    handed = st.session_state.get(SELECTION)
    return handed[1] if handed and handed[0] == str(path) and handed[1] else None


def forget_selection() -> None:
    st.session_state.pop(SELECTION, None)
