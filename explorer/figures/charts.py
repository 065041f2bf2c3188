"""Plotly figures for the map (no Streamlit here). Every user string is HTML-escaped before plotly sees it."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from explorer.types import ClusterKeywords

MAX_DRAWN = 100_000
"""The most points drawn with hover labels (a fixed random sample above it)."""
MAP_CONFIG = {"scrollZoom": True, "displaylogo": False}
"""plotly's chart options for maps: the scroll wheel zooms."""
MAX_CATEGORIES = 24
OTHER_VALUES = "(other values)"
NOISE_COLOUR = "rgba(150,150,150,0.45)"
PALETTE = ("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #17becf #bcbd22 #7f7f7f "
           "#393b79 #637939 #8c6d31 #843c39 #7b4173 #3182bd #e6550d #31a354 #756bb1 #636363 "
           "#9c9ede #cedb9c #e7cb94 #e7969c").split()


def hover_text(text: str, *, width: int = 60, max_chars: int = 280) -> str:
    """An escaped, wrapped snippet: plotly renders a subset of HTML, so user text must not reach it raw."""
    snippet = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    return "<br>".join(html.escape(line, quote=False) for line in textwrap.wrap(snippet, width) or [""])


def hover_texts(points: pd.DataFrame, *, clusters: list[str] | None = None) -> np.ndarray:
    """(n,) escaped hover label of every point: its id, its cluster's name (when given), a wrapped snippet of its
    text, and the metadata columns the user kept."""
    metadata = [column for column in points.columns if column not in ("id", "chunk", "text")]
    extra = [[f"{html.escape(column, quote=False)}: {html.escape(str(value)[:60], quote=False)}"
              for value in points[column].to_numpy()] for column in metadata]
    labels = []
    for row, (label, text) in enumerate(zip(points["id"].to_numpy(), points["text"].to_numpy())):
        lines = [f"<b>id {html.escape(str(label), quote=False)}</b>"]
        if clusters is not None:
            lines.append(f"<i>{html.escape(clusters[row], quote=False)}</i>")
        lines.append(hover_text(text))
        lines += [values[row] for values in extra]
        labels.append("<br>".join(lines))
    return np.array(labels, dtype=object)


class HoverLabels:
    """The hover labels of a workspace's points (``hover_texts``), made for the rows asked for when they are asked
    for: a map draws at most ``MAX_DRAWN`` labelled points, so a million-point workspace never builds a million.
    Indexed like the (n,) array it stands for: by a row, a slice or an array of rows."""

    def __init__(self, points: pd.DataFrame, clusters: list[str] | None = None) -> None:
        self.points, self.clusters = points, clusters

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, rows):
        if isinstance(rows, (int, np.integer)):
            return self[np.array([rows])][0]
        chosen = np.arange(len(self.points))[rows]
        clusters = None if self.clusters is None else [self.clusters[row] for row in chosen]
        return hover_texts(self.points.iloc[chosen], clusters=clusters)


def drawn_rows(n: int, *, limit: int = MAX_DRAWN, seed: int = 0) -> np.ndarray:
    """Row numbers to draw: all of them, or a fixed random sample above ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def selected_rows(points: list[dict]) -> list[int]:
    """The map rows of a plotly selection's points: every map trace carries its rows as ``customdata``."""
    return sorted({int(np.ravel(point["customdata"])[0]) for point in points if "customdata" in point})


def on_a_scale(colour: pd.Series, keywords: ClusterKeywords | None) -> bool:
    """Whether a map colours these values on a colour scale: numbers (not cluster ids) taking more than
    MAX_CATEGORIES values; otherwise one colour per category."""
    return keywords is None and pd.api.types.is_numeric_dtype(colour) and colour.nunique() > MAX_CATEGORIES


