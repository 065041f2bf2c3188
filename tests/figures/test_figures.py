"""Figures: maps frame the bulk of the points when a few far outliers would squash it."""

import numpy as np
import pandas as pd
import pytest

from explorer.figures.charts import hover_texts, map_figure


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


def test_cluster_labels_sit_at_medians_biggest_first_without_overlap(tweet_vectors):
    from explorer.figures.charts import cluster_labels
    from explorer.types import ClusterKeywords

    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0.3, 0.1], [5, 8]], dtype=float)
    sizes = [300, 120, 40, 60]
    labels = np.concatenate([np.full(size, cluster) for cluster, size in enumerate(sizes)] + [np.full(50, -1)])
    coords = np.vstack([rng.normal(centre, 0.5, (size, 2)) for centre, size in zip(centres, sizes)]
                       + [rng.uniform(-2, 12, (50, 2))])
    keywords = ClusterKeywords({0: ["flu", "vaccine", "season", "extra"], 1: ["ebola"], 2: ["cancer", "drug"],
                                3: ["sleep", "stress"]})
    placed = cluster_labels(coords, labels, keywords, ranges=([-2, 12], [-2, 10]))
    assert [label.cluster for label in placed] == [0, 1, 3]  # cluster 2 sits under cluster 0's label; no noise
    assert placed[0].text == "flu, vaccine, season" and placed[0].size > placed[1].size > placed[2].size
    median = np.median(coords[labels == 0], axis=0)
    assert placed[0].y == pytest.approx(median[1])
    assert placed[0].x > median[0]  # moved right, into the frame: at the median it would be cut at x = -2
    np.testing.assert_allclose([placed[1].x, placed[1].y], np.median(coords[labels == 1], axis=0))
    assert len(cluster_labels(coords, labels, keywords, ranges=([-2, 12], [-2, 10]), max_labels=2)) == 2
    assert cluster_labels(coords, np.full(len(coords), -1), keywords) == []


def test_density_counts_every_point_even_those_not_drawn():
    from explorer.figures.charts import MAX_DRAWN, density_trace

    rng = np.random.default_rng(1)
    coords = np.vstack([rng.normal(0, 1, (MAX_DRAWN, 2)), rng.normal(8, 0.5, (20_000, 2))])
    figure = map_figure(coords, np.array(["x"] * len(coords), dtype=object), pd.Series(np.zeros(len(coords))),
                        title="t", density=True)
    shade = figure.data[0]
    assert shade.type == "heatmap" and shade.name == "density"
    from scipy.ndimage import gaussian_filter

    counts = np.expm1(np.asarray(shade.z, dtype=float))
    assert counts.sum() == pytest.approx(len(coords), rel=1e-6)  # all 120,000, though 100,000 are drawn
    expected, _, _ = np.histogram2d(coords[:, 0], coords[:, 1], bins=120)
    np.testing.assert_allclose(counts, gaussian_filter(expected, 1.5).T, rtol=1e-6, atol=1e-6)
    assert np.asarray(density_trace(coords[:10]).z).shape == (120, 120)


def test_hover_labels_made_on_demand_are_the_labels_of_those_rows(small_workspace):
    from explorer.figures.charts import HoverLabels

    points = small_workspace.points()
    names = [f"cluster {row % 7}" for row in range(len(points))]
    every = hover_texts(points, clusters=names)
    lazy = HoverLabels(points, clusters=names)
    assert len(lazy) == len(points) and lazy[17] == every[17]
    np.testing.assert_array_equal(lazy[np.array([399, 0, 5])], every[[399, 0, 5]])
    np.testing.assert_array_equal(lazy[:12], every[:12])
