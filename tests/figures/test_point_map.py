"""The WebGL point map's drawing: every point once, compact codes, legend, names, and the selection's rows."""

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter

from explorer.figures.charts import OTHER_VALUES
from explorer.figures.point_map import MAX_NAMES, SHADES, point_map_data


def _big_map(small_workspace, copies=300):
    """The 400-point workspace's layout copied with a little noise (120,000 points), its labels alike."""
    rng = np.random.default_rng(3)
    base = small_workspace.layout(2)
    coords = np.vstack([base + rng.normal(0, 0.05, base.shape) for _ in range(copies)])
    labels = np.tile(small_workspace.clustering().clustering.labels, copies)
    return coords, labels, small_workspace.clustering().keywords


def test_every_point_is_drawn_once_with_its_cluster_code_and_noise_beneath(small_workspace):
    coords, labels, keywords = _big_map(small_workspace)
    drawing = point_map_data(coords, pd.Series(labels, name="cluster"), keywords=keywords)
    assert drawing.positions.dtype == np.float32 and drawing.codes.dtype == np.uint16
    np.testing.assert_array_equal(np.sort(drawing.rows), np.arange(len(coords)))  # every point, once
    np.testing.assert_allclose(drawing.positions * drawing.scale + drawing.centre, coords[drawing.rows], atol=1e-4)
    clusters = sorted(set(labels[labels >= 0].tolist()))
    names = [item["name"] for item in drawing.legend["items"]]
    assert names == [keywords.name(c) for c in clusters] + ["Unclustered"]  # noise last in the legend
    code_of = {cluster: position for position, cluster in enumerate(clusters + [-1])}
    np.testing.assert_array_equal(drawing.codes, [code_of[label] for label in labels[drawing.rows]])
    assert [item["count"] for item in drawing.legend["items"]] == [int((labels == c).sum()) for c in clusters + [-1]]
    noise = labels[drawing.rows] == -1
    assert noise[: noise.sum()].all()  # grey points drawn first, beneath the clusters
    assert drawing.legend["items"][-1]["colour"] == "#d0d0d0"  # the grey blended onto white
    assert 10 <= drawing.positions.nbytes / len(coords) + drawing.codes.nbytes / len(coords) <= 16
    # The bulk of the map is the first view, within [-1, 1].
    x0, x1, y0, y1 = drawing.frame
    assert -1 - 1e-6 <= min(x0, y0) and max(x1, y1) <= 1 + 1e-6 and max(x1 - x0, y1 - y0) > 1.99


def test_cluster_names_biggest_first_at_their_medians(small_workspace):
    coords, labels, keywords = _big_map(small_workspace)
    drawing = point_map_data(coords, pd.Series(labels), keywords=keywords)
    sizes = {c: int((labels == c).sum()) for c in set(labels.tolist()) if c >= 0}
    named = [c for c in sizes if keywords.keywords.get(c)]
    assert [label.cluster for label in drawing.labels] == sorted(named, key=lambda c: -sizes[c])[:MAX_NAMES]
    first = drawing.labels[0]
    median = np.median(coords[labels == first.cluster], axis=0)
    np.testing.assert_allclose([first.x, first.y], (median - drawing.centre) / drawing.scale, atol=1e-6)
    assert first.text == ", ".join(keywords.keywords[first.cluster][:3])
    assert first.size == max(label.size for label in drawing.labels)
    assert point_map_data(coords, pd.Series(labels), keywords=keywords, names=False).labels == []
    assert point_map_data(coords, pd.Series(labels, name="x")).labels == []  # no keywords, no names


def test_numbers_are_two_byte_shades_between_their_ends(small_workspace):
    coords = np.tile(small_workspace.layout(2), (300, 1))
    scores = np.random.default_rng(0).gamma(2.0, 1.0, len(coords))
    scores[5] = np.nan
    drawing = point_map_data(coords, pd.Series(scores, name="outlier score"))
    legend = drawing.legend
    assert legend["kind"] == "scale" and legend["title"] == "outlier score" and len(drawing.colours) == 256
    assert legend["low"] == np.nanmin(scores) and np.isclose(legend["high"], np.nanmax(scores))
    shown = legend["low"] + drawing.codes / SHADES * (legend["high"] - legend["low"])
    expected = np.nan_to_num(scores, nan=np.nanmin(scores))[drawing.rows]
    np.testing.assert_allclose(shown, expected, atol=(legend["high"] - legend["low"]) / SHADES)


def test_density_colours_each_point_by_the_smoothed_count_around_it_densest_last():
    rng = np.random.default_rng(1)
    coords = np.vstack([rng.normal(0, 0.3, (20_000, 2)), rng.uniform(-5, 5, (2_000, 2))])
    every = np.arange(len(coords))
    drawing = point_map_data(coords, pd.Series(np.zeros(len(coords))), rows=every[::2], density=True)
    assert drawing.legend["kind"] == "scale" and drawing.labels == []
    assert np.all(np.diff(drawing.codes.astype(int)) >= 0)  # densest drawn last, on top
    # Independently: the smoothed 120 x 120 histogram of every point (also those not drawn), at each drawn point.
    counts, x_edges, y_edges = np.histogram2d(coords[:, 0], coords[:, 1], bins=120)
    shade = np.log1p(gaussian_filter(counts, 1.5))
    cells = [np.clip(np.digitize(coords[drawing.rows, axis], edges) - 1, 0, 119)
             for axis, edges in enumerate((x_edges, y_edges))]
    expected = shade[cells[0], cells[1]]
    span = expected.max() - expected.min()
    np.testing.assert_allclose(drawing.codes / SHADES, (expected - expected.min()) / span, atol=2 / SHADES)


def test_highlighted_values_keep_their_colour_and_the_rest_are_grey_under_their_new_name():
    values = pd.Series(np.array(["a", "b", "c", "d"] * 50), name="source")
    coords = np.random.default_rng(0).normal(size=(200, 2))
    drawing = point_map_data(coords, values, highlight=["c", "a"]).with_category_renamed(OTHER_VALUES, "rest")
    assert [item["name"] for item in drawing.legend["items"]] == ["c", "a", "rest"]
    assert [item["count"] for item in drawing.legend["items"]] == [50, 50, 100]
    assert (drawing.codes[:100] == 2).all()  # the grey rest first


def test_a_selection_of_drawn_points_gives_their_workspace_rows():
    coords = np.random.default_rng(0).normal(size=(1_000, 2))
    rows = np.arange(0, 1_000, 3)
    drawing = point_map_data(coords, pd.Series(np.arange(1_000) % 5), rows=rows)
    assert drawing.rows_of([0, 1, 1, 10_000, -1]) == sorted({int(drawing.rows[0]), int(drawing.rows[1])})
    assert set(drawing.rows.tolist()) == set(rows.tolist())
    assert drawing.points_id != point_map_data(coords, pd.Series(np.arange(1_000) % 4), rows=rows).points_id
    assert drawing.positions_id == point_map_data(coords, pd.Series(np.arange(1_000) % 4), rows=rows).positions_id