def map_figure(coords: np.ndarray, hover: np.ndarray, colour: pd.Series, *, title: str,
               keywords: ClusterKeywords | None = None, rows: np.ndarray | None = None,
               continuous: bool | None = None, on_map_labels: bool = True,
               highlight: list[str] | None = None, density: bool = False,
               colours: dict[str, str] | None = None) -> go.Figure:
    """Scatter of the map: one trace per category (clusters, metadata) or one colour scale (numbers), each point
    with its hover label and its row (for :func:`selected_rows`).

    Args:
        coords: (n, 2) or (n, 3) layout.
        hover: (n,) escaped hover labels, from ``hover_texts`` (or ``HoverLabels``).
        colour: (n,) values to colour by; cluster ids when ``keywords`` is given.
        rows: which rows to draw (default: all, or a sample above MAX_DRAWN).
        continuous: colour numbers on a scale (default: when they take more than MAX_CATEGORIES values).
        on_map_labels: draw the biggest clusters' names on the map (with ``keywords``; see ``cluster_labels``).
        highlight: the category values to colour, every other value grey as OTHER_VALUES (default: the
            MAX_CATEGORIES most common, the rest pooled as "(other)").
        density: shade the map by how many points lie in each cell, counted over every point of ``coords``
            (not only the drawn sample), under the points (2-D only).
        colours: a colour per legend name (topics: :func:`topic_colours`), else the palette in legend order.
    """
    every = np.arange(len(coords)) if rows is None else rows
    rows = drawn_rows(len(coords)) if rows is None else rows
    hover = hover[rows]
    figure = go.Figure()
    if density and coords.shape[1] == 2:
        figure.add_trace(density_trace(coords[every]))
    values = colour.to_numpy()[rows]
    if continuous is None:
        continuous = on_a_scale(colour, keywords)
    if continuous:
        marker = {"color": values, "colorscale": "Viridis", "showscale": True,
                  "colorbar": {"title": {"text": html.escape(str(colour.name), quote=False)}}}
        figure.add_trace(_trace(coords[rows], rows, hover, name=html.escape(str(colour.name), quote=False),
                                marker=marker))
    else:
        for position, (name, members) in enumerate(_categories(values, keywords, highlight)):
            trace = _trace(coords[rows[members]], rows[members], hover[members],
                           name=html.escape(name, quote=False),
                           marker={"color": (colours or {}).get(name) or category_colour(name, position)})
            trace.legendrank = 1000 + position
            figure.add_trace(trace)
    figure.update_layout(title={"text": html.escape(title, quote=False)}, height=640,
                         margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         legend={"itemsizing": "constant", "font": {"size": 11}},
                         # Pan by default: Streamlit lets a click select a point only outside the lasso and box
                         # modes (there plotly reads a click as no selection), which stay one toolbar click away.
                         dragmode="pan", hoverlabel={"align": "left"})
    x_range = bulk_range(coords[rows, 0]) if coords.shape[1] == 2 else None
    y_range = bulk_range(coords[rows, 1]) if coords.shape[1] == 2 else None
    figure.update_xaxes(visible=False, range=x_range)
    figure.update_yaxes(visible=False, range=y_range)
    if keywords is not None and coords.shape[1] == 2 and on_map_labels:
        shown = coords[rows]
        ranges = (x_range or [float(shown[:, 0].min()), float(shown[:, 0].max())],
                  y_range or [float(shown[:, 1].min()), float(shown[:, 1].max())])
        placed = cluster_labels(shown, values.astype(np.int64), keywords, ranges=ranges)
        figure.add_trace(go.Scatter(
            x=[label.x for label in placed], y=[label.y for label in placed], mode="text", name="cluster labels",
            text=[f"<b>{html.escape(label.text, quote=False)}</b>" for label in placed], hoverinfo="skip",
            textfont={"size": [label.size for label in placed], "color": "rgba(20,20,20,0.9)", "shadow": "auto"},
            showlegend=False))
    return figure


MAX_MAP_LABELS = 40
LABEL_FONT = (10, 18)
"""Font sizes (px) of the smallest and the biggest cluster's label on the map."""


@dataclass(frozen=True)
class MapLabel:
    """A cluster's name drawn on the map: at the median of its points, sized by its share of them."""

    cluster: int
    text: str
    x: float
    y: float
    size: float


