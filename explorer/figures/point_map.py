"""The map as the WebGL point map draws it (``explorer/app/ui/point_map.py``): every point's position, one 2-byte
colour code per point, the legend and the cluster names, with no text per point (no Streamlit here).

The browser gets float32 positions and uint16 codes (10 bytes a point); what a point says is read on the server
when it is selected (:meth:`PointMapData.rows_of`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from plotly.colors import sample_colorscale

from explorer.figures.charts import (
    NOISE_COLOUR,
    MapLabel,
    bulk_range,
    category_codes,
    category_colour,
    cluster_names,
    density_grid,
    drawn_rows,
    on_a_scale,
)
from explorer.types import ClusterKeywords

MAX_POINTS = 1_000_000
"""The most points the point map draws (a fixed random sample above it)."""
SHADES = 65_535
"""A number's colour code: its place between the minimum and the maximum in 65,536 steps."""
SCALE_STEPS = 256
MAX_NAMES = 300
"""The cluster names sent to the browser, biggest first; it shows those that fit at the current zoom."""
DENSITY_TITLE = "Points nearby (log scale)"


@dataclass(frozen=True)
class PointMapData:
    """One drawing of the map.

    Attributes:
        positions: (m, 2) float32 drawn points, ``(coords - centre) / scale``: the map's bulk within [-1, 1].
        codes: (m,) uint16 each point's category (its index in ``legend["items"]``) or, on a scale, its shade
            (0 at ``legend["low"]``, SHADES at ``legend["high"]``).
        rows: (m,) int64 the workspace row of each drawn point, in drawing order (grey points first, beneath).
        colours: the ``#rrggbb`` colour of each category, or SCALE_STEPS colours from low to high.
        legend: ``{"kind": "categories", "title", "items": [{"name", "colour", "count"}]}`` or
            ``{"kind": "scale", "title", "low", "high", "colours"}``.
        labels: cluster names in position units, biggest first (at most MAX_NAMES).
        frame: (x0, x1, y0, y1) the bulk of the map in position units, the first view.
        centre: (2,) and scale: position units back to the layout's.
    """

    positions: np.ndarray
    codes: np.ndarray
    rows: np.ndarray
    colours: list[str]
    legend: dict
    labels: list[MapLabel]
    frame: tuple[float, float, float, float]
    centre: tuple[float, float]
    scale: float

    def rows_of(self, indices: list[int]) -> list[int]:
        """The workspace rows of drawn points given by their drawing index, sorted."""
        drawn = np.asarray([index for index in indices if 0 <= index < len(self.rows)], dtype=np.int64)
        return sorted(set(self.rows[drawn].tolist()))

    def with_category_renamed(self, old: str, new: str) -> PointMapData:
        """The same drawing with the legend's category ``old`` called ``new``."""
        items = [{**item, "name": new if item["name"] == old else item["name"]}
                 for item in self.legend.get("items", [])]
        return replace(self, legend={**self.legend, "items": items} if items else self.legend)

    def search_marks(self, hits: np.ndarray, origin: np.ndarray | None, origin_label: str) -> dict:
        """Search results to draw on this map: the results' (k, 2) and the query's (2,) layout positions (None when
        the query has no place on the map) in the drawing's units, best result first."""
        hits = (np.asarray(hits, dtype=np.float64).reshape(-1, 2) - self.centre) / self.scale
        placed = None if origin is None else ((np.asarray(origin, dtype=np.float64) - self.centre) / self.scale)
        return {"hits": hits.tolist(), "origin": None if placed is None else placed.tolist(),
                "origin_label": origin_label}

    @property
    def positions_id(self) -> str:
        """Changes when the positions do: the browser keeps its spatial index and view while it does not."""
        return _digest(self.positions)

    @property
    def points_id(self) -> str:
        """Changes when anything drawn per point does."""
        return _digest(self.positions, self.codes)


