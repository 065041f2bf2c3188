"""Linked charts: bars and histograms of real metadata against pandas and numpy, picks back to rows."""

import numpy as np
import pandas as pd

from explorer.analysis.search import selection_centroid
from explorer.figures.linked import chart_figure, column_chart, picked_bars


def test_category_bars_are_the_most_common_values_and_pool_the_rest(tweets):
    outlets = tweets["outlet"]
    chart = column_chart(outlets, top=5)
    expected = outlets.value_counts()
    assert chart.labels[:5].tolist() == expected.index[:5].tolist()
    assert chart.counts[:5].tolist() == expected.iloc[:5].tolist()
    assert chart.labels[5] == f"({len(expected) - 5:,} other values)" and chart.counts[5] == expected.iloc[5:].sum()
    rows = chart.rows_of([1, 3])
    np.testing.assert_array_equal(rows, np.flatnonzero(outlets.isin(expected.index[[1, 3]]).to_numpy()))


def test_numbers_become_a_histogram_matching_numpy(tweets):
    lengths = tweets["text"].str.len().astype(float).rename("length")
    lengths.iloc[:3] = np.nan  # missing numbers belong to no bar
    chart = column_chart(lengths, bins=12)
    counts, edges = np.histogram(lengths.dropna(), bins=12)
    assert chart.numeric and chart.counts.tolist() == counts.tolist()
    assert (chart.codes[:3] == -1).all() and chart.labels[0] == f"[{edges[0]:.4g}, {edges[1]:.4g})"
    chosen = chart.rows_of([0, 11])
    inside = lengths.between(edges[0], edges[1], inclusive="left") | lengths.between(edges[11], edges[12])
    np.testing.assert_array_equal(chosen, np.flatnonzero(inside.to_numpy()))


def test_selected_counts_and_picks(tweets):
    chart = column_chart(tweets["outlet"])
    rows = np.arange(0, 600, 3)
    np.testing.assert_array_equal(chart.counts_of(rows),
                                  tweets["outlet"].iloc[rows].value_counts().reindex(chart.labels, fill_value=0))
    assert picked_bars([{"customdata": 4}, {"customdata": [1]}, {"x": 3}]) == [1, 4]
    figure = chart_figure(chart, chart.counts_of(rows), picked=[1])
    assert [trace.name for trace in figure.data] == ["all points", "selected"]
    assert figure.data[0].marker.line.width[1] > 0 and figure.data[0].marker.line.width[0] == 0


def test_a_user_value_in_a_bar_label_is_escaped():
    chart = column_chart(pd.Series(["<img src=x onerror=alert(1)>", "plain"], name="<b>note</b>"))
    figure = chart_figure(chart, None)
    assert "&lt;img" in figure.data[0].y[0] and figure.layout.title.text == "&lt;b&gt;note&lt;/b&gt;"


def test_selection_centroid_is_the_mean_unit_vector(tweet_vectors):
    vectors = tweet_vectors.vectors * 3.0
    rows = [1, 5, 9]
    unit = vectors[rows] / np.linalg.norm(vectors[rows], axis=1, keepdims=True)
    np.testing.assert_allclose(selection_centroid(vectors, rows, "cosine")[0], unit.mean(axis=0), atol=1e-7)
    np.testing.assert_allclose(selection_centroid(vectors, rows, "dot")[0], vectors[rows].mean(axis=0), atol=1e-6)