def cluster_names(coords: np.ndarray, labels: np.ndarray, keywords: ClusterKeywords, *,
                  limit: int | None = None) -> list[MapLabel]:
    """Every cluster's name (its top three keywords; noise and clusters without keywords have none), biggest first
    and at most ``limit``: at the median of its points, the font sized by the square root of its share of the
    biggest cluster's points (``LABEL_FONT``)."""
    clustered = np.flatnonzero(labels >= 0)
    if not len(clustered):
        return []
    order = clustered[np.argsort(labels[clustered], kind="stable")]
    ids, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    biggest = counts.max()
    names = []
    for position in np.argsort(-counts, kind="stable"):
        words = keywords.keywords.get(int(ids[position]), [])[:3]
        if not words:
            continue
        members = coords[order[starts[position]:starts[position] + counts[position]]]
        x, y = (float(value) for value in np.median(members[:, :2], axis=0))
        size = LABEL_FONT[0] + (LABEL_FONT[1] - LABEL_FONT[0]) * float(np.sqrt(counts[position] / biggest))
        names.append(MapLabel(int(ids[position]), ", ".join(words), x, y, size))
        if limit is not None and len(names) == limit:
            break
    return names


def cluster_labels(coords: np.ndarray, labels: np.ndarray, keywords: ClusterKeywords, *,
                   max_labels: int = MAX_MAP_LABELS, width_px: float = 600, height_px: float = 590,
                   ranges: tuple[list[float], list[float]] | None = None) -> list[MapLabel]:
    """The biggest clusters' names (:func:`cluster_names`), each kept only where its box (estimated from the font
    size, the plot's size in pixels and the axes' ranges) overlaps no bigger cluster's label."""
    x_range, y_range = ranges or ([coords[:, 0].min(), coords[:, 0].max()], [coords[:, 1].min(), coords[:, 1].max()])
    per_px_x = max(x_range[1] - x_range[0], 1e-9) / width_px
    per_px_y = max(y_range[1] - y_range[0], 1e-9) / height_px
    placed: list[tuple[MapLabel, float, float]] = []
    for label in cluster_names(coords, labels, keywords):
        half_width, half_height = 0.3 * label.size * len(label.text) * per_px_x, 0.7 * label.size * per_px_y
        # Kept inside the frame: a label at the edge is moved in rather than cut.
        x = min(max(label.x, x_range[0] + half_width), max(x_range[1] - half_width, x_range[0] + half_width))
        if any(abs(x - other.x) < half_width + other_width and abs(label.y - other.y) < half_height + other_height
               for other, other_width, other_height in placed):
            continue
        placed.append((MapLabel(label.cluster, label.text, x, label.y, label.size), half_width, half_height))
        if len(placed) == max_labels:
            break
    return [label for label, _, _ in placed]


DENSITY_BINS = 120
DENSITY_SMOOTHING = 1.5
"""The Gaussian smoothing of the density grid, in cells: a sparse map's single points blur into areas."""
DENSITY_COLOURS = [[0.0, "rgba(198,219,239,0.0)"], [0.02, "rgba(198,219,239,0.6)"], [1.0, "rgba(8,48,107,0.9)"]]


@dataclass(frozen=True)
class DensityGrid:
    """How many points lie in each cell of a ``bins`` x ``bins`` grid over the map, Gaussian-smoothed, on a log
    scale (``log1p``).

    Attributes:
        shade: (bins, bins) smoothed log counts, indexed [x cell, y cell].
        x_edges, y_edges: (bins + 1,) cell edges.
    """

    shade: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray

    def at(self, coords: np.ndarray) -> np.ndarray:
        """(n,) the shade of the cell each point lies in."""
        cells = [np.clip(np.searchsorted(edges, coords[:, axis], side="right") - 1, 0, len(edges) - 2)
                 for axis, edges in enumerate((self.x_edges, self.y_edges))]
        return self.shade[cells[0], cells[1]]


def density_grid(coords: np.ndarray, *, bins: int = DENSITY_BINS) -> DensityGrid:
    """The density of the (n, 2) points on a grid (see :class:`DensityGrid`)."""
    from scipy.ndimage import gaussian_filter

    counts, x_edges, y_edges = np.histogram2d(coords[:, 0], coords[:, 1], bins=bins)
    smoothed = gaussian_filter(counts, DENSITY_SMOOTHING)  # reflected at the edges: the total is kept
    return DensityGrid(np.log1p(smoothed), x_edges, y_edges)


def density_trace(coords: np.ndarray, *, bins: int = DENSITY_BINS) -> go.Heatmap:
    """The points' density (:func:`density_grid`) as a heat map under the points (a fixed size in the browser
    however many points there are); empty areas stay transparent."""
    grid = density_grid(coords, bins=bins)
    return go.Heatmap(z=grid.shade.T, x=(grid.x_edges[:-1] + grid.x_edges[1:]) / 2,
                      y=(grid.y_edges[:-1] + grid.y_edges[1:]) / 2, colorscale=DENSITY_COLOURS, showscale=False,
                      hoverinfo="skip", name="density", zsmooth="best")


