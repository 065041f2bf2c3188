"""Figures for new data on a frozen map: queries and new documents drawn over the workspace's map, and the
cluster shares before and after a batch. Every user string is HTML-escaped before plotly sees it."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.figures.charts import NOISE_COLOUR, OTHER_VALUES, PALETTE, hover_text, map_figure

REACHED, NOT_REACHED = "in some query's top k", "in no query's top k"
NEW_POINT_SIZE = 8


def coverage_figure(coords: np.ndarray, hover: np.ndarray, hit_counts: np.ndarray, *, title: str,
                    query_coords: np.ndarray, queries: np.ndarray, answered: np.ndarray) -> go.Figure:
    """The map with each point marked reached or not by the queries' top k, and the queries on top: crosses,
    dark where a document is above the relevance line, red where none is."""
    reached = pd.Series(np.where(hit_counts > 0, REACHED, NOT_REACHED), name="queries")
    figure = map_figure(coords, hover, reached, title=title, highlight=[REACHED])
    figure.update_traces(marker={"opacity": 0.5})
    figure.update_traces(name=NOT_REACHED, selector={"name": OTHER_VALUES})
    for name, members, colour in (("query with a relevant document", answered, "#222222"),
                                  ("query with no document above the line", ~answered, "#d62728")):
        _add_new_points(figure, query_coords[members], [hover_text(str(query)) for query in queries[members]],
                        name=name,
                        marker={"color": colour, "symbol": "x", "size": NEW_POINT_SIZE})
    return figure


def drift_figure(coords: np.ndarray, hover: np.ndarray, *, title: str, new_coords: np.ndarray,
                 new_texts: np.ndarray, novelty: np.ndarray) -> go.Figure:
    """The corpus in grey and the new documents on top, coloured by novelty (0: as close to the corpus as its
    closest pairs; 100: farther out than any corpus point from its nearest neighbour)."""
    figure = map_figure(coords, hover, pd.Series(np.full(len(coords), "corpus"), name="corpus"), title=title)
    figure.update_traces(marker={"color": NOISE_COLOUR, "opacity": 0.5})
    labels = [f"{hover_text(str(text))}<br>novelty {value:.0f}" for text, value in zip(new_texts, novelty)]
    _add_new_points(figure, new_coords, labels, name="new documents",
                    marker={"color": novelty, "colorscale": "Plasma", "cmin": 0, "cmax": 100, "showscale": True,
                            "colorbar": {"title": {"text": "novelty"}}, "size": NEW_POINT_SIZE,
                            "line": {"color": "white", "width": 0.5}})
    figure.update_layout(legend={"orientation": "h", "y": -0.02, "itemsizing": "constant"})  # the colour bar's side
    return figure


def _add_new_points(figure: go.Figure, coords: np.ndarray, labels: list[str], *, name: str, marker: dict) -> None:
    """Draw new points over the map, ``labels`` their escaped hover labels."""
    figure.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name=html.escape(name),
                                  hovertext=labels, hovertemplate="%{hovertext}<extra></extra>", marker=marker))


def shares_figure(shares: pd.DataFrame, *, top: int = 15) -> go.Figure:
    """Grouped bars of the ``top`` clusters whose share changed most: in the corpus, and in the new batch."""
    shown = shares.head(top)
    names = [html.escape(str(name), quote=False) for name in shown["name"]]
    figure = go.Figure()
    for column, label, colour in (("before", "corpus", PALETTE[0]), ("batch_share", "new batch", PALETTE[1])):
        figure.add_trace(go.Bar(y=names, x=shown[column], name=label, orientation="h", marker={"color": colour},
                                hovertemplate="%{y}<br>" + label + ": %{x:.1%}<extra></extra>"))
    figure.update_layout(barmode="group", height=max(320, 40 * len(shown) + 120),
                         title={"text": "Share of each cluster: the corpus against the new batch (largest "
                                        "changes first)"},
                         xaxis={"title": "share", "tickformat": ".0%"}, yaxis={"autorange": "reversed"},
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend={"orientation": "h", "y": -0.15})
    return figure
