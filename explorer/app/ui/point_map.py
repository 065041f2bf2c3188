"""The WebGL point map: a Streamlit custom component (v2) over regl-scatterplot, for maps too big for plotly's
hover labels. Its frontend is ``explorer/app/ui/point_map_frontend`` (the committed bundle ``point_map.js``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from explorer.figures.point_map import PointMapData

FRONTEND = Path(__file__).parent / "point_map_frontend"
HEIGHT_PX = 640

_component = st.components.v2.component(
    "embedding_explorer.point_map",
    js=(FRONTEND / "point_map.js").read_text(encoding="utf-8"),
    css=(FRONTEND / "point_map.css").read_text(encoding="utf-8"),
)


def point_map(drawing: PointMapData, *, title: str, key: str, marks: dict | None = None,
              muted: bool = False) -> list[int]:
    """Draw the map and return the workspace rows the user selected on it (clicked or lassoed), sorted.

    ``marks`` are search results drawn on top (``PointMapData.search_marks``); ``muted`` fades the points under
    them."""
    points = pd.DataFrame({"x": drawing.positions[:, 0], "y": drawing.positions[:, 1], "c": drawing.codes})
    many = len(points) > 300_000
    data = {
        "points": points,
        "points_id": drawing.points_id,
        "positions_id": drawing.positions_id,
        "colours": drawing.colours,
        "legend": drawing.legend,
        "labels": [{"cluster": label.cluster, "text": label.text, "x": label.x, "y": label.y,
                    "size": round(label.size, 1)} for label in drawing.labels],
        "frame": dict(zip(("x0", "x1", "y0", "y1"), drawing.frame)),
        "to_data": {"cx": drawing.centre[0], "cy": drawing.centre[1], "scale": drawing.scale},
        "title": title,
        "height": HEIGHT_PX,
        "point_size": 2 if many else 3,
        "opacity": 0.25 if muted else 0.6 if many else 0.8,
        "marks": marks,
    }
    result = _component(key=key, data=data, default={"selection": None}, on_selection_change=lambda: None)
    selection = result.selection or {}
    return drawing.rows_of(selection.get("indices") or [])