def bulk_range(values: np.ndarray) -> list[float] | None:
    """Axis range framing the bulk of the points (0.5th to 99.5th percentile, padded) when a few far outliers
    would otherwise squash it into a ball (they stay a pan or a zoom-out away); None (plotly's own range) else."""
    if len(values) < 50:
        return None
    low, high = np.percentile(values, [0.5, 99.5])
    pad = 0.08 * (high - low)
    full = values.max() - values.min()
    if high <= low or full <= 1.5 * (high - low + 2 * pad):
        return None
    return [float(low - pad), float(high + pad)]


def category_codes(values: np.ndarray, keywords: ClusterKeywords | None,
                   highlight: list[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The legend's category names (noise/missing last, rare categories pooled, or, with ``highlight``, those values
    each on its own and every other value pooled as OTHER_VALUES) and (n,) each value's position among them."""
    if keywords is not None:
        clusters, codes = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
        order = sorted(range(len(clusters)), key=lambda position: (clusters[position] == -1, clusters[position]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return [keywords.name(int(clusters[position])) for position in order], rank[codes]
    labels = pd.Series(values)
    names = labels.astype(str).where(labels.notna(), "(missing)")
    if highlight is not None:
        present = [name for name in dict.fromkeys(highlight) if (names == name).any()]
        rest = OTHER_VALUES if not names.isin(present).all() else None
    else:
        counts = names.value_counts()
        present = counts.index[:MAX_CATEGORIES].tolist()
        rest = "(other)" if len(counts) > MAX_CATEGORIES else None
    ordered = present + ([rest] if rest else [])
    codes = pd.Categorical(names, categories=present).codes.astype(np.int64)
    return ordered, np.where(codes < 0, len(present), codes)


def _categories(values: np.ndarray, keywords: ClusterKeywords | None,
                highlight: list[str] | None = None) -> list[tuple[str, np.ndarray]]:
    """(legend name, member positions) per category, in the order of :func:`category_codes`."""
    names, codes = category_codes(values, keywords, highlight)
    order = np.argsort(codes, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])
    return list(zip(names, members))


def topic_colours(top_of: np.ndarray, names: list[str]) -> dict[str, str]:
    """A colour per topic, by legend name: each top-level topic its own hue (hues a golden angle apart, so no two
    top topics share one), its descendants shades of that hue, lighter down their size order."""
    import colorsys

    colours = {}
    for top in np.unique(top_of[top_of >= 0]):
        members = np.flatnonzero(top_of == top)
        hue = (float(top) * 137.508) % 360 / 360
        for rank, topic in enumerate(members):
            lightness = 0.38 + 0.32 * rank / max(len(members) - 1, 1)
            red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.65)
            colours[names[topic]] = f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"
    return colours


def category_colour(name: str, position: int) -> str:
    return NOISE_COLOUR if name in ("Unclustered", OTHER_VALUES) else PALETTE[position % len(PALETTE)]


def _trace(coords: np.ndarray, rows: np.ndarray, hover: np.ndarray, *, name: str,
           marker: dict) -> go.Scattergl | go.Scatter3d:
    """A trace of points, each with its hover label and its row number (``customdata``)."""
    marker = {"size": 5 if coords.shape[1] == 2 else 3, "opacity": 0.8, **marker}
    common = {"mode": "markers", "name": name, "customdata": rows, "hovertext": hover, "marker": marker,
              "hovertemplate": "%{hovertext}<extra></extra>"}
    if coords.shape[1] == 3:
        return go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common)
    return go.Scattergl(x=coords[:, 0], y=coords[:, 1], **common)


