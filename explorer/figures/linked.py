"""Linked charts beside the map: one chart per chosen column (bars of its most common values, or a histogram of
its numbers) counting every point and the current selection, and the rows that the bars picked in a chart stand
for. Every user string is HTML-escaped before plotly sees it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.figures.charts import PALETTE

MAX_BARS = 20
BINS = 30
ALL_POINTS, SELECTED = "all points", "selected"


@dataclass(frozen=True, eq=False)
class ColumnChart:
    """One column's bars.

    Attributes:
        column: the column's name.
        numeric: bars are ranges of numbers (a histogram), else values.
        labels: (b,) each bar's label: a value, "(N other values)", or a range "[lo, hi)".
        codes: (n,) each point's bar; -1 for a missing number.
        counts: (b,) points per bar.
    """

    column: str
    numeric: bool
    labels: np.ndarray
    codes: np.ndarray
    counts: np.ndarray

    def rows_of(self, bars: Sequence[int]) -> np.ndarray:
        """The rows of the points in these bars."""
        return np.flatnonzero(np.isin(self.codes, np.asarray(bars, dtype=np.int64)))

    def counts_of(self, rows: np.ndarray) -> np.ndarray:
        """(b,) how many of ``rows`` are in each bar."""
        codes = self.codes[rows]
        return np.bincount(codes[codes >= 0], minlength=len(self.labels))


def column_chart(values: pd.Series, *, bins: int = BINS, top: int = MAX_BARS) -> ColumnChart:
    """Bars of ``values``: a histogram of ``bins`` ranges for numbers with more than ``top`` distinct values,
    else the ``top`` most common values and one bar pooling the rest (missing values are a value)."""
    name = str(values.name)
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > top:
        numbers = values.to_numpy(dtype=np.float64)
        finite = np.isfinite(numbers)
        edges = np.histogram_bin_edges(numbers[finite], bins=bins)
        codes = np.full(len(numbers), -1, dtype=np.int64)
        codes[finite] = np.clip(np.searchsorted(edges, numbers[finite], side="right") - 1, 0, bins - 1)
        labels = np.array([f"[{low:.4g}, {high:.4g}{']' if bar == bins - 1 else ')'}"
                           for bar, (low, high) in enumerate(zip(edges[:-1], edges[1:]))], dtype=object)
        return ColumnChart(name, True, labels, codes, np.bincount(codes[codes >= 0], minlength=bins))
    names = values.astype(str).where(values.notna(), "(missing)")
    counts = names.value_counts(sort=True)
    kept = counts.index[:top]
    codes = pd.Index(kept).get_indexer(names)
    labels = list(kept)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(kept), codes)
        labels.append(f"({len(counts) - len(kept):,} other values)")
    codes = codes.astype(np.int64)
    return ColumnChart(name, False, np.array(labels, dtype=object), codes,
                       np.bincount(codes, minlength=len(labels)))


def picked_bars(points: list[dict]) -> list[int]:
    """The bars a chart's selection event picked (each bar carries its number as customdata)."""
    return sorted({int(np.ravel(point["customdata"])[0]) for point in points if "customdata" in point})


def chart_figure(chart: ColumnChart, selected: np.ndarray | None, *, picked: Sequence[int] = ()) -> go.Figure:
    """The chart's bars for all points, the selection's counts over them, the picked bars outlined."""
    labels = [html.escape(str(label), quote=False) for label in chart.labels]
    bars = np.arange(len(labels))
    outline = {"color": "#111111", "width": [2.5 if bar in set(picked) else 0 for bar in bars]}
    figure = go.Figure(go.Bar(
        y=labels, x=chart.counts, orientation="h", name=ALL_POINTS, customdata=bars, marker={
            "color": "rgba(31,119,180,0.35)" if selected is not None else PALETTE[0], "line": outline},
        hovertemplate="%{y}<br>%{x:,} points<extra></extra>"))
    if selected is not None:
        figure.add_trace(go.Bar(y=labels, x=selected, orientation="h", name=SELECTED, customdata=bars,
                                marker={"color": PALETTE[1]},
                                hovertemplate="%{y}<br>%{x:,} selected<extra></extra>"))
    figure.update_layout(barmode="overlay", height=max(220, 18 * len(labels) + 90),
                         title={"text": html.escape(chart.column, quote=False), "font": {"size": 13}},
                         margin={"l": 10, "r": 10, "t": 36, "b": 10}, showlegend=selected is not None,
                         # A click selects a bar only outside the box mode (as on the map); the axes stay put.
                         legend={"orientation": "h", "y": -0.12}, dragmode="pan", clickmode="event+select",
                         yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": 10},
                                "fixedrange": True},
                         xaxis={"title": None, "fixedrange": True})
    return figure
