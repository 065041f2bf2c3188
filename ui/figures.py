"""Plotly figures for the map (no Streamlit here). Every user string is HTML-escaped before plotly sees it."""

from __future__ import annotations

import html
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.types import ClusterKeywords

MAX_DRAWN = 100_000
MAX_CATEGORIES = 24
NOISE_COLOUR = "rgba(150,150,150,0.45)"
PALETTE = ("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #17becf #bcbd22 #7f7f7f "
           "#393b79 #637939 #8c6d31 #843c39 #7b4173 #3182bd #e6550d #31a354 #756bb1 #636363 "
           "#9c9ede #cedb9c #e7cb94 #e7969c").split()


def hover_text(text: str, *, width: int = 60, max_chars: int = 280) -> str:
    """An escaped, wrapped snippet: plotly renders a subset of HTML, so user text must not reach it raw."""
    snippet = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    return "<br>".join(html.escape(line, quote=False) for line in textwrap.wrap(snippet, width) or [""])


def hover_texts(points: pd.DataFrame) -> np.ndarray:
    """(n,) escaped hover label of every point: its id, then a wrapped snippet of its text."""
    return np.array([f"<b>id {html.escape(str(label), quote=False)}</b><br>{hover_text(text)}"
                     for label, text in zip(points["id"].to_numpy(), points["text"].to_numpy())], dtype=object)


def drawn_rows(n: int, *, limit: int = MAX_DRAWN, seed: int = 0) -> np.ndarray:
    """Row numbers to draw: all of them, or a fixed random sample above ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def map_figure(coords: np.ndarray, hover: np.ndarray, colour: pd.Series, *, title: str,
               keywords: ClusterKeywords | None = None, rows: np.ndarray | None = None) -> go.Figure:
    """Scatter of the map: one trace per category (clusters, metadata) or one colour scale (numbers).

    Args:
        coords: (n, 2) or (n, 3) layout.
        hover: (n,) escaped hover labels, from ``hover_texts``.
        colour: (n,) values to colour by; cluster ids when ``keywords`` is given.
        rows: which rows to draw (default: all, or a sample above MAX_DRAWN).
    """
    rows = drawn_rows(len(hover)) if rows is None else rows
    hover = hover[rows]
    figure = go.Figure()
    values = colour.to_numpy()[rows]
    if keywords is None and pd.api.types.is_numeric_dtype(colour) and colour.nunique() > MAX_CATEGORIES:
        figure.add_trace(_trace(coords[rows], rows, hover, name=html.escape(str(colour.name), quote=False),
                                marker={"color": values, "colorscale": "Viridis", "showscale": True,
                                        "colorbar": {"title": {"text": html.escape(str(colour.name), quote=False)}}}))
    else:
        for position, (name, members) in enumerate(_categories(values, keywords)):
            colour_value = NOISE_COLOUR if name == "Unclustered" else PALETTE[position % len(PALETTE)]
            figure.add_trace(_trace(coords[rows[members]], rows[members], hover[members],
                                    name=html.escape(name, quote=False), marker={"color": colour_value}))
    figure.update_layout(title={"text": html.escape(title, quote=False)}, height=640,
                         margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         legend={"itemsizing": "constant", "font": {"size": 11}}, dragmode="lasso",
                         hoverlabel={"align": "left"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _categories(values: np.ndarray, keywords: ClusterKeywords | None) -> list[tuple[str, np.ndarray]]:
    """(legend name, member positions) per category, noise/missing last, rare categories pooled."""
    labels = pd.Series(values)
    if keywords is not None:
        order = sorted(labels.unique(), key=lambda cluster: (cluster == -1, cluster))
        return [(keywords.name(int(c)), np.flatnonzero(labels.to_numpy() == c)) for c in order]
    names = labels.astype(str).where(labels.notna(), "(missing)")
    counts = names.value_counts()
    keep = set(counts.index[:MAX_CATEGORIES])
    names = names.where(names.isin(keep), "(other)")
    ordered = [name for name in counts.index if name in keep] + (["(other)"] if (names == "(other)").any() else [])
    return [(name, np.flatnonzero(names.to_numpy() == name)) for name in ordered]


def _trace(coords: np.ndarray, rows: np.ndarray, hover: np.ndarray, *, name: str,
           marker: dict) -> go.Scattergl | go.Scatter3d:
    marker = {"size": 5 if coords.shape[1] == 2 else 3, "opacity": 0.8, **marker}
    common = {"mode": "markers", "name": name, "customdata": rows, "hovertext": hover, "marker": marker,
              "hovertemplate": "%{hovertext}<extra></extra>"}
    if coords.shape[1] == 3:
        return go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common)
    return go.Scattergl(x=coords[:, 0], y=coords[:, 1], **common)
