"""AppTest for the new data page, on real workspaces."""


import numpy as np
import pytest

from .helpers import _new_data_page, _plotly_figures


@pytest.mark.slow
def test_new_data_page_coverage_and_drift_of_the_example(small_workspace, minilm):
    import pandas as pd

    from explorer.analysis.coverage import query_coverage
    from explorer.analysis.drift import batch_drift
    from explorer.analysis.placement import place_texts
    from explorer.build.sample import new_texts_file

    at = _new_data_page(small_workspace.path)
    assert not at.exception and at.title[0].value == "New data on the map of tweets-400"
    at.radio(key="new_data_source").set_value(at.radio(key="new_data_source").options[1]).run()
    assert not at.exception
    example = pd.read_csv(new_texts_file())
    expected = query_coverage(small_workspace, place_texts(small_workspace, example["text"].tolist(), minilm,
                                                           queries=True))
    assert at.metric[0].value == "200"
    assert at.metric[1].value == f"{int((~expected.answered()).sum()):,}"
    assert at.metric[2].value == f"{len(expected.uncovered()):,} of {len(expected.clusters):,}"
    names = {trace["name"] for trace in _plotly_figures(at)[0]["data"]}
    assert {"query with a relevant document", "query with no document above the line"} & names
    queries = at.dataframe[1].value
    assert len(queries) == 200 and not queries["answered"].iloc[0]

    at.radio(key="new_data_kind").set_value("A new batch of documents (drift)").run()
    assert not at.exception
    drift = batch_drift(small_workspace, place_texts(small_workspace, example["text"].tolist(), minilm,
                                                     queries=False))
    assert at.metric[1].value == f"{int((drift.novelty > 95).sum()):,}"
    headlines = example["kind"].eq("world-news headline").to_numpy()
    assert np.median(drift.novelty[headlines]) > np.median(drift.novelty[~headlines])
    drift_map = _plotly_figures(at)[0]
    assert drift_map["data"][-1]["name"] == "new documents"
    most_novel = at.dataframe[0].value["text"].head(5)
    assert most_novel.isin(example.loc[headlines, "text"]).sum() >= 4


def test_new_data_page_explains_a_workspace_without_a_model(tweets, tweet_vectors, tmp_path):

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    workspace = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), tmp_path / "vectors",
                                source="test", vectors=np.asarray(tweet_vectors.vectors))
    at = _new_data_page(workspace.path)
    at.radio(key="new_data_source").set_value(at.radio(key="new_data_source").options[1]).run()
    assert not at.exception and "built from uploaded vectors" in at.error[0].value
