"""AppTest for the chunk lab page, on real workspaces."""


import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import PAGES
from .helpers import TIMEOUT, _plotly_figures


def test_chunk_lab_page_compares_settings_on_the_example_and_explains_bad_settings():
    from explorer.audits.chunk_lab import chunk_lab, parse_settings, read_documents
    from explorer.build.sample import news_retrieval_example
    from explorer.embedding.loading import load_encoder

    at = AppTest.from_file(str(PAGES / "chunk_lab.py"), default_timeout=TIMEOUT)
    at.session_state["lab_model"] = "tfidf-svd"  # fits in milliseconds: the fast tier loads no model
    at.session_state["lab_settings"] = "off,256:32"
    at.session_state["lab_source"] = "Example: 200 news articles, queries their titles"
    at.run()
    assert not at.exception and not at.dataframe  # nothing long starts before the user asks
    at.button(key="lab_run").click().run()
    assert not at.exception
    corpus, queries = news_retrieval_example("title")
    expected = chunk_lab(read_documents(corpus, text_column="text", id_column="doc_id"), parse_settings("off,256:32"),
                         load_encoder("tfidf-svd"), queries=queries)
    table = at.dataframe[0].value
    assert table["setting"].tolist() == ["whole texts", "256 tokens, 32 overlap"]
    assert table["recall@10"].tolist() == pytest.approx(expected.table["recall@10"].tolist())
    assert at.info[0].value.replace("\\", "") == expected.recommendation()
    assert len(_plotly_figures(at)) == 2
    at.text_input(key="lab_settings").set_value("off,64:64").run()
    assert not at.exception and "must be smaller than the chunk size" in at.error[0].value