def search_figure(coords: np.ndarray, hover: np.ndarray, labels: np.ndarray | None, keywords: ClusterKeywords | None, *,
                  title: str, hits: np.ndarray, hit_labels: list[str], origin: np.ndarray | None,
                  origin_label: str) -> go.Figure:
    """The map in muted cluster colours with search results on top: each result ringed and numbered, joined
    to the query (or the chosen point) at ``origin`` (2,), drawn as a star.

    Args:
        hits: (k,) result rows, best first; ``hit_labels`` their escaped hover labels.
        origin: where the query sits on the map, or None when it could not be placed (keyword search).
        labels, keywords: clusters to colour the base map by; None draws every point alike.
    """
    colour = pd.Series(labels) if labels is not None else pd.Series(np.full(len(coords), "documents"))
    figure = map_figure(coords, hover, colour, title=title, keywords=keywords, on_map_labels=False)
    figure.update_traces(marker={"opacity": 0.25})
    hit_coords = coords[hits]
    if origin is not None and len(hits):
        xs = np.column_stack([np.full(len(hits), origin[0]), hit_coords[:, 0], np.full(len(hits), np.nan)]).ravel()
        ys = np.column_stack([np.full(len(hits), origin[1]), hit_coords[:, 1], np.full(len(hits), np.nan)]).ravel()
        figure.add_trace(go.Scattergl(x=xs, y=ys, mode="lines", name="link to result", hoverinfo="skip",
                                      line={"color": "rgba(20,20,20,0.45)", "width": 1}))
    figure.add_trace(go.Scattergl(
        x=hit_coords[:, 0], y=hit_coords[:, 1], mode="markers+text", name="results", customdata=hits,
        text=[str(rank) for rank in range(1, len(hits) + 1)], textposition="top center",
        hovertext=hit_labels, hovertemplate="%{hovertext}<extra></extra>",
        marker={"size": 11, "color": "#d62728", "line": {"color": "white", "width": 1.5}}))
    if origin is not None:
        figure.add_trace(go.Scattergl(
            x=[origin[0]], y=[origin[1]], mode="markers", name=html.escape(origin_label, quote=False),
            hovertext=[html.escape(origin_label, quote=False)], hovertemplate="%{hovertext}<extra></extra>",
            marker={"symbol": "star", "size": 20, "color": "#ffd400", "line": {"color": "black", "width": 1.5}}))
    figure.update_layout(dragmode="pan")
    return figure


def score_histogram(scores: np.ndarray, *, cut: float | None, metric: str, k: int) -> go.Figure:
    """Histogram of the query's score against every point, with the top-k cut marked."""
    axis = "euclidean distance (lower = closer)" if metric == "euclidean" else f"{metric} similarity"
    figure = go.Figure(go.Histogram(x=scores, nbinsx=60, marker={"color": "#1f77b4"}, name="all points"))
    if cut is not None:
        figure.add_vline(x=cut, line={"color": "#d62728", "dash": "dash"},
                         annotation={"text": f"top-{k} cut: {cut:.3f}", "font": {"color": "#d62728"}})
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                         title={"text": f"The query's {axis} to all {len(scores):,} points"},
                         xaxis_title=axis, yaxis_title="points")
    return figure


def diff_html(words: list[tuple[str, bool]]) -> str:
    """A text as HTML with the words that differ from the other text highlighted; every word escaped."""
    return " ".join(f"<mark style='background:#ffd8a8'>{html.escape(word, quote=False)}</mark>" if changed
                    else html.escape(word, quote=False) for word, changed in words)


def distributions_figure(series: dict[str, np.ndarray], *, title: str, x_title: str, ecdf: bool = False,
                         marks: dict[str, float] | None = None) -> go.Figure:
    """Overlaid, normalised histograms (or ECDFs) of several score samples, with optional vertical marks."""
    figure = go.Figure()
    for position, (name, values) in enumerate(series.items()):
        if len(values) == 0:
            continue
        colour = PALETTE[position % len(PALETTE)]
        if ecdf:
            ordered = np.sort(values)
            figure.add_trace(go.Scatter(x=ordered, y=np.arange(1, len(ordered) + 1) / len(ordered), mode="lines",
                                        name=html.escape(name, quote=False), line={"color": colour}))
        else:
            figure.add_trace(go.Histogram(x=values, name=html.escape(name, quote=False), histnorm="probability",
                                          nbinsx=60, opacity=0.55, marker={"color": colour}))
    for label, value in (marks or {}).items():
        figure.add_vline(x=value, line={"color": "#444", "dash": "dash"},
                         annotation={"text": html.escape(label, quote=False)})
    figure.update_layout(barmode="overlay", height=340, title={"text": html.escape(title, quote=False)},
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, xaxis_title=x_title,
                         yaxis_title="share of pairs at or below" if ecdf else "share of pairs",
                         legend={"orientation": "h", "y": -0.25})
    return figure


