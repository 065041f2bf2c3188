"""AppTest for the evaluation page, on real workspaces."""


import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


@pytest.mark.slow
def test_evaluation_page_compares_models_and_maps_a_failure():
    at = AppTest.from_file(str(PAGES / "evaluation.py"), default_timeout=TIMEOUT).run()
    assert not at.get("plotly_chart")  # nothing runs before the user picks the data
    at.radio(key="evaluation_source").set_value(
        "Example: 200 news articles, found by a sentence from late in each (hard)").run()
    assert not at.exception
    at.multiselect(key="evaluation_models").select("wordllama-l2").run()
    assert not at.exception
    summary = at.dataframe[0].value
    assert summary["model"].tolist() == ["all-MiniLM-L6-v2", "wordllama-l2"]
    assert (summary["n_queries"] == 200).all() and (summary["recall@10"] >= summary["recall@1"]).all()
    # The hard example tells the models apart: MiniLM reads only an article's first 256 tokens.
    assert summary["recall@10"].iloc[0] < summary["recall@10"].iloc[1] - 0.05
    bars = _plotly_figures(at)[0]
    assert [trace["name"] for trace in bars["data"]] == ["all-MiniLM-L6-v2", "wordllama-l2"]
    at.number_input(key="evaluation_k").set_value(1).run()
    assert not at.exception
    assert "missed a relevant document in the top 1 " in at.subheader[1].value
    figure = _plotly_figures(at)[-1]
    names = [trace["name"] for trace in figure["data"]]
    assert "results" in names and any(name.startswith("relevant document") for name in names)
