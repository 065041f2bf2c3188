"""AppTest for the audit page, on real workspaces."""


import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


@pytest.mark.slow
def test_audit_page_on_the_example_pairs():
    at = AppTest.from_file(str(PAGES / "audit.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    at.radio(key="pairs_source").set_value("Example: 500 STS-B pairs (graded 0-5)").run()
    assert not at.exception
    labels = [metric.label for metric in at.metric]
    assert labels[0] == "ROC AUC" and 0.8 < float(at.metric[0].value) <= 1
    assert float(at.metric[4].value) > 0.7  # Spearman on graded scores
    at.slider(key="audit_threshold").set_value(0.5).run()
    assert not at.exception and at.metric[1].label == "Relevant ≥ 0.50"
    assert "wrong side of 0.50" in at.subheader[0].value
    at.multiselect(key="audit_models").select("wordllama-l2").run()
    assert not at.exception
    # Switching to Upload (no file yet) and back keeps the controls and the figures in one state.
    at.radio(key="pairs_source").set_value("Upload a pairs file").run()
    assert at.slider(key="audit_threshold").value == 0.5
    assert at.multiselect(key="audit_models").value == ["all-MiniLM-L6-v2", "wordllama-l2"]
    at.radio(key="pairs_source").set_value("Example: 500 STS-B pairs (graded 0-5)").run()
    assert at.metric[1].label == "Relevant ≥ 0.50" and at.slider(key="audit_threshold").value == 0.5
    comparison = at.dataframe[0].value
    assert comparison["model"].tolist() == ["all-MiniLM-L6-v2", "wordllama-l2"]
    assert comparison["auc"].iloc[0] > comparison["auc"].iloc[1]  # MiniLM beats static word vectors on STS
    assert len(_plotly_figures(at)[0]["data"]) == 4


@pytest.mark.slow
def test_the_audit_page_measures_your_own_server_beside_a_bundled_model_and_says_what_it_measured(monkeypatch):
    from explorer.embedding.loading import load_encoder

    from ..embedding.serving import embeddings_server

    exact = load_encoder("all-MiniLM-L6-v2", backend="torch")
    with embeddings_server(exact.encode) as (_, url):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        at = AppTest.from_file(str(PAGES / "audit.py"), default_timeout=TIMEOUT)
        at.session_state["pairs_source"] = "Example: 500 STS-B pairs (graded 0-5)"
        at.run()
        at.text_input(key="audit_models own").set_value("openai:all-minilm").run()
    assert not at.exception
    comparison = at.dataframe[0].value
    assert comparison["model"].tolist() == ["all-MiniLM-L6-v2", "openai:all-minilm"]
    assert comparison["auc"].iloc[0] == pytest.approx(comparison["auc"].iloc[1], abs=0.01)  # the same model, served
    said = " ".join(caption.value for caption in at.caption).replace("\\", "")
    assert "sentence-transformers on PyTorch" in said and "openai:all-minilm@sha256:" in said
    at.text_input(key="audit_models own").set_value("/no/such/model").run()
    assert not at.exception and "is not a folder" in at.error[0].value