def point_map_data(coords: np.ndarray, colour: pd.Series, *, keywords: ClusterKeywords | None = None,
                   rows: np.ndarray | None = None, highlight: list[str] | None = None, density: bool = False,
                   names: bool = True) -> PointMapData:
    """The drawing of a 2-D map coloured by ``colour``.

    Args:
        coords: (n, 2) layout.
        colour: (n,) values to colour by; cluster ids when ``keywords`` is given.
        rows: which rows to draw (default: all, a fixed random sample above MAX_POINTS).
        highlight: category values to colour, every other value grey (``figures.OTHER_VALUES``).
        density: colour every point by how many points lie around it (over every point of ``coords``, not only the
            drawn ones) instead, densest drawn last.
        names: send the clusters' names (with ``keywords``).
    """
    rows = drawn_rows(len(coords), limit=MAX_POINTS) if rows is None else np.asarray(rows, dtype=np.int64)
    drawn = coords[rows, :2].astype(np.float64)
    values = colour.to_numpy()[rows]
    if density:
        shade = density_grid(coords[:, :2]).at(drawn)
        codes, colours, legend = _scale_codes(shade, DENSITY_TITLE, "Blues")
        order = np.argsort(codes, kind="stable")
    elif on_a_scale(colour, keywords):
        codes, colours, legend = _scale_codes(values.astype(np.float64), str(colour.name), "Viridis")
        order = np.arange(len(rows))
    else:
        category_names, codes = category_codes(values, keywords, highlight)
        colours = [_hex(category_colour(name, position)) for position, name in enumerate(category_names)]
        counts = np.bincount(codes, minlength=len(category_names))
        legend = {"kind": "categories", "title": str(colour.name), "items": [
            {"name": name, "colour": colours[position], "count": int(counts[position])}
            for position, name in enumerate(category_names)]}
        grey = np.array([category_colour(name, 0) == NOISE_COLOUR for name in category_names])
        order = np.argsort(~grey[codes], kind="stable")  # grey points first, beneath the others
        codes = codes.astype(np.uint16)
    x_range = bulk_range(drawn[:, 0]) or [float(drawn[:, 0].min()), float(drawn[:, 0].max())]
    y_range = bulk_range(drawn[:, 1]) or [float(drawn[:, 1].min()), float(drawn[:, 1].max())]
    centre = ((x_range[0] + x_range[1]) / 2, (y_range[0] + y_range[1]) / 2)
    scale = max(x_range[1] - x_range[0], y_range[1] - y_range[0], 1e-9) / 2
    positions = ((drawn - centre) / scale).astype(np.float32)
    labels = []
    if names and keywords is not None and not density:
        labels = [MapLabel(label.cluster, label.text, (label.x - centre[0]) / scale, (label.y - centre[1]) / scale,
                           label.size)
                  for label in cluster_names(drawn, np.asarray(values, dtype=np.int64), keywords, limit=MAX_NAMES)]
    frame = ((x_range[0] - centre[0]) / scale, (x_range[1] - centre[0]) / scale,
             (y_range[0] - centre[1]) / scale, (y_range[1] - centre[1]) / scale)
    return PointMapData(positions=positions[order], codes=codes[order], rows=rows[order], colours=colours,
                        legend=legend, labels=labels, frame=frame, centre=centre, scale=scale)


def _scale_codes(values: np.ndarray, title: str, colour_scale: str) -> tuple[np.ndarray, list[str], dict]:
    """Numbers as 2-byte shades between their minimum and maximum (missing ones at the minimum), the colours of
    SCALE_STEPS steps along ``colour_scale`` and the legend saying what the ends stand for."""
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    span = (high - low) or 1.0
    codes = np.round((np.nan_to_num(values, nan=low) - low) / span * SHADES).astype(np.uint16)
    colours = [_hex(colour) for colour in sample_colorscale(colour_scale, np.linspace(0, 1, SCALE_STEPS))]
    return codes, colours, {"kind": "scale", "title": title, "low": low, "high": low + span, "colours": colours}


def _hex(colour: str) -> str:
    """``#rrggbb`` of a plotly colour (``#rrggbb``, ``rgb(...)`` or ``rgba(...)``): regl-scatterplot draws every
    point with the map's one opacity, so a colour's own alpha is blended onto the white background here."""
    if colour.startswith("#"):
        return colour
    parts = [float(part) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")]
    alpha = parts[3] if len(parts) == 4 else 1.0
    return "#" + "".join(f"{round(alpha * channel + (1 - alpha) * 255):02x}" for channel in parts[:3])


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).view(np.uint8))
    return digest.hexdigest()

