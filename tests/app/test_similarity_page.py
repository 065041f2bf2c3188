"""AppTest for the similarity page, on real workspaces."""


import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


def test_similarity_page_headlines_and_centring(small_workspace):
    at = AppTest.from_file(str(PAGES / "similarity.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception and at.title[0].value == "Similarity in tweets-400"
    raw = float(at.metric[0].value)
    assert 0 < raw < 1 and "anisotropy" in at.markdown[0].value
    figures = _plotly_figures(at)
    assert figures[0]["data"][0]["type"] == "histogram" and len(figures) == 2
    at.toggle(key="centre").set_value(True).run()
    assert not at.exception and abs(float(at.metric[0].value)) < raw
    assert "from raw" in at.metric[0].delta
    assert "random pairs, raw" in [trace["name"] for trace in _plotly_figures(at)[0]["data"]]
    at.toggle(key="ecdf").set_value(True).run()
    assert _plotly_figures(at)[0]["data"][0]["type"] == "scatter"


@pytest.mark.slow
def test_similarity_page_compares_neighbourhoods_with_another_model(small_workspace):
    at = AppTest.from_file(str(PAGES / "similarity.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    at.selectbox(key="other_model").select("wordllama-l2")
    at.button(key="compare_models").click().run()
    assert not at.exception
    kept = at.metric[-1]
    assert kept.label.startswith("Mean share of the 10 nearest neighbours kept by wordllama-l2")
    assert 0 < int(kept.value.rstrip("%")) < 100
    figure = _plotly_figures(at)[-1]
    assert figure["data"][0]["marker"]["colorbar"]["title"]["text"] == "neighbourhood change"
