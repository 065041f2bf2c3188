"""Figures: maps frame the bulk of the points when a few far outliers would squash it."""

import numpy as np
import pandas as pd

from explorer.figures import hover_texts, map_figure


def _figure(coords):
    points = pd.DataFrame({"id": np.arange(len(coords)), "chunk": 0, "text": ["t"] * len(coords)})
    return map_figure(coords, hover_texts(points), pd.Series(np.zeros(len(coords)), name="value"), title="m")


def test_far_outliers_do_not_squash_the_map():
    rng = np.random.default_rng(0)
    bulk = rng.normal(size=(1000, 2)).astype(np.float32)
    with_outliers = np.vstack([bulk, [[400.0, 400.0], [-300.0, 250.0], [350.0, -420.0]]]).astype(np.float32)
    x_range = _figure(with_outliers).layout.xaxis.range
    assert x_range is not None and -6 < x_range[0] < -2 and 2 < x_range[1] < 6
    assert _figure(bulk).layout.xaxis.range is None  # nothing far away: plotly frames all points
