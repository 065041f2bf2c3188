"""AppTest for the teach page, on real workspaces."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.ui.state import WORKSPACE

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


@pytest.mark.slow
def test_teaching_page_runs_every_demo_with_its_presets(small_workspace):

    from explorer.embedding.loading import load_encoder

    at = AppTest.from_file(str(PAGES / "teach.py"), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(small_workspace.path)
    at.run()
    assert not at.exception and at.title[0].value == "Teaching mode"
    # 1. cosine by hand: the formula's numbers are numpy's
    minilm = load_encoder("all-MiniLM-L6-v2")
    vectors = minilm.encode(["The cat sits on the mat.", "A kitten is resting on a rug."]).astype(np.float64)
    cosine = vectors[0] @ vectors[1] / np.linalg.norm(vectors[0]) / np.linalg.norm(vectors[1])
    assert f"= {cosine:.4f}" in at.latex[0].value
    # 2. meaning vs words: the paraphrase only the embedding finds
    assert any("Only the embedding finds “Top computer for coding”" in box.value for box in at.success)
    # 3. vector arithmetic
    assert any("The analogy holds" in box.value and "queen" in box.value for box in at.success)
    # 5. pitfalls: the index guard's own message
    assert any("Embed the query with 'all-MiniLM-L6-v2'" in box.value for box in at.error)
    # 4 and 6: the axis map and three UMAP maps with their trustworthiness
    titles = [figure["layout"]["title"]["text"] for figure in _plotly_figures(at)]
    assert "The map coloured by position on the axis" in titles
    assert sum(title.startswith("n_neighbors") for title in titles) == 3
    assert sum(metric.label == "Trustworthiness" for metric in at.metric) == 3
    at.text_input(key="analogy_expected").set_value("bread").run()
    assert any("does not hold" in box.value for box in at.warning)
