"""The notebook path (explorer.api) on real tweets, each answer checked against the library call it wraps."""

import logging

import numpy as np
import pandas as pd
import pytest

import explorer.api as ex
from explorer.errors import InputError


@pytest.fixture(scope="module")
def built(tweets):
    return ex.build(tweets.head(300), text_column="text", name="api-tweets", metadata=("outlet",),
                    model="tfidf-svd")


def test_a_dataframe_becomes_a_workspace_the_app_opens(built, tweets):
    assert built.manifest.n_points == 300 and built.manifest.model == "tfidf-svd"
    assert ex.open_workspace("api-tweets").path == built.path
    with pytest.raises(InputError, match="already exists"):
        ex.build(tweets.head(300), text_column="text", name="api-tweets", model="tfidf-svd")
    with pytest.raises(InputError, match="No workspace named"):
        ex.open_workspace("no-such-workspace")


def test_search_neighbours_duplicates_outliers_and_clusters(built, caplog):
    caplog.set_level(logging.DEBUG)
    found = ex.search(built, "ebola outbreak", k=5, mode="hybrid")
    assert found["rank"].tolist() == [1, 2, 3, 4, 5] and {"vector_rank", "keyword_rank", "text"} <= set(found)
    assert not [record for record in caplog.records if record.name.startswith("bm25s")]  # no DEBUG in the log
    near = ex.neighbours(built, 0, k=5)
    vectors = built.embeddings().vectors
    expected = np.sort(vectors[1:] @ vectors[0])[::-1][:5]
    np.testing.assert_allclose(near["cosine"].to_numpy(), expected, atol=1e-5)
    with pytest.raises(InputError, match="No point has the id"):
        ex.neighbours(built, "nope")
    pairs = ex.duplicates(built, threshold=0.9)
    assert (pairs["score"] >= 0.9).all() if len(pairs) else True
    assert len(ex.outliers(built, top=7)) == 7
    table = ex.clusters(built)
    labels = built.clustering().clustering.labels
    assert table["size"].sum() == 300 and table["size"].is_monotonic_decreasing
    assert dict(zip(table["cluster"], table["size"])) == pd.Series(labels).value_counts().to_dict()


def test_the_map_is_a_plotly_figure_coloured_as_asked(built):
    by_outlet = ex.map_figure(built, color_by="outlet")
    assert type(by_outlet).__name__ == "Figure" and sum(len(trace.x) for trace in by_outlet.data) == 300
    assert ex.map_figure(built).data
    with pytest.raises(InputError, match="Colour by"):
        ex.map_figure(built, color_by="nope")


def test_audit_pairs_gives_the_summary_of_the_calibration_audit():
    from explorer.build.sample import sts_pairs_file

    summary = ex.audit_pairs(pd.read_csv(sts_pairs_file()), model="tfidf-svd")
    assert summary["n_pairs"] == 500 and 0.5 < summary["auc"] <= 1