def curve_figure(curve: pd.DataFrame, *, threshold: float, best: float | None) -> go.Figure:
    """Precision, recall and F1 against the cosine threshold."""
    figure = go.Figure()
    for position, metric in enumerate(("precision", "recall", "f1")):
        figure.add_trace(go.Scatter(x=curve["threshold"], y=curve[metric], mode="lines", name=metric,
                                    line={"color": PALETTE[position]}))
    figure.add_vline(x=threshold, line={"color": "#444", "dash": "dash"}, annotation={"text": f"{threshold:.2f}"})
    if best is not None:
        figure.add_vline(x=best, line={"color": "#d62728", "dash": "dot"},
                         annotation={"text": f"best F1 at {best:.3f}", "yanchor": "bottom"})
    figure.update_layout(height=340, title={"text": "Precision, recall and F1 by threshold"},
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, xaxis_title="cosine threshold",
                         yaxis={"range": [0, 1.02]}, legend={"orientation": "h", "y": -0.25})
    return figure


def metrics_figure(summary: pd.DataFrame, metrics: tuple[str, ...], *, title: str) -> go.Figure:
    """Grouped bars: one group per metric, one bar per model (``summary`` has a ``model`` column)."""
    figure = go.Figure()
    for position, row in enumerate(summary.to_dict("records")):
        values = [row[metric] for metric in metrics]
        figure.add_trace(go.Bar(x=list(metrics), y=values, name=html.escape(str(row["model"]), quote=False),
                                marker={"color": PALETTE[position % len(PALETTE)]},
                                text=[f"{value:.3f}" for value in values], textposition="outside"))
    figure.update_layout(barmode="group", height=340, title={"text": html.escape(title, quote=False)},
                         yaxis={"range": [0, 1.1]}, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         legend={"orientation": "h", "y": -0.2})
    return figure


def confusion_figure(confusion: pd.DataFrame, *, title: str) -> go.Figure:
    """Heatmap of a confusion matrix (rows: labels given; columns: labels predicted), each row as shares."""
    counts = confusion.to_numpy()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    given = [html.escape(str(label), quote=False) for label in confusion.index]
    predicted = [html.escape(str(label), quote=False) for label in confusion.columns]
    figure = go.Figure(go.Heatmap(
        z=shares, x=predicted, y=given, customdata=counts, colorscale="Blues", zmin=0, zmax=1,
        colorbar={"title": {"text": "share of row"}},
        hovertemplate="given %{y}<br>neighbours say %{x}<br>%{customdata:,} points (%{z:.0%})<extra></extra>"))
    figure.update_layout(title={"text": html.escape(title, quote=False)}, height=max(360, 28 * len(given) + 140),
                         margin={"l": 10, "r": 10, "t": 50, "b": 10}, xaxis_title="the neighbours' vote",
                         yaxis={"title": "label given", "autorange": "reversed"})
    return figure


def compression_figure(table: pd.DataFrame, *, k: int, keep: float) -> go.Figure:
    """Neighbour overlap (mean, and the 5th percentile) against bytes per vector, one point per setting."""
    names = [html.escape(str(name), quote=False) for name in table["setting"]]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=table["bytes_per_vector"], y=table["overlap_mean"], mode="markers+text",
                                text=names, textposition="top center", name="mean overlap",
                                marker={"size": 10, "color": PALETTE[0]},
                                hovertemplate="%{text}<br>%{x:,.0f} bytes<br>mean overlap %{y:.1%}<extra></extra>"))
    figure.add_trace(go.Scatter(x=table["bytes_per_vector"], y=table["overlap_p05"], mode="markers",
                                name="5th percentile", text=names, marker={"size": 7, "color": PALETTE[1],
                                                                           "symbol": "triangle-down"},
                                hovertemplate="%{text}<br>5th percentile %{y:.1%}<extra></extra>"))
    figure.add_hline(y=keep, line={"color": "#444", "dash": "dash"}, annotation={"text": f"{keep:.0%}"})
    figure.update_layout(title={"text": f"Share of each point's {k} nearest neighbours kept, against size"},
                         height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         xaxis={"title": "bytes per vector (log scale)", "type": "log"},
                         yaxis={"title": f"{k}-NN overlap with float32", "range": [0, 1.08]},
                         legend={"orientation": "h", "y": -0.2})
    return figure
